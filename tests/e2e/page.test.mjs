// Browser tests of the web page (www/) in Chromium: the page's counts and exports must
// equal the CLI's on the same generated file, event data must render as text, errors must
// render with their caret, and 100k rows must scroll.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  serve, launch, openPage, loadFile, resultCount, screenshotPath, tmpDir,
  cli, cliGen, cliCount, cliFilter, cliConvert, typeQuery, afterRun, download,
} from './helpers.mjs';

const XSS = '<img src=x onerror=alert(1)>';

let srv, browser, dir, file, session;

before(async () => {
  dir = tmpDir('page');
  const lines = cliGen(3000, 7).toString().split('\n').filter(Boolean);
  // One event whose untrusted fields hold markup.
  const ev = JSON.parse(lines[0]);
  ev.auditEventId = 'xss-1';
  ev.auditResource.identifier = XSS;
  ev.auditResourceScope.orgIdentifier = `<script>alert(2)</script>`;
  ev.auditEventAuthor.principal.email = `"><img src=x onerror=alert(3)>@example.com`;
  ev.auditAction = 'UPDATE';
  lines.push(JSON.stringify(ev));
  file = path.join(dir, 'events.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');
  srv = await serve();
  browser = await launch();
  session = await openPage(browser, srv.url);
  await loadFile(session.page, file);
});

after(async () => {
  if (browser) await browser.close();
  if (srv) srv.close();
});

test('a generated file opens with every event shown', async () => {
  const { page, errors } = session;
  assert.equal(await resultCount(page), cliCount('', file));
  assert.equal(await resultCount(page), 3001);
  assert.ok(await page.locator('#spacer .tr').count() > 10, 'rows are rendered');
  assert.deepEqual(errors, []);
  const shot = screenshotPath('main-light');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);
});

test('form filters give the CLI counts, and the query bar shows the same filter', async () => {
  const { page } = session;
  await afterRun(page, () => page.getByTestId('exclude-login').check());
  const q1 = await page.getByTestId('query-input').inputValue();
  assert.ok(q1.length > 0, 'the form fills the query bar');
  assert.equal(await resultCount(page), cliCount('-is:login', file));
  assert.equal(await resultCount(page), cliCount(q1, file));

  await afterRun(page, () => page.getByTestId('exclude-system').check());
  assert.equal(await resultCount(page), cliCount('-is:login -is:system', file));

  await afterRun(page, async () => {
    await page.getByTestId('filter-actions').fill('CREATE, DELETE');
    await page.getByTestId('filter-actions').press('Enter');
  });
  const q3 = await page.getByTestId('query-input').inputValue();
  const want = cliCount('-is:login -is:system auditAction in {"CREATE" "DELETE"}', file);
  assert.equal(await resultCount(page), want);
  assert.equal(cliCount(q3, file), want);
  assert.ok(want > 0);

  await afterRun(page, () => page.locator('#clear-form').click());
  assert.equal(await resultCount(page), 3001);
});

const QUERIES = [
  '-is:login',
  'action:FORCE_PUSH',
  'action:CREATE,UPDATE',
  'resource.type == "SECRET" or module:CD',
  '-is:system -is:login',
  'user:*@example.com and not action == "DELETE"',
  'metadata.batchId exists',
  'created:2020-01-01..2030-12-31 -principal.type:SYSTEM',
];

for (const q of QUERIES) {
  test(`query ${q} gives the CLI count`, async () => {
    const { page } = session;
    await typeQuery(page, q);
    assert.equal(await page.getByTestId('query-error').isVisible(), false);
    assert.equal(await resultCount(page), cliCount(q, file));
  });
}

test('a typed query that is a plain conjunction fills the form', async () => {
  const { page } = session;
  await typeQuery(page, 'action == "CREATE" and -is:login');
  assert.equal(await page.getByTestId('filter-actions').inputValue(), 'CREATE');
  assert.equal(await page.getByTestId('exclude-login').isChecked(), true);
  assert.equal(await page.getByTestId('exclude-system').isChecked(), false);
  await typeQuery(page, '');
  assert.equal(await page.getByTestId('exclude-login').isChecked(), false);
});

