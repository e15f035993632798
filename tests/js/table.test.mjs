// What a viewer page uses: Input (raw chunks to NDJSON lines), Table (rows by column,
// filtered as filterNdjson filters lines), readBlock, fieldCatalog and parseTime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { trailsift as ts, event, ndjson } from './helpers.mjs';

const enc = new TextEncoder();
const dec = new TextDecoder();

const events = [];
for (let i = 0; i < 300; i++) {
  events.push(event({
    auditEventId: `ev-${i}`,
    auditAction: ['CREATE', 'LOGIN', 'DELETE', 'FORCE_PUSH'][i % 4],
    auditEventTime: i % 3 ? String(1767225600000 + i * 1000) : new Date(1767225600000 + i * 1000).toISOString(),
    auditModule: i % 5 ? 'CORE' : 'CD',
    auditEventAuthor: { principal: i % 7 ? { type: 'USER', identifier: `u${i % 10}`, email: `u${i % 10}@example.com` } : { type: 'SYSTEM', identifier: 'sys' } },
    auditHttpRequestInfo: { requestMethod: ['POST', 'GET', 'put', 'DELETE'][i % 4 ? i % 3 : 3], clientIP: `10.0.0.${i % 9}` },
  }));
}
// Lines as a file may hold them: CRLF, a blank line, a line that is not JSON, escapes.
const text = ndjson(events.slice(0, 100)) + '\n' + JSON.stringify(events[100]) + '\r\n{"oops"\n'
  + JSON.stringify(events[101]).replace('"LOGIN"', '"\\u004cOGIN"') + '\n' + ndjson(events.slice(102));
const bytes = enc.encode(text);

// Reads `input` through Input in chunks of `size` into a Table; returns both.
function load(input, name, size, withShardColumns = false) {
  const reader = new ts.Input(name);
  const table = new ts.Table();
  const add = (lines) => {
    if (!lines.length) return;
    const first = reader.firstLine;
    table.push(lines, first, withShardColumns ? ts.readBlock(lines, first) : undefined);
  };
  for (let at = 0; at < input.length; at += size) add(reader.push(input.subarray(at, at + size)));
  add(reader.finish());
  return { reader, table };
}

const QUERIES = ['', '-is:login', 'action:FORCE_PUSH', 'action:create,delete -is:system', 'user:u3@example.com',
  'time >= 2026-01-01T00:02:00Z', 'module:CD or email ends_with "9@example.com"', 'metadata.batchId exists', '"force"', 'id:ev-10*',
  'method:POST,PUT -is:login', 'ip:10.0.0.0/30'];

test('Input hands back the NDJSON lines unchanged, in any chunking', () => {
  for (const size of [1, 7, 1000, 1 << 20]) {
    const reader = new ts.Input('events.ndjson');
    const parts = [];
    for (let at = 0; at < bytes.length; at += size) parts.push(reader.push(bytes.subarray(at, at + size)));
    parts.push(reader.finish());
    assert.equal(dec.decode(Buffer.concat(parts)), text, `chunks of ${size}`);
    assert.equal(reader.format, 'ndjson');
    assert.equal(reader.gzip, false);
  }
});

test('Input reads gzip and other formats, and keeps the errors', () => {
  const { reader, table } = load(gzipSync(bytes), 'x.gz', 4096);
  assert.equal(reader.gzip, true);
  assert.equal(table.rows, 301, 'every line that is not blank is a row');
  const json = ts.convert(ndjson(events.slice(0, 20)), { to: 'json' });
  const fromJson = load(enc.encode(json), 'x.json', 100);
  assert.equal(fromJson.reader.format, 'json');
  assert.equal(dec.decode(fromJson.table.lines(Uint32Array.from({ length: 20 }, (_, i) => i))), ts.convert(json, { to: 'ndjson' }));
  const cut = new ts.Input();
  const gz = gzipSync(bytes);
  cut.push(gz.subarray(0, gz.length - 8));
  cut.finish();
  const errors = cut.takeErrors();
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof ts.TrailsiftError);
  assert.equal(errors[0].code, 'truncated');
  assert.deepEqual(cut.takeErrors(), []);
});

