// convert, detectFormat and createConvertStream through the JS API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { trailsift as ts, event, ndjson } from './helpers.mjs';

const events = [
  event({ auditEventId: 'a' }),
  event({ auditEventId: 'b', auditAction: 'DELETE', auditEventMetadata: { note: '=SUM(A1)', text: 'comma, "quote"\nnewline' } }),
];
const text = ndjson(events);

test('convert: string in gives string out, bytes in gives bytes out, gzip gives bytes', () => {
  const json = ts.convert(text, { to: 'json' });
  assert.equal(typeof json, 'string');
  assert.deepEqual(JSON.parse(json), events);
  const bytes = ts.convert(new TextEncoder().encode(text), { to: 'json' });
  assert.ok(bytes instanceof Uint8Array);
  const gz = ts.convert(text, { to: 'ndjson', gzip: true });
  assert.ok(gz instanceof Uint8Array);
  assert.equal(gunzipSync(gz).toString('utf8'), text);
  // Gzipped input is read transparently.
  assert.equal(new TextDecoder().decode(ts.convert(gzipSync(text), { to: 'ndjson' })), text);
});

test('convert keeps 64-bit integers and times exactly (no f64 rounding)', () => {
  const line = '{"auditEventId":"x","auditEventTime":1763719530123,"auditEventMetadata":{"big":9223372036854775807,"huge":18446744073709551615,"neg":-9223372036854775808}}\n';
  const json = ts.convert(line, { to: 'json' });
  for (const digits of ['9223372036854775807', '18446744073709551615', '-9223372036854775808', '1763719530123']) {
    assert.ok(json.includes(digits), `${digits} in ${json}`);
  }
  assert.equal(ts.convert(ts.convert(line, { to: 'json' }), { to: 'ndjson' }), line);
  const sumo = ts.convert(line, { to: 'sumo' });
  assert.ok(sumo.includes('9223372036854775807'));
});

test('convert: CSV columns, spreadsheet safety and HEC options', () => {
  const csv = ts.convert(text, { to: 'csv', columns: ['auditEventId', 'auditAction', 'auditEventMetadata.note'] });
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'auditEventId,auditAction,auditEventMetadata.note');
  assert.ok(csv.includes("'=SUM(A1)"), csv);
  const unsafe = ts.convert(text, { to: 'csv', columns: ['auditEventMetadata.note'], csvSafety: false });
  assert.ok(!unsafe.includes("'=SUM"));
  const hec = ts.convert(text, { to: 'splunk_hec', hec: { host: 'h1', index: 'audit', fields: { who: 'auditEventAuthor.principal.identifier' } } });
  const first = JSON.parse(hec.split('\n')[0]);
  assert.equal(first.host, 'h1');
  assert.equal(first.index, 'audit');
  assert.equal(first.sourcetype, 'harness:audit');
  assert.deepEqual(first.fields, { who: 'alice' });
  assert.deepEqual(first.event, events[0]);
  assert.equal(first.time, 1763719530.123);
});

test('convert: bad records are skipped, reported to onError, or thrown with stopOnError', () => {
  const input = JSON.stringify(events[0]) + '\n{"broken": \n' + JSON.stringify(events[1]) + '\n';
  const out = ts.convert(input, { from: 'ndjson', to: 'ndjson' });
  assert.equal(out, text);
  const seen = [];
  ts.convert(input, { from: 'ndjson', to: 'ndjson', onError: (e) => seen.push(e) });
  assert.equal(seen.length, 1);
  assert.ok(seen[0] instanceof ts.TrailsiftError);
  assert.equal(seen[0].code, 'bad_json');
  assert.equal(seen[0].line, 2);
  assert.equal(seen[0].record, 1);
  assert.throws(() => ts.convert(input, { from: 'ndjson', to: 'ndjson', stopOnError: true }), (e) => e.code === 'bad_json' && e.line === 2);
});

test('convert: bad options', () => {
  assert.throws(() => ts.convert(text, { to: 'xml' }), (e) => e instanceof ts.TrailsiftError && e.code === 'bad_option');
  assert.throws(() => ts.convert(text, { from: 'ocsf', to: 'json' }), (e) => e.code === 'unsupported');
  assert.throws(() => ts.convert(text, {}), (e) => e.code === 'bad_option');
  assert.throws(() => ts.convert(text), (e) => e.code === 'bad_option');
  assert.throws(() => ts.convert(text, { to: 'json', colums: [] }), (e) => e.code === 'bad_option');
  assert.throws(() => ts.convert(text, { to: 'json', onError: 5 }), (e) => e.code === 'bad_option');
});

