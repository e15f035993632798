// The page's "Verify evidence" dialog on what the Worker itself produces (wrangler dev): an
// evidence bundle from /v1/evidence, checked against the keys the dialog fetches from the
// Worker's /v1/log/keys, verifies; the same bundle with one event changed by one byte is
// caught at that entry.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { noWorker as skip, startOnline, connectOnline, stopOnline, screenshotPath, submitVerify, tmpDir } from './helpers.mjs';

let h, w, browser, s, tokens;

before(async () => {
  if (skip) return;
  ({ h, w, browser, s, tokens } = await startOnline());
  await h.ingest(w.url, tokens.aAll, Array.from({ length: 120 }, (_, i) => h.event('acct_a', i)));
  await connectOnline(s.page, tokens.aAll);
}, { timeout: 900_000 });

after(() => stopOnline({ s, browser, w }));

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
