// The page's API tokens panel in online mode, served by the Worker (wrangler dev): an admin
// makes a token by keyboard alone, sees its secret once, copies it and revokes it; a token
// without admin is told why it cannot manage tokens. Hostile event fields and token names
// (markup, `javascript:` URLs) show as text in online mode.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HARNESS, noWorker as skip, connectOnline as connect, launch, openPage, resultCount, screenshotPath } from './helpers.mjs';

const XSS_NAME = 'ci <img src=x onerror=alert(7)>';
const JS_URL = 'javascript:alert(1)';

let h, worker, browser, tokens;

before(async () => {
  if (skip) return;
  h = await import(HARNESS);
  const t = h.makeTokens();
  tokens = t.tokens;
  worker = await h.startWorker({ tokensConfig: t.config });
  const evs = [h.event('acct_a', 1), h.event('acct_a', 2), h.event('acct_a', 3)];
  evs[0].auditResource.identifier = JS_URL;
  evs[1].auditEventAuthor.principal.email = '"><img src=x onerror=alert(3)>@example.com';
  evs[2].auditResourceScope.projectIdentifier = '<a href="javascript:alert(2)">click</a>';
  await h.ingest(worker.url, tokens.aAll, evs);
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (worker) {
    await worker.stop();
    worker.cleanup();
  }
});

test('an admin makes, copies and revokes a token with the keyboard', { skip }, async () => {
  const s = await openPage(browser, `${worker.url}/`);
  try {
    const { page, dialogs } = s;
    await s.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: worker.url });
    await connect(page, tokens.aAll);
    const panel = page.getByTestId('tokens');
    await panel.waitFor({ state: 'visible' });
    await page.getByTestId('tokens-list').getByText('No API tokens yet.').waitFor();

    // Keyboard only: name, Tab to the scopes (ingest on, read stays on), Tab to expiry, Enter.
    await page.getByTestId('token-name').focus();
    await page.keyboard.type(XSS_NAME);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'token-scope-ingest');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'token-expires');
    await page.keyboard.type('now+30d');
    await page.keyboard.press('Enter');

    const secret = page.getByTestId('token-secret');
    await secret.waitFor({ state: 'visible' });
    const token = (await secret.textContent()).trim();
    assert.match(token, /^ts_acct_a_[A-Za-z0-9_-]{43}$/);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'token-copy', 'focus moves to Copy');
    await page.keyboard.press('Enter');
    await page.locator('#token-copied').filter({ hasText: /Copied|Selected/ }).waitFor();
    if (/Copied/.test(await page.locator('#token-copied').textContent())) {
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    }

    // The token works with the scopes chosen, and is listed by name (as text) without its secret.
    const used = await h.call(`${worker.url}/v1/events`, token);
    assert.equal(used.status, 200, used.text);
    const listed = await h.call(`${worker.url}/v1/tokens`, tokens.aAll);
    assert.deepEqual(listed.json.tokens.map((t) => [t.name, t.scopes]), [[XSS_NAME, ['ingest', 'read']]]);
    const item = page.locator('.token-item').first();
    await item.waitFor();
    assert.ok((await item.textContent()).includes(XSS_NAME), 'the name shows as text');
    assert.ok((await item.textContent()).includes('expires 20'), await item.textContent());
    assert.ok(!(await page.getByTestId('tokens-list').textContent()).includes(token), 'the list never shows the secret');
    const shot = screenshotPath('tokens');
    await page.screenshot({ path: shot });
    console.log(`screenshot: ${shot}`);

    // Done hides the secret for good.
    await page.getByRole('button', { name: 'Done' }).press('Enter');
    await secret.waitFor({ state: 'hidden' });
    assert.equal(await secret.textContent(), '');

    // Revoke: two presses, so one stray key does not revoke.
    const revoke = page.getByRole('button', { name: `Revoke token ${XSS_NAME}` });
    await revoke.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: `Confirm: revoke token ${XSS_NAME}` }).press('Enter');
    await page.getByTestId('tokens-list').getByText('No API tokens yet.').waitFor();
    assert.equal((await h.call(`${worker.url}/v1/events`, token)).status, 401, 'revoked at once');

    assert.equal(await page.locator('main img, main script').count(), 0, 'no element was made from a token name');
    assert.deepEqual(dialogs, [], 'no script ran');
  } finally {
    await s.context.close();
  }
});

test('a token without admin is told it cannot manage tokens', { skip }, async () => {
  const s = await openPage(browser, `${worker.url}/`);
  try {
    const { page } = s;
    await connect(page, tokens.aRead);
    await page.locator('#tokens-note').filter({ hasText: 'admin scope' }).waitFor();
    assert.equal(await page.locator('#token-form').isHidden(), true);
  } finally {
    await s.context.close();
  }
});

test('hostile event fields show as text in online mode', { skip }, async () => {
  const s = await openPage(browser, `${worker.url}/`);
  try {
    const { page, dialogs } = s;
    await connect(page, tokens.aRead);
    assert.equal(await resultCount(page), 3);
    await page.waitForFunction(() => [...document.querySelectorAll('#spacer .tr')].every((r) => r.dataset.filled === '1'));
    const rows = await page.locator('#spacer').textContent();
    assert.ok(rows.includes(JS_URL), 'a javascript: value shows as text');
    assert.ok(rows.includes('<a href="javascript:alert(2)">click</a>'), 'markup shows as text');
    const row = page.locator('#spacer .tr', { hasText: JS_URL }).first();
    await row.click();
    await page.getByTestId('detail').waitFor();
    await page.waitForFunction((x) => document.getElementById('detail-json').textContent.includes(x), JS_URL);
    assert.equal(await page.locator('main a, main img, main script').count(), 0, 'no link, image or script from event data');
    await page.locator('#spacer .tr', { hasText: JS_URL }).first().press('Enter');
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, [], 'no script ran');
    assert.equal(new URL(page.url()).protocol, 'http:', 'nothing navigated to a javascript: URL');
  } finally {
    await s.context.close();
  }
});
