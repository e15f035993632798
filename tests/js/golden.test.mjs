// The golden cases of the native tests, read from the same fixture files, give the same
// matches, errors, reports and conversions through the npm package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, trailsift as ts } from './helpers.mjs';

// ---- filter: tests/fixtures/filter/*.txt over events.ndjson (see tests/filter_golden.rs)

function readCase(text) {
  const headers = new Map();
  let body = '';
  let inBody = false;
  for (const line of text.split(/(?<=\n)/)) {
    const trimmed = line.replace(/\n$/, '');
    if (!inBody && trimmed.startsWith('# ')) {
      const h = trimmed.slice(2);
      const colon = h.indexOf(':');
      if (colon >= 0) {
        const v = h.slice(colon + 1);
        headers.set(h.slice(0, colon), v.startsWith(' ') ? v.slice(1) : v);
        continue;
      }
    }
    inBody = true;
    body += line;
  }
  return { headers, body };
}

const filterDir = join(FIXTURES, 'filter');
const eventsText = readFileSync(join(filterDir, 'events.ndjson'), 'utf8');
const eventLines = eventsText.split('\n').filter((l) => l.trim() !== '');
const ids = eventLines.map((l) => JSON.parse(l).auditEventId);
const caseFiles = readdirSync(filterDir).filter((f) => f.endsWith('.txt')).sort();

test('there are filter golden cases to run', () => {
  assert.ok(caseFiles.length > 100, `${caseFiles.length} cases`);
});

for (const file of caseFiles) {
  test(`filter golden ${file}`, () => {
    const { headers, body } = readCase(readFileSync(join(filterDir, file), 'utf8'));
    const now = headers.get('now') ?? '2026-02-01T00:00:00Z';
    let source;
    if (headers.has('query')) source = headers.get('query');
    else if (headers.has('structured')) source = JSON.parse(headers.get('structured'));
    else if (headers.has('logpush')) source = JSON.parse(headers.get('logpush'));
    else assert.fail('no filter header');

    let filter;
    let error;
    try {
      filter = ts.compileFilter(source, { now });
    } catch (e) {
      error = e;
    }
    if (headers.has('error')) {
      assert.ok(error, `expected error ${headers.get('error')}, compiled to ${filter?.toQuery()}`);
      assert.ok(error instanceof ts.FilterError, String(error));
      assert.equal(error.code, headers.get('error'));
      if (headers.has('query')) assert.equal(error.rendered, body);
      return;
    }
    assert.equal(error, undefined, error?.rendered ?? String(error));
    const expect = headers.get('expect').split(/\s+/).filter(Boolean);

    const byEvent = eventLines.filter((l) => filter.matches(JSON.parse(l))).map((l) => JSON.parse(l).auditEventId);
    assert.deepEqual(byEvent, expect, 'matches(object)');
    const byText = eventLines.filter((l) => filter.matches(l)).map((l) => JSON.parse(l).auditEventId);
    assert.deepEqual(byText, expect, 'matches(string)');
    const out = filter.filterNdjson(eventsText);
    const byNdjson = out.split('\n').filter(Boolean).map((l) => JSON.parse(l).auditEventId);
    assert.deepEqual(byNdjson, expect, 'filterNdjson');
    assert.equal(filter.count(new TextEncoder().encode(eventsText)), expect.length, 'count');
    // Every matching line comes back byte for byte.
    assert.equal(out, eventLines.filter((_, i) => expect.includes(ids[i])).map((l) => l + '\n').join(''));

    const printed = filter.toQuery();
    if (headers.has('canonical')) assert.equal(printed, headers.get('canonical'));
    assert.deepEqual(ts.compileFilter(printed).toIR(), filter.toIR(), 'parse(print(ir))');
    if (headers.has('export')) {
      const exported = filter.toLogpush();
      assert.deepEqual(exported, JSON.parse(headers.get('export')));
      assert.deepEqual(ts.compileFilter(exported).toIR(), filter.toIR(), 'Logpush round trip');
    }
    if (headers.has('export-error')) {
      assert.throws(() => filter.toLogpush(), (e) => e instanceof ts.FilterError && e.code === headers.get('export-error'));
    }
    filter.free();
  });
}

// ---- validate: tests/fixtures/validate/<input> + .args → .expected.json (tests/validate.rs)

const validateDir = join(FIXTURES, 'validate');
for (const file of readdirSync(validateDir).filter((f) => f.endsWith('.args')).sort()) {
  const input = file.slice(0, -'.args'.length);
  test(`validate golden ${input}`, () => {
    const args = readFileSync(join(validateDir, file), 'utf8').split(/\s+/).filter(Boolean);
    const options = { strict: args.includes('--strict'), vocabulary: args.includes('--vocabulary') };
    const expected = JSON.parse(readFileSync(join(validateDir, `${input}.expected.json`), 'utf8'));
    const bytes = readFileSync(join(validateDir, input));
    assert.deepEqual(ts.validate(new Uint8Array(bytes), options), expected);
    // As text too, where the input is text (not gzip).
    if (!input.endsWith('.gz')) assert.deepEqual(ts.validate(bytes.toString('utf8'), options), expected);
  });
}

// ---- convert: tests/fixtures/convert/input.ndjson → output.* (tests/convert.rs)

const convertDir = join(FIXTURES, 'convert');
const convertInput = readFileSync(join(convertDir, 'input.ndjson'), 'utf8');
const outputs = {
  json: 'output.json',
  ndjson: 'output.ndjson',
  csv: 'output.csv',
  splunk_hec: 'output.splunk_hec',
  sumo: 'output.sumo',
  ocsf: 'output.ocsf',
};

for (const [to, name] of Object.entries(outputs)) {
  test(`convert golden ${name}`, () => {
    const expected = readFileSync(join(convertDir, name), 'utf8');
    assert.equal(ts.convert(convertInput, { to }), expected);
    assert.equal(ts.convert(convertInput, { from: 'ndjson', to }), expected);
    const bytes = ts.convert(new TextEncoder().encode(convertInput), { to });
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(new TextDecoder().decode(bytes), expected);
  });
}

test('convert golden output.all-columns.unsafe.csv (every column, safety off) reads back to the input', () => {
  const expected = readFileSync(join(convertDir, 'output.all-columns.unsafe.csv'), 'utf8');
  const columns = expected.split(/\r?\n/)[0].split(',');
  assert.equal(ts.convert(convertInput, { to: 'csv', columns, csvSafety: false }), expected);
  const back = ts.convert(expected, { from: 'csv', to: 'ndjson' }).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(back, convertInput.trim().split('\n').map((l) => JSON.parse(l)));
});