test('a typed query the form shows in part fills the form and keeps the rest', async () => {
  const { page } = session;
  const q = 'action == "CREATE" and resourceId starts_with "p"';
  await typeQuery(page, q);
  assert.equal(await page.getByTestId('filter-actions').inputValue(), 'CREATE');
  assert.equal(await page.locator('#form-note').isVisible(), true);
  assert.equal(await resultCount(page), cliCount(q, file));
  // Editing the form keeps the part it cannot show.
  await afterRun(page, () => page.getByTestId('exclude-login').check());
  const q2 = await page.getByTestId('query-input').inputValue();
  assert.match(q2, /starts_with/);
  const want = cliCount(`${q} -is:login`, file);
  assert.equal(await resultCount(page), want);
  assert.equal(cliCount(q2, file), want);
  // A case-insensitive qualifier has no place in the form's exact lists.
  await typeQuery(page, 'action:CREATE');
  assert.equal(await page.getByTestId('filter-actions').inputValue(), '');
  assert.equal(await page.getByTestId('exclude-login').isChecked(), false);
  await typeQuery(page, '');
  assert.equal(await page.locator('#form-note').isVisible(), false);
});

test('exports equal the CLI output byte for byte', async () => {
  const { page } = session;
  const q = 'action:CREATE,UPDATE -is:system';
  await typeQuery(page, q);
  const ndjson = await download(page, 'export-ndjson');
  const want = cliFilter(q, file);
  assert.ok(want.length > 0);
  assert.ok(Buffer.compare(ndjson, want) === 0, 'NDJSON export equals `trailsift filter`');
  const filtered = path.join(dir, 'filtered.ndjson');
  writeFileSync(filtered, want);
  const csv = await download(page, 'export-csv');
  assert.ok(Buffer.compare(csv, cliConvert(filtered, 'csv')) === 0, 'CSV export equals `trailsift convert --to csv`');
  const json = await download(page, 'export-json');
  assert.ok(Buffer.compare(json, cliConvert(filtered, 'json')) === 0, 'JSON export equals `trailsift convert --to json`');
});

test('the export dialog, used by keyboard, applies a transform as the CLI does and keeps no key', async () => {
  const { page } = session;
  const q = 'action:CREATE,UPDATE -is:system';
  await typeQuery(page, q);
  const filtered = path.join(dir, 'filtered-for-transform.ndjson');
  writeFileSync(filtered, cliFilter(q, file));
  const key = 'a key typed into the page';
  const keyFile = path.join(dir, 'pseudonymize.key');
  writeFileSync(keyFile, key);
  const transform = {
    exclude: ['auditEventMetadata'],
    redact: ['auditHttpRequestInfo.clientIP'],
    redactPatterns: ['(?i)EXAMPLE\\.com'],
    pseudonymize: ['auditEventAuthor.principal.email', 'auditEventAuthor.principal.identifier'],
    timeFormat: 'rfc3339',
  };
  const transformFile = path.join(dir, 'transform.json');
  writeFileSync(transformFile, JSON.stringify(transform));

  const dialog = page.getByTestId('export-dialog');
  const fill = async (format) => {
    await page.getByTestId('export-options').focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'visible' });
    await page.getByTestId('export-format').selectOption(format);
    // The field mode by arrow keys: all → only these → all but these.
    await page.getByTestId('export-fields-all').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.getByTestId('export-fields-exclude').isChecked(), true);
    await page.getByTestId('export-fields').fill(transform.exclude.join(', '));
    await page.getByTestId('export-redact').fill(transform.redact.join(', '));
    await page.getByTestId('export-patterns').fill(transform.redactPatterns.join('\n'));
    await page.getByTestId('export-pseudonymize').fill(transform.pseudonymize.join(','));
    await page.getByTestId('export-time-format').selectOption(transform.timeFormat);
    await page.getByTestId('export-key').focus();
    await page.keyboard.type(key);
  };
  const exportByEnter = async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    await dialog.waitFor({ state: 'hidden' });
    return readFileSync(await dl.path());
  };

  for (const format of ['ndjson', 'csv']) {
    await fill(format);
    // The dialog shows the transform it passes to the package (the key is not part of it).
    assert.deepEqual(JSON.parse(await page.getByTestId('export-transform').textContent()), transform);
    const got = await exportByEnter();
    const want = cli(['convert', '--to', format, '--transform', transformFile, '--pseudonymize-key-file', keyFile, filtered]);
    assert.ok(want.length > 0 && !want.includes('@example.com'));
    assert.ok(Buffer.compare(got, want) === 0, `${format} export with the transform equals \`trailsift convert --transform\``);
    // Closing the dialog forgets the key.
    assert.equal(await page.getByTestId('export-key').inputValue(), '');
  }
  const kept = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + location.href);
  assert.ok(!kept.includes(key), 'the key is in no storage and no URL');

  // A transform the core refuses: its code and pattern show in the dialog, which stays open.
  await fill('ndjson');
  await page.getByTestId('export-patterns').fill('(unclosed');
  await page.getByTestId('export-go').click();
  const error = page.getByTestId('export-error');
  await error.waitFor({ state: 'visible' });
  assert.match(await error.textContent(), /^bad_regex: .*"\(unclosed"/);
  assert.equal(await dialog.isVisible(), true);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.getByTestId('export-key').inputValue(), '');
});

