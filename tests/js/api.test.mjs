// The JS API as the package exposes it: argument kinds, return kinds, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trailsift as ts, event, ndjson } from './helpers.mjs';

const events = [
  event({ auditEventId: 'a', auditAction: 'CREATE' }),
  event({ auditEventId: 'b', auditAction: 'DELETE' }),
  event({ auditEventId: 'c', auditAction: 'UPDATE', auditEventAuthor: { principal: { type: 'SYSTEM', identifier: 'sys' } } }),
];
const text = ndjson(events);
const bytes = new TextEncoder().encode(text);

test('validate takes a string, bytes, one object and an array of objects', () => {
  for (const input of [text, bytes, events]) {
    const report = ts.validate(input);
    assert.deepEqual(report, { valid: 3, rejected: [], warnings: [] });
  }
  assert.deepEqual(ts.validate(events[0]), { valid: 1, rejected: [], warnings: [] });
});

test('validate reports every violation with index, line, id, path and code', () => {
  const bad = { ...events[0], auditEventId: 'bad-1' };
  delete bad.auditModule;
  bad.auditResource = { type: 'SECRET' };
  const report = ts.validate([events[1], bad]);
  assert.equal(report.valid, 1);
  assert.equal(report.rejected.length, 1);
  const [r] = report.rejected;
  assert.equal(r.index, 1);
  assert.equal(r.line, 2);
  assert.equal(r.id, 'bad-1');
  const found = r.errors.map((e) => `${e.path}:${e.code}`).sort();
  assert.deepEqual(found, ['auditModule:missing', 'auditResource.identifier:missing']);
  for (const e of r.errors) assert.equal(typeof e.message, 'string');
});

test('validate: strict rejects unknown fields, vocabulary gives warnings only', () => {
  const extra = { ...events[0], somethingNew: 1 };
  assert.equal(ts.validate([extra]).valid, 1);
  const strict = ts.validate([extra], { strict: true });
  assert.equal(strict.valid, 0);
  assert.equal(strict.rejected[0].errors[0].code, 'unknown_field');
  const odd = { ...events[0], auditModule: 'NO_SUCH_MODULE' };
  const vocab = ts.validate([odd], { vocabulary: true });
  assert.equal(vocab.valid, 1);
  assert.ok(vocab.warnings.length >= 1);
  assert.equal(vocab.warnings[0].index, 0);
  assert.equal(vocab.warnings[0].line, 1);
  assert.equal(ts.validate([odd]).warnings.length, 0);
});

test('validate: a line that is not JSON is rejected with its line; the rest still counts', () => {
  const report = ts.validate(ndjson([events[0]]) + '{"oops":\n' + ndjson([events[1]]));
  assert.equal(report.valid, 2);
  assert.equal(report.rejected.length, 1);
  assert.equal(report.rejected[0].line, 2);
  assert.equal(report.rejected[0].errors[0].code, 'bad_json');
});

test('validate: a JSON array gives the line of each event start', () => {
  const arr = '[\n' + events.map((e) => JSON.stringify(e)).join(',\n') + '\n]';
  const broken = arr.replace('"auditAction":"DELETE"', '"auditAction":""');
  const report = ts.validate(broken);
  assert.equal(report.valid, 2);
  assert.equal(report.rejected[0].index, 1);
  assert.equal(report.rejected[0].line, 3);
});

test('validate: bad options are TrailsiftErrors with a code', () => {
  assert.throws(() => ts.validate(text, { strictt: true }), (e) => e instanceof ts.TrailsiftError && e.code === 'bad_option');
  assert.throws(() => ts.validate(42), (e) => e instanceof ts.TrailsiftError && e.code === 'bad_input');
});

