// Browser test of the page's "Verify evidence" dialog in Chromium: every evidence case of
// the Rust tests (tests/fixtures/evidence/, kept current by tests/evidence_fixtures.rs) —
// bundles, sidecars with their objects — must show the fixture's failures (entry index,
// seq, code) with the core's sentence, and good ones what was verified against which
// checkpoint and key. The verifier's .wasm must load only when the page verifies.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, serve, launch, openPage, screenshotPath, submitVerify } from './helpers.mjs';

const EVIDENCE = path.join(ROOT, 'tests/fixtures/evidence');
const LOG = JSON.parse(readFileSync(path.join(EVIDENCE, 'log.json'), 'utf8'));
const CASES = readdirSync(path.join(EVIDENCE, 'bundles')).sort().map((d) => path.join(EVIDENCE, 'bundles', d));
const SHOTS = new Set(['valid', 'a-valid-sidecar', 'two-events-swapped', 'signed-by-another-key', 'an-object-event-removed']);

let srv, browser, session;
const wasmRequests = [];

before(async () => {
  srv = await serve();
  browser = await launch();
  session = await openPage(browser, srv.url);
  session.page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmRequests.push(path.basename(new URL(r.url()).pathname)); });
});

after(async () => {
  if (browser) await browser.close();
  if (srv) srv.close();
});

// Runs one verification through the dialog's inputs; returns what the result box shows.
async function verify(page, dir) {
  const object = path.join(dir, 'object.ndjson');
  await page.setInputFiles('[data-testid=verify-bundle]', path.join(dir, 'bundle.json'));
  await page.setInputFiles('[data-testid=verify-object]', existsSync(object) ? object : []);
  await page.getByTestId('verify-keys').fill(readFileSync(path.join(dir, 'keys.txt'), 'utf8'));
  return submitVerify(page);
}


test('the page loads no verifier until asked', async () => {
  const page = await session.context.newPage();
  const seen = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) seen.push(path.basename(new URL(r.url()).pathname)); });
  await page.goto(srv.url);
  await page.waitForFunction(() => document.body.dataset.engine === 'ready');
  assert.ok(seen.includes('trailsift_bg.wasm'), `the engine's module was seen loading: ${seen}`);
  assert.deepEqual(seen.filter((w) => w.includes('verify')), []);
  await page.close();
});

test('every evidence case shows its failures, located and explained, or what was verified', async () => {
  const { page, errors } = session;
  await page.getByTestId('verify-open').click();
  for (const dir of CASES) {
    const expect = JSON.parse(readFileSync(path.join(dir, 'expect.json'), 'utf8'));
    const shown = await verify(page, dir);
    assert.equal(shown.ok, expect.ok, `${expect.name}: ${JSON.stringify(shown)}`);
    assert.deepEqual(shown.failures.map(({ index, seq, code }) => ({ index, seq, code })), expect.failures, expect.name);
    for (const f of shown.failures) assert.ok(f.explanation.length > 20, `${expect.name}: ${f.code} has a sentence`);
    if (expect.ok) {
      assert.equal(shown.verified, expect.verified, expect.name);
      assert.match(shown.heading, new RegExp(`^Verified: ${expect.verified} events`));
      assert.equal(shown.origin, LOG.origin);
      assert.equal(shown.size, `${LOG.size} events`);
      assert.match(shown.root, /^[A-Za-z0-9+/]{43}=$/);
      assert.match(shown.key, /^trailsift\.local\+[0-9a-f]{8}$/);
    } else {
      assert.match(shown.heading, /^Verification failed/);
    }
    const slug = path.basename(dir).replace(/^\d+-/, '');
    if (SHOTS.has(slug)) {
      const shot = screenshotPath(`verify-${slug}`);
      await page.screenshot({ path: shot });
      console.log(`screenshot: ${shot}`);
    }
  }
  assert.ok(wasmRequests.includes('trailsift_verify_bg.wasm'), 'the verifier loaded when asked');
  assert.deepEqual(errors, []);
  await page.locator('#v-close').click();
});

test('a sidecar, its object and a keys file dropped together verify', async () => {
  const { page } = session;
  const dir = CASES.find((d) => d.endsWith('-a-valid-sidecar'));
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.engine);
  await page.getByTestId('verify-open').click();
  const files = [
    { name: 'events.ndjson', text: readFileSync(path.join(dir, 'object.ndjson'), 'utf8') },
    { name: 'events.ndjson.evidence.json', text: readFileSync(path.join(dir, 'bundle.json'), 'utf8') },
    { name: 'keys.txt', text: readFileSync(path.join(dir, 'keys.txt'), 'utf8') },
  ];
  const transfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([f.text], f.name));
    return dt;
  }, files);
  await page.dispatchEvent('[data-testid=verify-dialog]', 'drop', { dataTransfer: transfer });
  await page.waitForFunction(() => document.querySelector('[data-testid=verify-object-name]').textContent !== '');
  assert.equal(await page.getByTestId('verify-bundle-name').textContent(), 'events.ndjson.evidence.json');
  assert.equal(await page.getByTestId('verify-object-name').textContent(), 'events.ndjson');
  const shown = await submitVerify(page);
  assert.ok(shown.ok, JSON.stringify(shown));
  assert.equal(shown.verified, LOG.seqs.length);
  // The viewer did not open the dropped files.
  assert.equal(await page.evaluate(() => window.__trailsift.seq), 0);
});
