// Live tail against `wrangler dev`: many subscribers with different queries over the same
// commits each get exactly the events the query API finds with their query. The fan-out
// decides every distinct query on a commit's batch at once; the query API decides on each
// stored event alone, so the two must agree event for event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, makeTokens, event, call } from './harness.mjs';
import { wsTail, sseTail } from './tail-clients.mjs';

const { tokens: T, config } = makeTokens();
let w;

before(async () => {
  w = await startWorker({ tokensConfig: config });
}, { timeout: 600_000 });

after(async () => {
  if (w) {
    await w.stop();
    w.cleanup();
  }
});

// Free text, `user`, a time relative to now, metadata fields inside each other, a network,
// an exact comparison, a preset, one query that matches nothing and one that matches all;
// two subscribers share a query.
const QUERIES = [
  'action:create', 'action:create,update -module:cd', 'user:user1', 'user2@example.com',
  'resource.type:SECRET or module:CD', 'metadata.batchId:b1*', 'metadata.batchId exists',
  'ip:10.0.1.0/24', 'time > now-1h', 'metadata.nested.x:1', 'metadata.nested:*',
  'action == "DELETE"', '-is:system', 'module:nothing', '', 'action:create',
];

const MINUTE = 60_000;

test('many distinct queries over the same commits: each subscriber gets what the query API finds', { timeout: 600_000 }, async () => {
  const subs = [];
  for (const [i, q] of QUERIES.entries()) {
    subs.push({ q, c: await (i % 3 === 1 ? sseTail : wsTail)(w.url, { token: T.aAll, q }) });
  }
  const now = Date.now();
  const evs = Array.from({ length: 120 }, (_, i) => event('acct_a', i, {
    auditEventId: `acct_a-q-${i}`,
    // Far from the `now-1h` boundary, so that the answer does not depend on when it is asked.
    auditEventTime: String(now - (i % 2 ? 10 : 300) * MINUTE),
    auditEventMetadata: { batchId: `b${i}`, nested: i % 3 ? { x: i % 2 } : 'flat' },
  }));
  // One commit as NDJSON, some actions written with a \u escape (which the filters' literal
  // pre-check cannot see through); one as a pretty JSON array, whose events span lines.
  const ndjson = evs.slice(0, 80).map((e) => JSON.stringify(e))
    .map((line, i) => (i % 7 ? line : line.replace('"auditAction":"C', '"auditAction":"\\u0043')))
    .join('\n');
  const pretty = JSON.stringify(evs.slice(80), null, 2);
  for (const [body, type] of [[ndjson, 'application/x-ndjson'], [pretty, 'application/json']]) {
    const r = await call(`${w.url}/v1/events`, T.aAll, { method: 'POST', body, headers: { 'content-type': type } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.accepted, body === ndjson ? 80 : 40);
  }
  const order = new Map(evs.map((e, i) => [e.auditEventId, i]));
  const seen = new Set();
  for (const { q, c } of subs) {
    const r = await call(`${w.url}/v1/events?limit=10000&order=asc&q=${encodeURIComponent(q)}`, T.aAll);
    assert.equal(r.status, 200, r.text);
    const want = r.json.events.map((e) => e.auditEventId).sort((a, b) => order.get(a) - order.get(b));
    seen.add(want.length);
    await c.inbox.until((x) => x.events.length >= want.length, `"${q}": ${want.length} events`);
    assert.deepEqual(c.inbox.ids(), want, q);
  }
  // The queries tell events apart: many different counts, none and all among them.
  assert.ok(seen.has(0) && seen.has(evs.length) && seen.size >= 8, [...seen].join(' '));
  for (const { c } of subs) await c.close();
});