test('compileFilter: text, structured and Logpush filters give the same answers', () => {
  const byText = ts.compileFilter('action in {"CREATE" "DELETE"} and -is:system');
  const byForm = ts.compileFilter({ actions: ['CREATE', 'DELETE'], excludeSystemEvents: true });
  const byLogpush = ts.compileFilter({ where: { and: [{ key: 'auditAction', operator: 'in', value: ['CREATE', 'DELETE'] }] } });
  for (const f of [byText, byForm, byLogpush]) {
    assert.deepEqual(events.map((e) => f.matches(e)), [true, true, false]);
    assert.deepEqual(events.map((e) => f.matches(JSON.stringify(e))), [true, true, false]);
  }
});

test('Filter.filterNdjson returns the matching lines unchanged, as the input type', () => {
  const f = ts.compileFilter('action:DELETE,UPDATE');
  const out = f.filterNdjson(text);
  assert.equal(typeof out, 'string');
  assert.equal(out, ndjson([events[1], events[2]]));
  const outBytes = f.filterNdjson(bytes);
  assert.ok(outBytes instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(outBytes), out);
  assert.equal(f.count(text), 2);
  assert.equal(f.count(bytes), 2);
  // CRLF, blank lines and a missing final newline.
  const crlf = text.trimEnd().split('\n').join('\r\n\r\n');
  assert.equal(f.filterNdjson(crlf), JSON.stringify(events[1]) + '\r\n' + JSON.stringify(events[2]) + '\n');
});

test('a line that is not a JSON event never matches; the others still do', () => {
  const f = ts.compileFilter('');
  assert.equal(f.count('not json\n' + text + '[1,2]\n'), 3 + (f.matches('[1,2]') ? 1 : 0));
});

test('compileFilter: FilterError with code, span, line, column and a caret rendering', () => {
  let error;
  try {
    ts.compileFilter('action == "CREATE" and\n  nosuch:1');
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ts.FilterError);
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'FilterError');
  assert.equal(error.code, 'unknown_field');
  assert.equal(error.line, 2);
  assert.equal(error.column, 3);
  assert.deepEqual(error.span.length, 2);
  assert.equal(error.span[0], 'action == "CREATE" and\n  '.length);
  assert.match(error.rendered, /\^/);
  assert.match(error.rendered, /nosuch/);
  assert.equal(typeof error.message, 'string');
});

test('toQuery round-trips, toIR is JSON, toLogpush exports or names what it cannot', () => {
  const f = ts.compileFilter('action == "CREATE" and resourceType == "SECRET"');
  const again = ts.compileFilter(f.toQuery());
  assert.deepEqual(again.toIR(), f.toIR());
  assert.equal(typeof f.toIR(), 'object');
  const lp = f.toLogpush();
  assert.ok(lp.where);
  assert.deepEqual(ts.compileFilter(lp).toIR(), ts.compileFilter(lp).toIR());
  assert.throws(() => ts.compileFilter('resourceId matches "^a"').toLogpush(), (e) => e instanceof ts.FilterError && e.code === 'logpush_unsupported');
});

test('toStructured gives the form back, the rest in query, or null', () => {
  const form = { users: ['alice'], actions: ['CREATE', 'DELETE'], from: 'now-7d', to: '2026-11-01', excludeSystemEvents: true };
  const f = ts.compileFilter(form, { now: '2026-11-21T10:00:00Z' });
  const s = f.toStructured();
  assert.deepEqual(s, { users: ['alice'], actions: ['CREATE', 'DELETE'], from: 'now-7d', to: '2026-11-01T23:59:59.999Z', excludeSystemEvents: true });
  assert.deepEqual(ts.compileFilter(s).toIR(), f.toIR());
  const mixed = ts.compileFilter('action == "CREATE" and -is:login and resourceId starts_with "prod-"');
  assert.deepEqual(mixed.toStructured(), { actions: ['CREATE'], excludeLoginEvents: true, query: 'resource.identifier starts_with "prod-"' });
  assert.deepEqual(ts.compileFilter(mixed.toStructured()).toIR(), mixed.toIR());
  // A qualifier is case-insensitive: the form's exact lists cannot hold it.
  assert.equal(ts.compileFilter('action:CREATE').toStructured(), null);
  assert.deepEqual(ts.compileFilter('').toStructured(), {});
});

