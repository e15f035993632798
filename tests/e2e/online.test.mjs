// The page in online mode, served by the Worker itself at `/` (wrangler dev, assets from www/
// with the package copied in): it fills in its own URL, queries /v1/events and /v1/stats with the form's
// filter, saves filters through /v1/filters and downloads exports from the server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, launch, openPage, resultCount, screenshotPath, afterRun, download } from './helpers.mjs';

const HARNESS = path.join(ROOT, 'tests/edge/harness.mjs');
const skip = !existsSync(HARNESS) || !existsSync(path.join(ROOT, 'wrangler.toml'))
  ? 'the Worker (wrangler.toml, tests/edge/harness.mjs) is not in this tree' : false;

let h, worker, browser, tokens, stateDir;

async function startWorker(tokensConfig) {
  const port = await h.freePort();
  stateDir = mkdtempSync(path.join(tmpdir(), 'trailsift-e2e-online-'));
  const child = spawn(path.join(ROOT, 'node_modules/.bin/wrangler'), ['dev', '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', stateDir, '--var', `TRAILSIFT_TOKENS:${tokensConfig}`,
    '--inspector-port', String(await h.freePort())], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' },
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${log.slice(-3000)}`);
    try { if ((await fetch(`${url}/v1/health`)).ok) return { url, child }; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not come up:\n${log.slice(-3000)}`);
}

before(async () => {
  if (skip) return;
  h = await import(HARNESS);
  const t = h.makeTokens();
  tokens = t.tokens;
  worker = await startWorker(t.config);
  const lines = [];
  for (let i = 0; i < 700; i++) lines.push(JSON.stringify(h.event('acct_a', i)));
  const r = await h.call(`${worker.url}/v1/events`, tokens.aAll, { method: 'POST', body: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
  assert.equal(r.status < 300, true, r.text);
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (worker) { try { process.kill(-worker.child.pid, 'SIGTERM'); } catch { /* gone */ } }
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
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
