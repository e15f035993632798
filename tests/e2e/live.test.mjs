// The page's live view against `wrangler dev`: the "Live" toggle subscribes with the page's
// filter and shows exactly the matching events committed after it was turned on; it resumes
// without gap or repeat when the Worker restarts under it; a `dropped` notice shows a
// banner and what was dropped is read again; a new filter re-subscribes; turning it off
// disconnects. Events are ingested from Node while the page is live. Each check ends with a
// sentinel event the filter matches: events arrive in commit order, so once the sentinel
// is shown everything committed before it has been (or never will be).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { noWorker as skip, startOnline, connectOnline, stopOnline, resultCount, screenshotPath, typeQuery } from './helpers.mjs';

// An SSE subscriber may have this many events waiting; more at once makes a `dropped` notice.
const BUFFER = 20;

let h, w, browser, s, tokens, tokensConfig, keys;
let next = 10_000; // event numbers, unique across the run

before(async () => {
  if (skip) return;
  ({ h, w, browser, s, tokens, tokensConfig, keys } = await startOnline({ vars: { TAIL_BUFFER_EVENTS: String(BUFFER) } }));
  // Stored before the page connects: listed, never sent live.
  await ingest(Array.from({ length: 60 }, (_, i) => h.event('acct_a', i)));
  await connectOnline(s.page, tokens.aAll);
}, { timeout: 900_000 });

after(() => stopOnline({ s, browser, w }));

async function ingest(events) {
  return (await h.ingest(w.url, tokens.aAll, events)).json;
}

// `n` events with current times (newest last), `over(i)` overriding fields; each has its own
// resource identifier `res-<i>`, which the table shows.
function fresh(n, over = () => ({})) {
  const now = Date.now();
  return Array.from({ length: n }, (_, k) => {
    const i = next++;
    return h.event('acct_a', i, { auditEventTime: String(now - (n - k)), ...over(i) });
  });
}
const resourceOf = (e) => `${e.auditResource.type} ${e.auditResource.identifier}`;

const liveRows = (page) => page.evaluate(() => window.__trailsift.liveRows);
const liveStats = (page) => page.evaluate(() => ({ ...window.__trailsift.live }));
const waitState = (page, state) => page.waitForFunction((st) => document.getElementById('live-state').dataset.state === st, state, { timeout: 600_000 });

// Commits one event the filter matches (`over` makes it match) and waits until the page has
// shown it: what was committed before it has then all arrived.
async function sentinel(page, over) {
  const [e] = fresh(1, () => ({ auditResource: { type: 'SECRET', identifier: `sentinel-${next}` }, ...over }));
  await ingest([e]);
  await page.waitForFunction((r) => [...document.querySelectorAll('#spacer .c-resource')].some((c) => c.textContent === r),
    resourceOf(e), { timeout: 120_000 });
  return e;
}

// The resources of the first `n` rows of the table (newest first).
async function topResources(page, n) {
  await page.getByTestId('results-viewport').evaluate((v) => { v.scrollTop = 0; });
  return page.evaluate((k) => [...document.querySelectorAll('#spacer .tr')]
    .sort((a, b) => Number(a.dataset.row) - Number(b.dataset.row)).slice(0, k)
    .map((r) => r.querySelector('.c-resource').textContent), n);
}

async function serverStats(q, by) {
  const u = new URL(`${w.url}/v1/stats`);
  for (const [k, v] of Object.entries({ q, by, from: 'now-7d', to: 'now' })) u.searchParams.set(k, v);
  const r = await h.call(u.toString(), tokens.aAll);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function subscribers() {
  return (await h.call(`${w.url}/v1/stats`, tokens.aAll)).json.subscribers;
}

test('the live view shows exactly the matching events committed after it was turned on', { skip }, async () => {
  const { page } = s;
  await typeQuery(page, 'action:CREATE');
  const before = await resultCount(page);
  const toggle = page.getByTestId('live-toggle');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await toggle.focus();
  await page.keyboard.press('Enter');
  await waitState(page, 'live');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');

  const batch = fresh(40); // actions cycle through CREATE, UPDATE, DELETE, LOGIN
  const matching = batch.filter((e) => e.auditAction === 'CREATE');
  await ingest(batch);
  const last = await sentinel(page, { auditAction: 'CREATE' });
  assert.equal(await liveRows(page), matching.length + 1, 'every matching event once, no other');
  assert.equal(await resultCount(page), before + matching.length + 1, 'the count takes them in');
  assert.deepEqual(await topResources(page, matching.length + 1), [resourceOf(last), ...matching.map(resourceOf).reverse()],
    'the new events are at the top, newest first');
  // Count and facets as the server counts the same filter now.
  const server = await serverStats('action:CREATE', 'user');
  assert.equal(await resultCount(page), server.total);
  const shown = await page.evaluate(() => [...document.querySelectorAll('[data-facet=user]')]
    .map((b) => [b.querySelector('.facet-name').textContent, Number(b.querySelector('.facet-count').textContent.replace(/\D/g, ''))]));
  assert.deepEqual(Object.fromEntries(shown), Object.fromEntries(server.counts.map((c) => [c.value ?? c.key, c.count])));
  const shot = screenshotPath('live');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);
});