test('explain lists the terms and the answer', () => {
  const f = ts.compileFilter('action:CREATE and -is:system');
  const x = f.explain(events[0]);
  assert.equal(x.matched, true);
  assert.ok(Array.isArray(x.terms) && x.terms.length === 2);
  assert.equal(f.explain(JSON.stringify(events[2])).matched, false);
});

test('now: a fixed moment for relative times, as number or text', () => {
  const t = 1763719530123;
  const near = ts.compileFilter('time >= now-1h', { now: t + 1000 });
  const far = ts.compileFilter('time >= now-1h', { now: '2030-01-01T00:00:00Z' });
  assert.equal(near.matches(events[0]), true);
  assert.equal(far.matches(events[0]), false);
  assert.throws(() => ts.compileFilter('', { now: 'yesterday' }), (e) => e.code === 'bad_option');
  assert.throws(() => ts.compileFilter('', { now: 1.5 }), (e) => e.code === 'bad_option');
});

test('Filter.free releases it; using it after is an error, not a crash', () => {
  const f = ts.compileFilter('action:CREATE');
  f.free();
  assert.throws(() => f.matches(events[0]));
  assert.equal(ts.compileFilter('action:CREATE').matches(events[0]), true);
});

test('large inputs are read in pieces: lines and characters cut at piece ends survive, memory stays small', () => {
  // The package reads strings in pieces of 2^20 UTF-16 units and bytes in pieces of 2^20
  // bytes. Put a surrogate pair and a two-byte character across those cuts.
  const PIECE = 1 << 20;
  const hit = (pad, tail) => JSON.stringify(event({ auditAction: 'DELETE', auditEventMetadata: { pad: 'x'.repeat(pad) + tail } })) + '\n';
  const miss = JSON.stringify(event({ auditEventMetadata: { note: 'é😀' } })) + '\n';
  const lines = [];
  let units = 0;
  while (units + miss.length < PIECE - 2000) {
    lines.push(miss);
    units += miss.length;
  }
  // A matching line whose emoji's first unit is the last unit of the first piece.
  const padAt = hit(0, '').indexOf('"pad":"') + '"pad":"'.length;
  lines.push(hit(PIECE - 1 - units - padAt, '😀é'));
  for (let i = 0; i < 3000; i++) lines.push(i % 7 === 0 ? hit(3, 'ü') : miss);
  const text = lines.join('');
  assert.equal(text.charCodeAt(PIECE - 1), 0xd83d, 'the test puts a high surrogate at the cut');
  const want = lines.filter((l) => JSON.parse(l).auditAction === 'DELETE').join('');
  const f = ts.compileFilter('action:DELETE');
  assert.equal(f.filterNdjson(text), want);
  assert.equal(f.count(text), lines.filter((l) => l.includes('"DELETE"')).length);
  const bytes = new TextEncoder().encode(text);
  assert.equal(new TextDecoder().decode(f.filterNdjson(bytes)), want);
  assert.equal(f.count(bytes), f.count(text));
  const report = ts.validate(text);
  assert.equal(report.valid, lines.length);
  assert.equal(ts.convert(bytes, { from: 'ndjson', to: 'ndjson' }).length, bytes.length);
  f.free();

  // 40 MB in: the module's memory grows by far less than the input.
  const big = miss.repeat(Math.ceil((40 << 20) / miss.length));
  const g = ts.compileFilter('action:DELETE');
  const before = ts.initSync().memory.buffer.byteLength;
  assert.equal(g.count(big), 0);
  assert.equal(g.filterNdjson(big), '');
  assert.equal(ts.validate(big).valid, big.length / miss.length);
  const grown = ts.initSync().memory.buffer.byteLength - before;
  assert.ok(grown < 16 << 20, `wasm memory grew by ${grown} bytes for a ${big.length}-unit string`);
  g.free();
});