test('event fields holding markup render as text', async () => {
  const { page, dialogs } = session;
  await typeQuery(page, 'id == "xss-1"');
  assert.equal(await resultCount(page), 1);
  const row = page.locator('#spacer .tr').first();
  await row.waitFor();
  await page.waitForFunction(() => document.querySelector('#spacer .tr')?.dataset.filled === '1');
  assert.ok((await row.textContent()).includes(XSS), 'the identifier shows as text');
  await row.click();
  await page.getByTestId('detail').waitFor();
  await page.waitForFunction((x) => document.getElementById('detail-json').textContent.includes(x), XSS);
  // The facets show the markup as text too.
  assert.ok((await page.getByTestId('facets').textContent()).includes('"><img src=x onerror=alert(3)>@example.com'));
  assert.equal(await page.locator('main img, main script').count(), 0, 'no element was created from event data');
  await page.waitForTimeout(300);
  assert.deepEqual(dialogs, [], 'no script ran');
  const shot = screenshotPath('detail');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);
  await page.locator('#detail-close').click();
});

test('a bad query shows the rendered error with its caret', async () => {
  const { page } = session;
  const before = await resultCount(page);
  await typeQuery(page, 'acton:CREATE');
  const err = page.getByTestId('query-error');
  assert.equal(await err.isVisible(), true);
  const text = await err.textContent();
  assert.match(text, /\^/, 'the rendered error has a caret');
  assert.match(text, /action/, 'the error names the closest field');
  assert.equal(await page.locator('#query-mirror mark').count(), 1, 'the span is marked in the query bar');
  assert.equal(await page.getByTestId('query-input').getAttribute('aria-invalid'), 'true');
  assert.equal(await resultCount(page), before, 'the previous result stays');
  const shot = screenshotPath('query-error');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);
  await typeQuery(page, 'action == ');
  assert.equal(await err.isVisible(), true);
  await typeQuery(page, '');
  assert.equal(await err.isVisible(), false);
});

test('completion offers field names and known values', async () => {
  const { page } = session;
  const input = page.getByTestId('query-input');
  await input.fill('');
  await input.pressSequentially('acti');
  await page.locator('#completions li').first().waitFor();
  assert.ok((await page.locator('#completions').textContent()).includes('action:'));
  await input.press('Tab');
  assert.equal(await input.inputValue(), 'action:');
  await input.pressSequentially('CRE');
  await page.locator('#completions li').first().waitFor();
  assert.ok((await page.locator('#completions').textContent()).includes('CREATE'));
  await input.press('Escape');
});

test('completion offers the field catalog\'s names', async () => {
  const { page } = session;
  const input = page.getByTestId('query-input');
  const offered = async (typed) => {
    await input.fill('');
    await input.pressSequentially(typed);
    await page.locator('#completions li').first().waitFor();
    return page.locator('#completions li').allTextContents();
  };
  assert.ok((await offered('auditResourceScope.or')).includes('auditResourceScope.orgIdentifier:'));
  assert.deepEqual((await offered('organ')), ['organization:']);
  assert.ok((await offered('metad')).includes('metadata.'));
  assert.ok((await offered('is:')).includes('system'));
  await input.press('Escape');
  await typeQuery(page, '');
});

