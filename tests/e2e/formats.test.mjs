// Every input format the page opens (JSON array, NDJSON, CSV, Splunk HEC, Sumo, each also
// gzipped) shows the same events as the NDJSON they were converted from by the CLI.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { serve, launch, openPage, loadFile, resultCount, tmpDir, cli, cliGen, cliCount, typeQuery } from './helpers.mjs';

let srv, browser, session, dir, ndjson;
const QUERY = 'action:CREATE,UPDATE -is:system';

before(async () => {
  dir = tmpDir('formats');
  ndjson = path.join(dir, 'events.ndjson');
  writeFileSync(ndjson, cliGen(1500, 3));
  srv = await serve();
  browser = await launch();
  session = await openPage(browser, srv.url);
});

after(async () => {
  if (browser) await browser.close();
  if (srv) srv.close();
});

const FORMATS = [
  ['json', '1763719530123_1763719590123_1763719600000.json'],
  ['ndjson', 'events-copy.ndjson'],
  ['csv', 'events.csv'],
  ['splunk_hec', 'events-hec.txt'],
  ['sumo', 'events-sumo.txt'],
];

for (const [format, name] of FORMATS) {
  for (const gz of [false, true]) {
    test(`${format}${gz ? ' gzipped' : ''} opens with the CLI counts`, async () => {
      const { page, errors } = session;
      // CSV for machines (no spreadsheet prefixes), so reading it back gives the events exactly.
      const bytes = cli(['convert', '--from', 'ndjson', '--to', format, ...(format === 'csv' ? ['--no-csv-safety'] : []), ndjson]);
      const file = path.join(dir, gz ? `${name}.gz` : name);
      writeFileSync(file, gz ? gzipSync(bytes) : bytes);
      await typeQuery(page, '');
      await loadFile(page, file);
      assert.equal(await page.locator('#status').evaluate((s) => s.classList.contains('error')), false, await page.locator('#status').textContent());
      assert.equal(await resultCount(page), 1500);
      await typeQuery(page, QUERY);
      assert.equal(await resultCount(page), cliCount(QUERY, ndjson));
      assert.deepEqual(errors, []);
    });
  }
}