test('after the Worker restarts the live view resumes from the last event: no gap, no repeat', { skip }, async () => {
  const { page } = s;
  const rows0 = await liveRows(page);
  const count0 = await resultCount(page);
  const before = fresh(8);
  await ingest(before);
  await sentinel(page, { auditAction: 'CREATE' });
  const { received } = await liveStats(page);

  // The page gets no ticket until the events below are committed, so that it resumes
  // after them: they come from storage, the rest live.
  const tickets = (route) => route.abort();
  await page.route('**/v1/stream/tickets', tickets);
  await w.stop();
  await waitState(page, 'reconnecting');
  w = await h.startWorker({ tokensConfig, vars: { TAIL_BUFFER_EVENTS: String(BUFFER) }, persist: w.dir, port: w.port, ...keys });
  const during = fresh(12);
  await ingest(during);
  await page.unroute('**/v1/stream/tickets', tickets);
  const last = await sentinel(page, { auditAction: 'CREATE' });
  await waitState(page, 'live');

  // The matching events and the two sentinels.
  const expected = [...before, ...during].filter((e) => e.auditAction === 'CREATE').length + 2;
  assert.equal(await liveRows(page) - rows0, expected, 'each matching event once across the restart');
  assert.equal(await resultCount(page), count0 + expected);
  const stats = await liveStats(page);
  assert.ok(stats.resumedAfter.length >= 1, 'it subscribed again after the last event received');
  assert.ok(stats.received > received);
  const top = await topResources(page, 8);
  assert.equal(top[0], resourceOf(last));
  assert.equal(new Set(top).size, top.length, 'no row twice');
});

test('a dropped notice shows a banner and the dropped events are read again', { skip }, async () => {
  const { page } = s;
  const rows0 = await liveRows(page);
  const burst = fresh(BUFFER * 10, () => ({ auditAction: 'CREATE' }));
  await ingest(burst);
  const banner = page.getByTestId('live-banner');
  await banner.waitFor({ state: 'visible', timeout: 120_000 });
  assert.equal(await banner.getAttribute('role'), 'alert');
  assert.match(await banner.textContent(), /dropped \d+ live events/);
  await sentinel(page, { auditAction: 'CREATE' });
  assert.equal(await liveRows(page) - rows0, burst.length + 1, 'after the notice the page read what was dropped, once');
  const stats = await liveStats(page);
  assert.ok(stats.resumedAfter.length >= 2, 'it resumed after the notice');
  const shot = screenshotPath('live-dropped');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);
  await page.getByRole('button', { name: 'Dismiss the notice' }).press('Enter');
  assert.equal(await banner.isVisible(), false);
});

test('a new filter re-subscribes with it', { skip }, async () => {
  const { page } = s;
  const connections = (await liveStats(page)).connections;
  await typeQuery(page, 'action:UPDATE');
  await waitState(page, 'live');
  assert.ok((await liveStats(page)).connections > connections);
  const rows0 = await liveRows(page);
  const batch = fresh(20);
  await ingest(batch);
  await sentinel(page, { auditAction: 'UPDATE' });
  assert.equal(await liveRows(page) - rows0, batch.filter((e) => e.auditAction === 'UPDATE').length + 1);
  const top = await topResources(page, 6);
  assert.deepEqual(top.slice(1), batch.filter((e) => e.auditAction === 'UPDATE').map(resourceOf).reverse());
});

test('turning the live view off disconnects', { skip }, async () => {
  const { page } = s;
  await page.getByTestId('live-toggle').press('Enter');
  await waitState(page, 'off');
  assert.equal(await page.getByTestId('live-toggle').getAttribute('aria-pressed'), 'false');
  const rows0 = await liveRows(page);
  const count0 = await resultCount(page);
  // The Worker notices a closed stream when it next writes to it: matching events do that.
  let gone = false;
  for (let i = 0; i < 300 && !gone; i++) {
    await ingest(fresh(1, () => ({ auditAction: 'UPDATE' })));
    gone = (await subscribers()) === 0;
    if (!gone) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(gone, 'the Worker has no subscriber left');
  assert.equal(await liveRows(page), rows0, 'nothing arrived after the toggle was turned off');
  assert.equal(await resultCount(page), count0);
});