test('a custom time without an offset is rejected in the form, as the core rejects it', async () => {
  const { page } = session;
  const before = await resultCount(page);
  await afterRun(page, () => page.getByTestId('filter-range').selectOption('custom'));
  await afterRun(page, async () => {
    await page.getByTestId('filter-from').fill('2026-01-01T10:00:00');
    await page.getByTestId('filter-from').press('Enter');
  });
  const err = page.getByTestId('filter-from-error');
  assert.equal(await err.isVisible(), true);
  assert.match(await err.textContent(), /2026-01-01T10:00:00/);
  assert.equal(await page.getByTestId('filter-from').getAttribute('aria-invalid'), 'true');
  assert.equal(await resultCount(page), before, 'the filter was not applied');
  // The CLI refuses the same time.
  assert.throws(() => cliCount('time >= 2026-01-01T10:00:00', file));
  // With an offset (or as a date) it is taken, and the count is the CLI's.
  const from = new Date(Date.now() - 400 * 86400e3).toISOString().slice(0, 10);
  await afterRun(page, async () => {
    await page.getByTestId('filter-from').fill(from);
    await page.getByTestId('filter-from').press('Enter');
  });
  assert.equal(await err.isVisible(), false);
  assert.equal(await resultCount(page), cliCount(`time >= ${from}`, file));
  await afterRun(page, () => page.locator('#clear-form').click());
  assert.equal(await resultCount(page), 3001);
});

test('the dark scheme renders', async () => {
  const dark = await openPage(browser, srv.url, { colorScheme: 'dark', viewport: { width: 1366, height: 768 } });
  try {
    await loadFile(dark.page, file);
    const bg = await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, 'rgb(247, 248, 250)');
    const shot = screenshotPath('main-dark-1366');
    await dark.page.screenshot({ path: shot });
    console.log(`screenshot: ${shot}`);
  } finally {
    await dark.context.close();
  }
});

