// The page's destinations panel against `wrangler dev`, driven by the keyboard: a webhook
// destination made through the form and delivered to a protocol-checking receiver (it
// checks the signature made with the secret); the secret is never shown back and an empty
// secret on edit keeps it; pause/activate; test; flush and the delivered count; the API's
// errors with their code; a failing receiver's dead letter replayed, another discarded.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, noWorker as skip, startOnline, connectOnline, stopOnline, screenshotPath } from './helpers.mjs';

let h, r, w, browser, s, tokens;
const receivers = [];
let next = 0;

before(async () => {
  if (skip) return;
  r = await import(path.join(ROOT, 'tests/edge/receivers.mjs'));
  ({ h, w, browser, s, tokens } = await startOnline()); // ALLOW_HTTP_DESTINATIONS=true: receivers on loopback
  await connectOnline(s.page, tokens.aAll);
}, { timeout: 900_000 });

after(async () => {
  await Promise.all(receivers.map((x) => x.close()));
  await stopOnline({ s, browser, w });
});

async function webhook(secret) {
  const hook = await r.startWebhook({ secret });
  receivers.push(hook);
  return hook;
}

async function ingest(n) {
  const events = Array.from({ length: n }, () => h.event('acct_a', next++));
  await h.ingest(w.url, tokens.aAll, events);
  return events;
}

const panel = (page) => page.getByTestId('destinations-dialog');
const row = (page, id) => page.getByTestId(`dest-row-${id}`);
const cell = (page, id, name) => row(page, id).getByTestId(name);
// Waits until the (refreshing) panel shows `text` in a cell of destination `id`.
async function cellShows(page, id, name, text) {
  await page.waitForFunction(([i, n, t]) => {
    const c = document.querySelector(`[data-testid="dest-row-${i}"] [data-testid="${n}"]`);
    return c && c.textContent === t;
  }, [id, name, text], { timeout: 120_000 });
}
// Presses a row's button through the keyboard.
async function press(page, label) {
  const b = panel(page).getByRole('button', { name: label, exact: true });
  await b.focus();
  await page.keyboard.press('Enter');
}

// Fills the open form's fields (by label) and submits it with Enter.
async function submitForm(page, values) {
  for (const [label, value] of Object.entries(values)) await panel(page).getByLabel(label, { exact: true }).fill(value);
  await panel(page).getByLabel('Name (required)', { exact: true }).press('Enter');
}

test('a webhook destination: created, secret write-only, test, activate, flush, pause', { skip }, async () => {
  const { page } = s;
  const secret = r.newSecret();
  const hook = await webhook(secret);

  await page.getByTestId('open-destinations').focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('destinations-dialog');
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'dest-new', 'the panel opens on "New destination"');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'dest-name', 'the form opens on its first field');
  assert.equal(await panel(page).getByLabel('Type').inputValue(), 'webhook');
  await submitForm(page, {
    'Name (required)': 'SIEM hook', 'URL (required)': hook.url, 'Signing secret (required)': secret,
    'Batch interval, seconds (default 1800)': '3600',
  });
  await row(page, 'siem-hook').waitFor();
  assert.equal(await cell(page, 'siem-hook', 'dest-status').textContent(), 'inactive');
  assert.match(await page.getByTestId('dest-message').textContent(), /created/);
  assert.equal(await page.getByTestId('dest-form').isVisible(), false);
  assert.ok(!(await page.content()).includes(secret), 'the secret is nowhere in the page');

  // Edit: the secret field is empty and says what is stored; saving it empty keeps it.
  await press(page, 'Edit SIEM hook');
  const secretInput = panel(page).getByLabel('Signing secret');
  assert.equal(await secretInput.inputValue(), '');
  assert.equal(await secretInput.getAttribute('type'), 'password');
  assert.match(await page.locator('#dest-cred-help').textContent(), /Stored: secret\./);
  assert.equal(await panel(page).getByLabel('URL (required)').inputValue(), hook.url);
  await submitForm(page, { 'Name (required)': 'SIEM webhook' });
  await cellShows(page, 'siem-hook', 'dest-status', 'inactive');
  await panel(page).getByRole('rowheader', { name: 'SIEM webhook' }).waitFor();
  const listed = await h.call(`${w.url}/v1/destinations/siem-hook`, tokens.aAll);
  assert.deepEqual(listed.json.credentialKeys, ['secret']);
  assert.ok(!listed.text.includes(secret));

  // Test: the receiver checks the signature, so "ok" says the kept secret is the right one.
  await press(page, 'Test SIEM webhook');
  await page.waitForFunction(() => /^Test of SIEM webhook: ok/.test(document.querySelector('[data-testid=dest-message]').textContent));
  assert.ok(hook.batches.some((b) => b.test), 'the test reached the receiver, signed');

  await press(page, 'Activate SIEM webhook');
  await cellShows(page, 'siem-hook', 'dest-status', 'active');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Pause SIEM webhook', 'the focus stays on the button');
  const sent = await ingest(6);
  await cellShows(page, 'siem-hook', 'dest-pending', '6');
  assert.equal(await cell(page, 'siem-hook', 'dest-delivered').textContent(), '0', 'a batch waits for its interval');
  await press(page, 'Flush SIEM webhook');
  await cellShows(page, 'siem-hook', 'dest-delivered', '6');
  assert.deepEqual(hook.events.map((e) => e.auditEventId).sort(), sent.map((e) => e.auditEventId).sort());
  const shot = screenshotPath('destinations');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);

  await press(page, 'Pause SIEM webhook');
  await cellShows(page, 'siem-hook', 'dest-status', 'inactive');
  assert.ok(!(await page.content()).includes(secret), 'the secret is still nowhere in the page');
});