test('Table.filter gives the rows whose lines filterNdjson keeps, and lines() writes them', () => {
  const now = 1767225700000;
  for (const shard of [false, true]) {
    const { table } = load(bytes, 'events.ndjson', 5000, shard);
    assert.equal(table.rows, 301);
    for (const q of QUERIES) {
      const f = ts.compileFilter(q, { now });
      const rows = table.filter(f, 0);
      assert.ok(rows instanceof Uint32Array);
      assert.equal(dec.decode(table.lines(rows)), f.filterNdjson(text), `${q} (columns read ${shard ? 'by readBlock' : 'by push'})`);
      assert.deepEqual([...table.filter(f, 150)], [...rows].filter((r) => r >= 150));
      f.free();
    }
    table.free();
  }
});

test('Table columns: value indexes, values, times and the lines that are not JSON', () => {
  const { table } = load(bytes, 'events.ndjson', 1 << 20);
  const actions = table.values('auditAction', 0);
  assert.equal(actions[0], '');
  const ids = table.ids('auditAction', 0);
  assert.equal(ids.length, 301);
  assert.equal(actions[ids[0]], 'CREATE');
  assert.equal(actions[ids[102]], 'LOGIN', 'escapes are read as the filter reads them');
  assert.equal(ids[101], 0, 'a line that is not JSON has no values');
  const methods = table.values('auditHttpRequestInfo.requestMethod', 0);
  assert.deepEqual([...table.ids('auditHttpRequestInfo.requestMethod', 0).slice(0, 4)].map((id) => methods[id]), ['DELETE', 'GET', 'put', 'POST']);
  const users = table.values('user', 0);
  assert.equal(users[table.ids('user', 0)[0]], 'sys');
  assert.equal(users[table.ids('user', 0)[1]], 'u1@example.com', 'user shows the email, else the identifier');
  const times = table.times(0);
  assert.ok(times instanceof Float64Array);
  assert.equal(times[0], 1767225600000);
  assert.equal(times[1], 1767225601000);
  assert.ok(Number.isNaN(times[101]));
  assert.deepEqual(table.times(300), times.subarray(300));
  const unread = table.unread();
  assert.equal(unread.length, 1);
  assert.equal(unread[0].row, 101);
  assert.equal(unread[0].line, 103);
  assert.equal(typeof unread[0].message, 'string');
  assert.ok(unread[0] instanceof ts.TrailsiftError);
  assert.equal(unread[0].code, 'bad_json');
  assert.deepEqual(table.values('auditNoSuchField', 0), []);
});

test('fieldCatalog names the form lists, presets and table fields', () => {
  const c = ts.fieldCatalog();
  assert.deepEqual(c.presets, ['login', 'system']);
  const lists = Object.fromEntries(c.formLists.map((l) => [l.key, l.path]));
  assert.equal(lists.users, 'user');
  assert.equal(lists.organizations, 'auditResourceScope.orgIdentifier');
  assert.equal(c.tableFields[0], 'auditEventTime');
  for (const key of Object.keys(c.vocabulary)) assert.ok(key in lists, key);
  for (const { path } of c.formLists) assert.ok(path === 'user' || c.tableFields.includes(path), path);
  const names = c.names.flatMap((n) => [n.path, ...n.aliases]);
  assert.ok(names.includes('auditResourceScope.orgIdentifier'));
  assert.ok(!names.some((n) => /origidentifier/i.test(n)));
});

test('parseTime takes the filter time forms and rejects a time without an offset', () => {
  assert.equal(ts.parseTime('2026-01-01T10:00:00+02:00'), 1767254400000);
  assert.equal(ts.parseTime('2026-01-01', { end: true }), 1767225600000 + 86400000 - 1);
  assert.equal(ts.parseTime('now-7d', { now: 1767254400000 }), 1767254400000 - 7 * 86400000);
  for (const bad of ['2026-01-01T10:00:00', '2026-01-01 10:00', 'yesterday']) {
    assert.throws(() => ts.parseTime(bad), (e) => e instanceof ts.TrailsiftError && e.code === 'bad_time', bad);
  }
  assert.throws(() => ts.parseTime('now', { nw: 1 }), (e) => e.code === 'bad_option');
  assert.throws(() => ts.parseTime('now', { end: 'yes' }), (e) => e.code === 'bad_option');
});
