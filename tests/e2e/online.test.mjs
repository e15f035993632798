// The page in online mode, served by the Worker itself at `/` (wrangler dev, assets from www/
// with the package copied in): it fills in its own URL, queries /v1/events and /v1/stats with the form's
// filter, saves filters through /v1/filters and downloads exports from the server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { noWorker as skip, HARNESS, launch, openPage, resultCount, screenshotPath, afterRun, download } from './helpers.mjs';

let h, worker, browser, tokens;

before(async () => {
  if (skip) return;
  h = await import(HARNESS);
  const t = h.makeTokens();
  tokens = t.tokens;
  worker = await h.startWorker({ tokensConfig: t.config });
  await h.ingest(worker.url, tokens.aAll, Array.from({ length: 700 }, (_, i) => h.event('acct_a', i)));
  browser = await launch();
}, { timeout: 900_000 });

after(async () => {
  if (browser) await browser.close();
  if (worker) { await worker.stop(); worker.cleanup(); }
});

async function serverTotal(q) {
  const u = new URL(`${worker.url}/v1/stats`);
  u.searchParams.set('q', q);
  u.searchParams.set('from', 'now-7d');
  u.searchParams.set('to', 'now');
  u.searchParams.set('by', 'action');
  const r = await h.call(u.toString(), tokens.aAll);
  assert.equal(r.status, 200, r.text);
  return r.json.total;
}

test('the page served by the Worker queries it with the form filter', { skip }, async () => {
  const s = await openPage(browser, `${worker.url}/`);
  try {
    const { page } = s;
    await page.getByRole('tab', { name: 'Online' }).click();
    assert.equal(await page.locator('#api-url').inputValue(), worker.url, 'the page fills in its own URL');
    await page.locator('#api-token').fill(tokens.aAll);
    await afterRun(page, () => page.getByRole('button', { name: 'Connect' }).click());
    console.log('status:', await page.locator('#status').textContent(), 'query:', await page.getByTestId('query-input').inputValue());
    assert.equal(await page.getByTestId('filter-range').inputValue(), '7d', 'online mode defaults to the last 7 days');
    assert.equal(await resultCount(page), await serverTotal(''));
    assert.equal(await resultCount(page), 700);
    // The first page holds 500 events; scrolling to the end fetches the next one.
    await page.waitForFunction(() => /500 loaded/.test(document.getElementById('result-extra').textContent));
    await page.getByTestId('results-viewport').evaluate((v) => { v.scrollTop = v.scrollHeight; });
    await page.waitForFunction(() => /700 loaded/.test(document.getElementById('result-extra').textContent));

    await afterRun(page, () => page.getByTestId('exclude-system').check());
    const q = await page.getByTestId('query-input').inputValue();
    assert.equal(await resultCount(page), await serverTotal('-is:system'));
    assert.ok(await page.locator('#spacer .tr').count() > 5);
    const shot = screenshotPath('online');
    await page.screenshot({ path: shot });
    console.log(`screenshot: ${shot}`);

    // Export: the server's bytes for the same filter and range.
    const csv = await download(page, 'export-csv');
    assert.ok(csv.toString().startsWith('auditEventId,'), 'a CSV export');
    assert.equal(csv.toString().trim().split('\n').length - 1, await serverTotal(q));

    const json = JSON.parse((await download(page, 'export-json')).toString());
    assert.ok(Array.isArray(json), 'a JSON export is an array of events');
    assert.equal(json.length, await serverTotal(q));

    // Saved filter through /v1/filters.
    await page.locator('#save-name').fill('no system');
    await page.getByRole('radio', { name: 'Everyone' }).check();
    await page.locator('#save-form button[type=submit]').click();
    await page.locator('.saved-apply', { hasText: 'no system' }).waitFor();
    const list = await h.call(`${worker.url}/v1/filters`, tokens.aRead);
    const names = (list.json.filters || list.json).map((f) => f.name);
    assert.ok(names.includes('no system'), 'an "everyone" filter is visible to the account');
  } finally {
    await s.context.close();
  }
});