test('the API\'s errors are shown with their code; Escape closes the form, then the panel', { skip }, async () => {
  const { page } = s;
  await press(page, 'New destination');
  await submitForm(page, { 'Name (required)': 'Plain FTP', 'URL (required)': 'ftp://example.com/x', 'Signing secret (required)': 'x' });
  const error = page.getByTestId('dest-error');
  await error.waitFor({ state: 'visible' });
  assert.equal(await error.getAttribute('role'), 'alert');
  assert.match(await error.textContent(), /^Could not create the destination: bad_destination_url: `config.url` must be an https URL/);
  assert.equal(await page.getByTestId('dest-form').isVisible(), true, 'the form stays open to fix it');
  await page.keyboard.press('Escape');
  assert.equal(await page.getByTestId('dest-form').isVisible(), false);
  assert.equal(await page.getByTestId('destinations-dialog').isVisible(), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'dest-new', 'the focus goes back to the button that opened the form');
  await page.keyboard.press('Escape');
  assert.equal(await page.getByTestId('destinations-dialog').isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'open-destinations');
});

test('a failing receiver: dead letters replayed and discarded from the panel', { skip }, async () => {
  const { page } = s;
  const secret = r.newSecret();
  const hook = await webhook(secret);
  hook.always({ status: 400 }); // not retried: a dead letter at once

  await page.getByTestId('open-destinations').press('Enter');
  await page.keyboard.press('Enter'); // New destination
  await submitForm(page, {
    'Name (required)': 'Broken', 'URL (required)': hook.url, 'Signing secret (required)': secret,
    'Batch interval, seconds (default 1800)': '1', 'Attempts before a dead letter (default 8)': '1',
  });
  await row(page, 'broken').waitFor();
  await press(page, 'Activate Broken');
  await cellShows(page, 'broken', 'dest-status', 'active');
  const first = await ingest(3);
  await press(page, 'Flush Broken');
  await cellShows(page, 'broken', 'dest-dead', '1');
  await press(page, 'Dead letters of Broken');
  const letters = page.getByTestId('dest-letters-broken');
  await letters.waitFor();
  assert.match(await letters.textContent(), /\(3\), 1 attempt: HTTP 400/);
  const shot = screenshotPath('destinations-dead-letters');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);

  hook.always(null); // the receiver is fixed
  const batch = await letters.locator('li').first().getAttribute('data-batch');
  await press(page, `Replay batch ${batch}`);
  await cellShows(page, 'broken', 'dest-dead', '0');
  assert.deepEqual(hook.events.map((e) => e.auditEventId).sort(), first.map((e) => e.auditEventId).sort(), 'the replay delivered the batch');

  hook.always({ status: 400 });
  await ingest(2);
  await press(page, 'Flush Broken');
  await cellShows(page, 'broken', 'dest-dead', '1');
  await press(page, 'Dead letters of Broken');
  const second = await page.getByTestId('dest-letters-broken').locator('li').first().getAttribute('data-batch');
  assert.notEqual(second, batch);
  await press(page, `Discard batch ${second}`);
  await cellShows(page, 'broken', 'dest-dead', '0');
  assert.match(await page.getByTestId('dest-message').textContent(), /discarded/);
  assert.equal(hook.events.length, 3, 'a discarded batch is not delivered');
  const st = await h.call(`${w.url}/v1/destinations/broken/status`, tokens.aAll);
  assert.deepEqual(st.json.deadLetters, []);
});
