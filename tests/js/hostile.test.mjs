// Hostile input through the JS API gives errors (or non-matches), never a crashed or
// poisoned module: after each case a normal call must still work. A Rust panic would
// abort the wasm instance (panic = "abort") and every later call would fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trailsift as ts, event, ndjson } from './helpers.mjs';

const good = event();
const goodLine = JSON.stringify(good);

function stillWorks() {
  assert.deepEqual(ts.validate(goodLine), { valid: 1, rejected: [], warnings: [] });
  const f = ts.compileFilter('action:CREATE and user:alice');
  assert.equal(f.matches(good), true);
  assert.equal(f.count(goodLine + '\n' + goodLine), 2);
  f.free();
}

const deepJson = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const deepEvent = (n) => goodLine.slice(0, -1) + ',"auditEventMetadata":' + deepJson(n) + '}';

function deepObject(n) {
  let o = { leaf: true };
  for (let i = 0; i < n; i++) o = { a: o };
  return o;
}

const cases = {
  'validate: JSON nested 100,000 deep': () => {
    const r = ts.validate(deepEvent(100000));
    assert.equal(r.valid, 0);
    assert.match(r.rejected[0].errors[0].code, /too_deep|bad_json/);
  },
  'validate: event objects nested 200 and 100,000 deep': () => {
    const r = ts.validate({ ...good, auditEventMetadata: deepObject(200) });
    assert.equal(r.valid, 0);
    assert.equal(r.rejected[0].errors[0].code, 'too_deep');
    // Deeper than JSON.stringify itself can go: its failure is a TrailsiftError.
    assert.throws(() => ts.validate({ ...good, auditEventMetadata: deepObject(100000) }), (e) => e instanceof ts.TrailsiftError && e.code === 'bad_input');
  },
  'validate: a 10 MB line': () => {
    const big = { ...good, auditEventMetadata: { blob: 'x'.repeat(10 << 20) } };
    const r = ts.validate(JSON.stringify(big) + '\n' + goodLine + '\n');
    assert.equal(r.valid, 1);
    assert.equal(r.rejected[0].line, 1);
    assert.equal(r.rejected[0].errors[0].code, 'too_large');
  },
  'validate: invalid UTF-8 bytes': () => {
    const raw = new TextEncoder().encode(goodLine.replace('alice', 'al\u0001ce'));
    const bad = Uint8Array.from(raw, (b) => (b === 1 ? 0xff : b));
    const r = ts.validate(new Uint8Array([...bad, 10, ...new TextEncoder().encode(goodLine)]));
    assert.equal(r.valid, 1);
    assert.equal(r.rejected[0].errors[0].code, 'bad_utf8');
  },
  'validate: random bytes': () => {
    const noise = new Uint8Array(100000);
    let x = 12345;
    for (let i = 0; i < noise.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      noise[i] = x >> 16;
    }
    const r = ts.validate(noise);
    assert.equal(r.valid, 0);
  },
  'validate: a truncated gzip stream': () => {
    const r = ts.validate(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2]));
    assert.equal(r.valid, 0);
  },
  'compileFilter: a query nested 10,000 levels deep': () => {
    assert.throws(() => ts.compileFilter('('.repeat(10000) + 'action:x' + ')'.repeat(10000)), (e) => e instanceof ts.FilterError);
    assert.throws(() => ts.compileFilter('not '.repeat(10000) + 'action:x'), (e) => e instanceof ts.FilterError);
  },
  'compileFilter: a 1 MB query': () => {
    assert.throws(() => ts.compileFilter('action:' + 'A'.repeat(1 << 20)), (e) => e instanceof ts.FilterError && e.code === 'too_long');
  },
  'compileFilter: a hostile regex is linear, not an error or a hang': () => {
    const f = ts.compileFilter('resourceId matches "^(a+)+$"');
    assert.equal(f.matches({ ...good, auditResource: { type: 'X', identifier: 'a'.repeat(50000) + 'b' } }), false);
  },
  'compileFilter: structured and Logpush filters that are not what they claim': () => {
    assert.throws(() => ts.compileFilter({ users: 'alice' }), (e) => e instanceof ts.FilterError);
    assert.throws(() => ts.compileFilter({ where: { and: 5 } }), (e) => e instanceof ts.FilterError);
    assert.throws(() => ts.compileFilter({ nonsense: [] }), (e) => e instanceof ts.FilterError);
    assert.throws(() => ts.compileFilter(null), (e) => e.code === 'bad_input');
    assert.throws(() => ts.compileFilter({ where: deepObject(100000) }));
  },
  'Filter: deep, huge and broken events': () => {
    const f = ts.compileFilter('metadata.a exists or "needle"');
    assert.equal(f.count(deepEvent(100000) + '\n' + goodLine + '\n'), 0);
    assert.throws(() => f.matches(deepEvent(100000)), (e) => e instanceof ts.TrailsiftError);
    assert.throws(() => f.matches('{"auditAction": '), (e) => e.code === 'bad_json');
    const big = JSON.stringify({ ...good, auditEventMetadata: { blob: 'x'.repeat(10 << 20) + 'needle' } });
    assert.equal(f.count(big + '\n'), 1);
    assert.equal(f.filterNdjson(new Uint8Array([0xff, 0xfe, 10, 0x7b, 0x80, 10])).length, 0);
    assert.throws(() => f.explain('{{{'), (e) => e.code === 'bad_json');
  },
  'Filter stream: a line longer than the stream limit is an error': async () => {
    const f = ts.compileFilter('');
    const huge = new Uint8Array(65 << 20).fill(0x20);
    const stream = new Blob([huge]).stream().pipeThrough(ts.createFilterStream(f));
    await assert.rejects(new Response(stream).arrayBuffer(), (e) => e.code === 'too_large' && e.line === 1);
    // The error names the line: three lines come before it.
    const after = new Blob(['{"a":1}\n\n \r\n', huge]).stream().pipeThrough(ts.createFilterStream(f));
    await assert.rejects(new Response(after).arrayBuffer(), (e) => e.code === 'too_large' && e.line === 4);
  },
  'wrong argument types': () => {
    assert.throws(() => ts.compileFilter('').filterNdjson(42), (e) => e.code === 'bad_input');
    assert.throws(() => ts.compileFilter('').matches(42), (e) => e.code === 'bad_input');
    assert.throws(() => ts.compileFilter('', { now: {} }), (e) => e.code === 'bad_option');
    const cyclic = {};
    cyclic.self = cyclic;
    assert.throws(() => ts.validate(cyclic), (e) => e.code === 'bad_input');
    assert.throws(() => ts.compileFilter('').matches(cyclic), (e) => e.code === 'bad_input');
    assert.throws(() => ts.validate({ big: 1n }), (e) => e.code === 'bad_input');
  },
};

for (const [name, run] of Object.entries(cases)) {
  test(`hostile: ${name}; the module still works after`, async () => {
    stillWorks();
    await run();
    stillWorks();
  });
}
