// The page's "Verify evidence" dialog on what the Worker itself produces (wrangler dev): an
// evidence bundle from /v1/evidence, checked against the keys the dialog fetches from the
// Worker's /v1/log/keys, verifies; the same bundle with one event changed by one byte is
// caught at that entry.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, launch, openPage, afterRun, screenshotPath, submitVerify, tmpDir } from './helpers.mjs';

const HARNESS = path.join(ROOT, 'tests/edge/harness.mjs');
const skip = !existsSync(HARNESS) || !existsSync(path.join(ROOT, 'wrangler.toml'))
  ? 'the Worker (wrangler.toml, tests/edge/harness.mjs) is not in this tree' : false;

let h, w, browser, s, tokens;

before(async () => {
  if (skip) return;
  h = await import(HARNESS);
  const made = h.makeTokens();
  tokens = made.tokens;
  w = await h.startWorker({ tokensConfig: made.config });
  const lines = Array.from({ length: 120 }, (_, i) => JSON.stringify(h.event('acct_a', i))).join('\n');
  const r = await h.call(`${w.url}/v1/events`, tokens.aAll, { method: 'POST', body: lines, headers: { 'content-type': 'application/x-ndjson' } });
  assert.equal(r.status, 200, r.text);
  browser = await launch();
  s = await openPage(browser, `${w.url}/`);
  await s.page.getByRole('tab', { name: 'Online' }).click();
  await s.page.locator('#api-token').fill(tokens.aAll);
  await afterRun(s.page, () => s.page.getByRole('button', { name: 'Connect' }).click());
}, { timeout: 900_000 });

after(async () => {
  if (s) await s.context.close();
  if (browser) await browser.close();
  if (w) { await w.stop(); w.cleanup(); }
});

test('a bundle from the Worker verifies in the page against the Worker\'s keys; a changed event is caught', { skip }, async () => {
  const r = await h.call(`${w.url}/v1/evidence?from=now-30d&limit=50`, tokens.aRead);
  assert.equal(r.status, 200, r.text);
  const bundle = r.json;
  assert.equal(bundle.entries.length, 50);
  const dir = tmpDir('verify-online');
  const good = path.join(dir, 'evidence.json');
  writeFileSync(good, r.text);
  const tampered = structuredClone(bundle);
  const at = 7;
  const action = tampered.entries[at].event.auditAction;
  tampered.entries[at].event.auditAction = action.slice(0, -1) + (action.endsWith('E') ? 'F' : 'E');
  const bad = path.join(dir, 'tampered.json');
  writeFileSync(bad, JSON.stringify(tampered));

  const { page } = s;
  await page.getByTestId('verify-open').click();
  await page.getByTestId('verify-worker-keys').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=verify-keys]').value.includes('+'));
  const keys = await h.call(`${w.url}/v1/log/keys`);
  assert.equal(await page.getByTestId('verify-keys').inputValue(), keys.json.keys.join('\n'), 'the Worker\'s keys were filled in');

  await page.setInputFiles('[data-testid=verify-bundle]', good);
  const ok = await submitVerify(page);
  assert.deepEqual([ok.ok, ok.verified, ok.failures], [true, 50, []], JSON.stringify(ok));
  assert.equal(ok.origin, 'trailsift.local/acct_a');
  await page.screenshot({ path: screenshotPath('verify-online') });

  await page.setInputFiles('[data-testid=verify-bundle]', bad);
  const caught = await submitVerify(page);
  assert.equal(caught.ok, false);
  assert.deepEqual(caught.failures.map(({ index, seq, code }) => ({ index, seq, code })),
    [{ index: at, seq: bundle.entries[at].seq, code: 'bad_proof' }]);
});