test('a 100k-event file shows rows while it loads, then scrolls; filters give the CLI counts', async () => {
  const big = path.join(dir, 'big.ndjson');
  writeFileSync(big, cliGen(100_000, 11));
  const s = await openPage(browser, srv.url);
  try {
    // When the first row is filled, was the file still being read?
    await s.page.evaluate(() => {
      new MutationObserver((_, obs) => {
        if (!document.querySelector('#spacer .tr[data-filled="1"]')) return;
        window.__rowsWhileLoading = window.__trailsift.seq === 0 && document.body.getAttribute('aria-busy') === 'true';
        obs.disconnect();
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-filled'] });
    });
    await loadFile(s.page, big);
    assert.equal(await s.page.evaluate(() => window.__rowsWhileLoading), true, 'rows were on screen before the file was read');
    assert.ok(await s.page.evaluate(() => window.__trailsift.partialViews) > 0);
    assert.equal(await resultCount(s.page), 100_000);
    for (const q of ['-is:login', 'action:FORCE_PUSH', 'user:*@example.com -is:system', 'metadata.batchId exists']) {
      await typeQuery(s.page, q);
      assert.equal(await resultCount(s.page), cliCount(q, big), q);
    }
    await typeQuery(s.page, '');
    const vp = s.page.getByTestId('results-viewport');
    for (const frac of [0.25, 0.5, 0.999, 1]) {
      await vp.evaluate((v, f) => { v.scrollTop = (v.scrollHeight - v.clientHeight) * f; }, frac);
      await s.page.waitForFunction(() => {
        const v = document.getElementById('viewport');
        const rows = [...document.querySelectorAll('#spacer .tr')];
        const top = v.scrollTop, bottom = top + v.clientHeight;
        const visible = rows.filter((r) => { const y = new DOMMatrix(getComputedStyle(r).transform).m42; return y + 28 > top && y < bottom; });
        return visible.length > 5 && visible.every((r) => r.dataset.filled === '1');
      });
    }
    const last = await s.page.locator('#spacer .tr').evaluateAll((rs) => Math.max(...rs.map((r) => Number(r.getAttribute('aria-rowindex')))));
    assert.equal(last, 100_001, 'the last row is reachable');
    // Keyboard: Home goes back to the first row.
    await vp.focus();
    await vp.press('Home');
    await s.page.waitForFunction(() => document.getElementById('viewport').scrollTop === 0);
    assert.ok((await s.page.locator('#spacer .tr').count()) < 100, 'only the rows in view are in the DOM');
  } finally {
    await s.context.close();
  }
});

test('a facet click filters on its value; headers sort', async () => {
  const { page } = session;
  await typeQuery(page, '');
  const facet = page.locator('[data-facet=action]').first();
  const value = await facet.locator('.facet-name').textContent();
  await afterRun(page, () => facet.click());
  assert.equal(await page.getByTestId('filter-actions').inputValue(), value);
  assert.equal(await resultCount(page), cliCount(`action == ${JSON.stringify(value)}`, file));
  await afterRun(page, () => page.locator('#clear-form').click());

  // Sorting by action: ascending puts the alphabetically first action on top.
  const header = page.locator('[role=columnheader]', { has: page.locator('[data-col=action]') });
  await page.locator('[data-col=action]').click();
  await page.waitForFunction(() => document.querySelector('[data-col=action]').parentElement.getAttribute('aria-sort') === 'ascending');
  await page.waitForFunction(() => document.querySelector('#spacer .tr[aria-rowindex="2"]')?.dataset.filled === '1');
  const firstAction = await page.locator('#spacer .tr[aria-rowindex="2"] .c-action').textContent();
  const actions = await page.locator('[data-facet=action] .facet-name').allTextContents();
  assert.ok(actions.every((a) => firstAction <= a), `${firstAction} sorts first`);
  assert.equal(await header.getAttribute('aria-sort'), 'ascending');
  await page.locator('[data-col=time]').click();
  await page.waitForFunction(() => document.querySelector('[data-col=time]').parentElement.getAttribute('aria-sort') === 'descending');
});

test('saved filters stay in localStorage across reloads', async () => {
  const s = await openPage(browser, srv.url);
  try {
    const { page } = s;
    await loadFile(page, file);
    await typeQuery(page, 'action:CREATE -is:system');
    const want = await resultCount(page);
    await page.locator('#save-name').fill('creates by people');
    await page.locator('#save-form button[type=submit]').click();
    await page.locator('.saved-apply', { hasText: 'creates by people' }).waitFor();
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.engine);
    await loadFile(page, file);
    await afterRun(page, () => page.locator('.saved-apply', { hasText: 'creates by people' }).click());
    assert.equal(await page.getByTestId('query-input').inputValue(), 'action:CREATE -is:system');
    assert.equal(await resultCount(page), want);
  } finally {
    await s.context.close();
  }
});

test('a new view updates the facets, histogram and rows in place, with the new counts', async () => {
  const { page } = session;
  await typeQuery(page, '');
  // The elements of the view before the filter, marked so that they can be found again.
  await page.evaluate(() => {
    for (const sel of ['[data-facet=action]', '#histogram rect', '#spacer .tr']) document.querySelector(sel).dataset.before = sel;
  });
  const query = 'action:CREATE,UPDATE -is:system';
  await typeQuery(page, query);
  const kept = await page.evaluate(() => [...document.querySelectorAll('[data-before]')].map((e) => e.dataset.before));
  assert.deepEqual(kept.sort(), ['#histogram rect', '#spacer .tr', '[data-facet=action]'].sort());
  // ...and they show the new view: the actions the CLI counts, bars that add up to the count.
  const shown = await page.evaluate(() => [...document.querySelectorAll('[data-facet=action]')]
    .map((b) => [b.dataset.value, Number(b.querySelector('.facet-count').textContent.replace(/\D/g, ''))]));
  assert.ok(shown.length > 0 && shown.every(([v]) => v === 'CREATE' || v === 'UPDATE'), JSON.stringify(shown));
  for (const [value, count] of shown) assert.equal(count, cliCount(`(${query}) and action == ${JSON.stringify(value)}`, file), value);
  const bars = await page.evaluate(() => [...document.querySelectorAll('#histogram rect title')]
    .map((t) => Number(/: ([\d,]+) events$/.exec(t.textContent)[1].replace(/,/g, ''))));
  assert.equal(bars.reduce((a, b) => a + b, 0), cliCount(query, file));
  await page.waitForFunction(() => document.querySelector('#spacer .tr[aria-rowindex="2"]')?.dataset.filled === '1');
  const action = await page.locator('#spacer .tr[aria-rowindex="2"] .c-action').textContent();
  assert.ok(['CREATE', 'UPDATE'].includes(action), action);
  await typeQuery(page, '');
});