test('detectFormat looks at the bytes (through gzip) and the file name', () => {
  const enc = (s) => new TextEncoder().encode(s);
  assert.deepEqual(ts.detectFormat(enc(text)), { format: 'ndjson', gzip: false });
  assert.deepEqual(ts.detectFormat(enc('[\n' + JSON.stringify(events[0]) + ']')), { format: 'json', gzip: false });
  assert.deepEqual(ts.detectFormat(enc('auditEventId,auditAction\nx,y\n')), { format: 'csv', gzip: false });
  assert.deepEqual(ts.detectFormat(gzipSync(text)), { format: 'ndjson', gzip: true });
  assert.deepEqual(ts.detectFormat(enc(''), 'export.jsonl.gz'), { format: 'ndjson', gzip: true });
  assert.deepEqual(ts.detectFormat(enc('   ')), { format: null, gzip: false });
});

async function collect(stream) {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function chunked(data, size) {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= data.length) return c.close();
      c.enqueue(data.slice(at, at + size));
      at += size;
    },
  });
}

// A stream writes CSV with the first event's columns and the final (rest) column; `convert`
// scans its whole input first. With the stream's columns given, `convert` writes the same.
const STREAM_CSV_COLUMNS = { columns: [
  'auditEventId', 'auditEventTime', 'auditEventAuthor.principal.type', 'auditEventAuthor.principal.identifier',
  'auditEventAuthor.principal.email', 'auditModule', 'auditResource.type', 'auditResource.identifier',
  'auditResourceScope.accountIdentifier', 'auditResourceScope.orgIdentifier', 'auditResourceScope.projectIdentifier',
  'auditAction', 'auditHttpRequestInfo.requestMethod', 'auditHttpRequestInfo.clientIP', 'auditEventMetadata', '(rest)',
] };

test('createConvertStream gives what convert gives, for any chunking, gzip in and out', async () => {
  const many = ndjson(Array.from({ length: 300 }, (_, i) => event({ auditEventId: `e${i}`, auditEventMetadata: { i } })));
  const bytes = new TextEncoder().encode(many);
  for (const to of ['json', 'ndjson', 'csv', 'splunk_hec', 'sumo', 'ocsf']) {
    const whole = ts.convert(bytes, { to, ...(to === 'csv' ? STREAM_CSV_COLUMNS : {}) });
    for (const size of [1, 77, 4096]) {
      const out = await collect(chunked(bytes, size).pipeThrough(ts.createConvertStream({ to })));
      assert.deepEqual(out, whole, `${to} in chunks of ${size}`);
    }
  }
  const gz = await collect(chunked(gzipSync(bytes), 100).pipeThrough(ts.createConvertStream({ to: 'csv', gzip: true })));
  assert.equal(gunzipSync(gz).toString('utf8'), ts.convert(many, { to: 'csv', ...STREAM_CSV_COLUMNS }));
});

test('CSV drops no field: convert gives every field a column, a stream keeps later ones in (rest)', async () => {
  const input = ndjson([
    { auditEventId: 'a', auditEventTime: 1 },
    { auditEventId: 'b', auditEventTime: 2, later: { x: '=1', tags: ['t'] } },
  ]);
  const whole = ts.convert(input, { to: 'csv', csvSafety: false });
  assert.ok(whole.split('\r\n')[0].endsWith(',auditEventMetadata,later.x,later.tags'), whole);
  const streamed = new TextDecoder().decode(await collect(
    chunked(new TextEncoder().encode(input), 5).pipeThrough(ts.createConvertStream({ to: 'csv', csvSafety: false })),
  ));
  assert.ok(streamed.split('\r\n')[0].endsWith(',auditEventMetadata,(rest)'), streamed);
  for (const csv of [whole, streamed]) {
    assert.equal(ts.convert(csv, { from: 'csv', to: 'ndjson' }), input);
  }
  // Chosen columns are a projection: nothing is added.
  assert.equal(ts.convert(input, { to: 'csv', columns: ['auditEventId'] }), 'auditEventId\r\na\r\nb\r\n');
});

test('a filter stream and a convert stream chain', async () => {
  const many = ndjson(Array.from({ length: 100 }, (_, i) => event({ auditEventId: `e${i}`, auditAction: i % 2 ? 'DELETE' : 'CREATE' })));
  const out = await new Response(
    chunked(new TextEncoder().encode(many), 333)
      .pipeThrough(ts.createFilterStream(ts.compileFilter('action:DELETE')))
      .pipeThrough(ts.createConvertStream({ from: 'ndjson', to: 'json' })),
  ).text();
  const arr = JSON.parse(out);
  assert.equal(arr.length, 50);
  assert.ok(arr.every((e) => e.auditAction === 'DELETE'));
});
