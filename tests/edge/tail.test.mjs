// Live tail against `wrangler dev`: WebSocket and Server-Sent Events subscribers, resuming,
// tickets, refusals, several filters, a subscriber that does not read, dead sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerPerFile, event, call } from './harness.mjs';
import { wsTail, sseTail } from './tail-clients.mjs';

// A subscriber's buffer smaller than the default, so that the tests pass it with fewer events.
const BUFFER = 1000;

const W = workerPerFile({ vars: { TAIL_BUFFER_EVENTS: String(BUFFER) } });
const T = W.tokens;

let serial = 0;
/** `n` events of `account`, ids unique across the run; `over(i)` overrides fields. */
function events(account, n, over = () => ({})) {
  return Array.from({ length: n }, () => {
    const i = serial++;
    return event(account, i, { auditEventId: `${account}-tail-${i}`, auditEventTime: String(Date.now()), ...over(i) });
  });
}

/** Ingests and answers each stored event with its sequence number. */
async function ingest(token, evs) {
  const r = await call(`${W.url}/v1/events`, token, {
    method: 'POST',
    body: evs.map((e) => JSON.stringify(e)).join('\n'),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, evs.length, 'every event is new');
  return evs.map((e, i) => ({ ...e, seq: r.json.firstSeq + i }));
}

const isCreate = (e) => e.auditAction === 'CREATE';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Commits an event every query of the acct_b tests matches but one. */
let nudges = 0;
const nudgeB = () => ingest(T.bAll, events('acct_b', 1, () => (nudges++ % 2
  ? { auditAction: 'CREATE' }
  : { auditAction: 'DELETE', auditModule: 'CD', auditResource: { type: 'PIPELINE', identifier: 'nudge' } })));
/** acct_b's open subscribers, once they equal `n`. workerd notices that an SSE client is
 * gone when it next writes to it (an event, or the keep-alive comment every 15 s): `nudge`
 * commits events the subscribers match. */
async function subscribersReach(n, nudge = async () => {}) {
  let now;
  for (let i = 0; i < 600; i++) {
    now = (await call(`${W.url}/v1/stats`, T.bAll)).json.subscribers;
    if (now === n) return now;
    await nudge();
    await sleep(100);
  }
  return now;
}
const ids = (evs) => evs.map((e) => e.auditEventId);
/** An event every filter of these tests matches, to know that what came before it is all. */
const sentinel = (account) => events(account, 1, () => ({ auditAction: 'CREATE', auditModule: 'CORE', auditResource: { type: 'SECRET', identifier: 'sentinel' } }));

test('both transports get exactly the matching events committed after they connect, in commit order', async () => {
  await ingest(T.aAll, events('acct_a', 20)); // before anyone listens: never sent
  const ws = await wsTail(W.url, { token: T.aRead, q: 'action:create' });
  const sse = await sseTail(W.url, { token: T.aRead, q: 'action:create' });
  assert.equal(ws.status, 101);
  assert.equal(sse.status, 200);
  assert.match(sse.headers['content-type'], /^text\/event-stream/);
  const stored = [];
  for (let b = 0; b < 3; b++) stored.push(...await ingest(T.aAll, events('acct_a', 40)));
  await ingest(T.bAll, events('acct_b', 40)); // another account: never sent
  stored.push(...await ingest(T.aAll, sentinel('acct_a')));
  const want = stored.filter(isCreate);
  for (const [name, c] of [['ws', ws], ['sse', sse]]) {
    await c.inbox.until((i) => i.events.length >= want.length, `${name}: ${want.length} events`);
    assert.deepEqual(ids(c.inbox.events), ids(want), name);
    assert.deepEqual(c.inbox.events[0], Object.fromEntries(Object.entries(want[0]).filter(([k]) => k !== 'seq')), `${name}: the event as stored`);
    assert.deepEqual(c.inbox.dropped, [], name);
  }
  assert.deepEqual(sse.inbox.seqs, want.map((e) => e.seq), 'SSE ids are the sequence numbers');
  await ws.close();
  sse.close();
});

test('resuming from a sequence number and from Last-Event-ID: stored matches, then live, no gap, no repeat', async () => {
  const stored = await ingest(T.aAll, events('acct_a', 60));
  const from = stored[17].seq;
  const ws = await wsTail(W.url, { token: T.aRead, q: 'action:create', after: from });
  const sse = await sseTail(W.url, { token: T.aRead, q: 'action:create', after: from });
  // Last-Event-ID wins over after= (a browser reconnects with its first URL).
  const sseId = await sseTail(W.url, { token: T.aRead, q: 'action:create', after: 1, lastEventId: from });
  const live = await ingest(T.aAll, [...events('acct_a', 30), ...sentinel('acct_a')]);
  const want = [...stored, ...live].filter((e) => e.seq > from && isCreate(e));
  for (const [name, c] of [['ws after=', ws], ['sse after=', sse], ['sse Last-Event-ID', sseId]]) {
    await c.inbox.until((i) => i.events.length >= want.length, `${name}: ${want.length} events`);
    assert.deepEqual(ids(c.inbox.events), ids(want), name);
  }
  assert.deepEqual(sse.inbox.seqs, want.map((e) => e.seq));
  await ws.close();
  sse.close();
  sseId.close();
});

test('an SSE stream opens with `ready` naming where it starts: resuming from it before any event misses nothing', async () => {
  const before = await ingest(T.aAll, events('acct_a', 10));
  const head = before[before.length - 1].seq;
  const sse = await sseTail(W.url, { token: T.aRead, q: 'action:create' });
  await sse.inbox.until((i) => i.ready.length === 1, 'the ready message');
  assert.deepEqual(sse.inbox.ready, [[head, head]], 'starts after the last stored event');
  sse.close(); // lost before its first event
  const missed = await ingest(T.aAll, [...events('acct_a', 30), ...sentinel('acct_a')]);
  const again = await sseTail(W.url, { token: T.aRead, q: 'action:create', lastEventId: sse.inbox.ready[0][0] });
  const want = missed.filter(isCreate);
  await again.inbox.until((i) => i.events.length >= want.length, `${want.length} events`);
  assert.deepEqual(ids(again.inbox.events), ids(want));
  assert.deepEqual(again.inbox.ready, [[head, head]], 'a resumed stream starts where it was asked to');
  again.close();
});

test('a resumed subscriber receives every stored match even past its buffer, and live ones after', async () => {
  // More matching stored events than a subscriber's buffer: none may be dropped.
  const stored = [];
  for (let b = 0; b < 3; b++) stored.push(...await ingest(T.aAll, events('acct_a', BUFFER, () => ({ auditModule: 'RESUME' }))));
  const q = 'module:RESUME';
  const ws = await wsTail(W.url, { token: T.aRead, q, after: stored[0].seq - 1 });
  const sse = await sseTail(W.url, { token: T.aRead, q, after: stored[0].seq - 1 });
  const live = await ingest(T.aAll, events('acct_a', 5, () => ({ auditModule: 'RESUME' })));
  const want = [...stored, ...live];
  for (const [name, c] of [['ws', ws], ['sse', sse]]) {
    await c.inbox.until((i) => i.events.length >= want.length, `${name}: ${want.length} events`);
    assert.deepEqual(ids(c.inbox.events), ids(want), name);
    assert.deepEqual(c.inbox.dropped, [], name);
  }
  await ws.close();
  sse.close();
});

test('tickets work once, only for their account, and carry the scopes of their token', async () => {
  const issued = await call(`${W.url}/v1/stream/tickets`, T.aRead, { method: 'POST' });
  assert.equal(issued.status, 200, issued.text);
  assert.equal(issued.json.expiresInSeconds, 60);
  assert.equal(typeof issued.json.ticket, 'string');
  const ticket = issued.json.ticket;
  const sse = await sseTail(W.url, { ticket, q: 'action:create' });
  assert.equal(sse.status, 200);
  const again = await sseTail(W.url, { ticket, q: 'action:create' });
  assert.equal(again.status, 401, 'a ticket works once');
  assert.equal(again.json.error.code, 'unauthorized');

  const wsTicket = (await call(`${W.url}/v1/stream/tickets`, T.aAll, { method: 'POST' })).json.ticket;
  const ws = await wsTail(W.url, { ticket: wsTicket, q: 'action:create' });
  assert.equal(ws.status, 101);
  assert.equal((await wsTail(W.url, { ticket: wsTicket })).status, 401);

  // The ticket names its account: pointing it at another account finds nothing there.
  const other = (await call(`${W.url}/v1/stream/tickets`, T.aRead, { method: 'POST' })).json.ticket;
  const [, secret] = other.split('.');
  const forged = `${Buffer.from('acct_b').toString('hex')}.${secret}`;
  assert.equal((await sseTail(W.url, { ticket: forged })).status, 401);
  for (const bad of ['', 'nonsense', '.', `${Buffer.from('acct_a').toString('hex')}.`]) {
    assert.equal((await sseTail(W.url, { ticket: bad })).status, 401, bad);
  }

  // Each subscriber sees its own account only.
  const a = await ingest(T.aAll, events('acct_a', 12));
  await ingest(T.bAll, events('acct_b', 12));
  const end = await ingest(T.aAll, sentinel('acct_a'));
  const want = [...a, ...end].filter(isCreate);
  for (const [name, c] of [['sse', sse], ['ws', ws]]) {
    await c.inbox.until((i) => i.events.length >= want.length, name);
    assert.deepEqual(ids(c.inbox.events), ids(want), name);
  }
  sse.close();
  await ws.close();

  // A ticket is for a read token; an ingest-only token gets none, nobody gets one without a token.
  assert.equal((await call(`${W.url}/v1/stream/tickets`, T.aIngest, { method: 'POST' })).status, 403);
  assert.equal((await call(`${W.url}/v1/stream/tickets`, null, { method: 'POST' })).status, 401);
  assert.equal((await call(`${W.url}/v1/stream/tickets`, T.aRead)).status, 405);
});

test('no token 401, an ingest-only token 403, a bad query 400 with its code', async () => {
  for (const open of [wsTail, sseTail]) {
    const none = await open(W.url, {});
    assert.equal(none.status, 401, open.name);
    assert.equal(none.json.error.code, 'unauthorized');
    assert.equal((await open(W.url, { token: 'nope' })).status, 401);
    const ingestOnly = await open(W.url, { token: T.aIngest });
    assert.equal(ingestOnly.status, 403);
    assert.equal(ingestOnly.json.error.code, 'forbidden');
    const bad = await open(W.url, { token: T.aRead, q: 'acton:create' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'bad_filter');
    assert.equal(typeof bad.json.error.details.code, 'string', 'the filter error code');
    assert.equal(bad.json.error.details.column, 1);
    const after = await open(W.url, { token: T.aRead, after: 'yesterday' });
    assert.equal(after.status, 400);
    assert.equal(after.json.error.code, 'bad_parameter');
    const long = await open(W.url, { token: T.aRead, q: `module:${'x'.repeat(5000)}` });
    assert.equal(long.status, 400);
    assert.equal(long.json.error.code, 'bad_parameter');
  }
  const lastId = await sseTail(W.url, { token: T.aRead, lastEventId: '-3' });
  assert.equal(lastId.status, 400);
  assert.equal(lastId.json.error.code, 'bad_parameter');
  // Neither a WebSocket nor an event stream.
  const plain = await call(`${W.url}/v1/stream`, T.aRead);
  assert.equal(plain.status, 400);
  assert.equal(plain.json.error.code, 'bad_request');
  assert.equal((await call(`${W.url}/v1/stream`, T.aRead, { method: 'POST' })).status, 405);
});

test('several subscribers with different filters each get their own matches', async () => {
  const queries = ['action:create', 'action:delete', 'module:CD and resource.type:PIPELINE', '', 'action:create'];
  const subs = [];
  for (const [i, q] of queries.entries()) {
    subs.push({ q, c: await (i % 2 ? sseTail : wsTail)(W.url, { token: T.bAll, q }) });
  }
  const stored = await ingest(T.bAll, [...events('acct_b', 80), ...events('acct_b', 1, () => ({ auditAction: 'DELETE', auditModule: 'CD', auditResource: { type: 'PIPELINE', identifier: 'end' } }))]);
  const matches = {
    'action:create': isCreate,
    'action:delete': (e) => e.auditAction === 'DELETE',
    'module:CD and resource.type:PIPELINE': (e) => e.auditModule === 'CD' && e.auditResource.type === 'PIPELINE',
    '': () => true,
  };
  // The last event matches all but the CREATE filters: end those with one more.
  const extra = await ingest(T.bAll, events('acct_b', 1, () => ({ auditAction: 'CREATE' })));
  for (const { q, c } of subs) {
    const want = [...stored, ...extra].filter(matches[q]);
    await c.inbox.until((i) => i.events.length >= want.length, `"${q}": ${want.length} events`);
    assert.deepEqual(ids(c.inbox.events), ids(want), q);
  }
  assert.equal(await subscribersReach(queries.length), queries.length, 'subscribers in /v1/stats');
  for (const { c } of subs) await c.close();
  assert.equal(await subscribersReach(0, nudgeB), 0, 'closed subscribers are gone');
});

test('a subscriber that does not read gets a dropped notice; the Worker stays healthy and the connection usable', { timeout: 600_000 }, async (t) => {
  const q = 'module:FLOOD';
  const slowSse = await sseTail(W.url, { token: T.aRead, q, reading: false });
  const slowWs = await wsTail(W.url, { token: T.aRead, q });
  slowWs.ws.pause();
  const reader = await sseTail(W.url, { token: T.aRead, q: 'module:FLOOD and action:create' });
  // Commits of twice the buffer, a quarter of them for the reading subscriber.
  const flood = [];
  for (let b = 0; b < 10; b++) {
    flood.push(...await ingest(T.aAll, events('acct_a', 2 * BUFFER, () => ({ auditModule: 'FLOOD' }))));
  }
  assert.equal(flood.length, 20_000);
  // Healthy meanwhile: other requests are answered, and another subscriber gets everything.
  assert.equal((await call(`${W.url}/v1/health`)).status, 200);
  const stats = await call(`${W.url}/v1/stats?q=module:FLOOD`, T.aRead);
  assert.equal(stats.status, 200);
  assert.equal(stats.json.total, 20_000);
  const creates = flood.filter(isCreate);
  await reader.inbox.until((i) => i.events.length >= creates.length, 'the reading subscriber');
  assert.deepEqual(ids(reader.inbox.events), ids(creates));

  // Still usable: one more event after the flood arrives after the notice.
  const last = await ingest(T.aAll, events('acct_a', 1, () => ({ auditModule: 'FLOOD' })));
  slowSse.resume();
  slowWs.ws.resume();
  for (const [name, c] of [['sse', slowSse], ['ws', slowWs]]) {
    await c.inbox.until((i) => i.events.at(-1)?.auditEventId === last[0].auditEventId, `${name}: the event after the flood`);
    const inbox = c.inbox;
    t.diagnostic(`${name}: ${inbox.events.length} delivered, ${inbox.droppedTotal} dropped in ${inbox.dropped.length} notices`);
    assert.ok(inbox.dropped.length >= 1, `${name} got a dropped notice`);
    // Every matching event was either delivered, in order, or counted as dropped.
    assert.equal(inbox.events.length + inbox.droppedTotal, flood.length + 1, name);
    const order = new Map([...flood, ...last].map((e, i) => [e.auditEventId, i]));
    const positions = inbox.events.map((e) => order.get(e.auditEventId));
    assert.ok(positions.every((p, i) => p !== undefined && (i === 0 || p > positions[i - 1])), `${name}: in commit order`);
  }
  slowSse.close();
  reader.close();
  await slowWs.close();
});

test('dead sockets are cleaned up even when no close arrives', async () => {
  assert.equal(await subscribersReach(0, nudgeB), 0);
  const ws = await wsTail(W.url, { token: T.bAll, q: 'action:create' });
  const sse = await sseTail(W.url, { token: T.bAll, q: 'action:create' });
  const quiet = await sseTail(W.url, { token: T.bAll, q: 'module:NEVER' });
  assert.equal(await subscribersReach(3), 3);
  // Cut the connections without a close frame.
  ws.ws._socket.destroy();
  sse.res.socket.destroy();
  assert.equal(await subscribersReach(1, nudgeB), 1);
  // A subscriber that gets no events is found out by the keep-alive comment.
  quiet.res.socket.destroy();
  assert.equal(await subscribersReach(0), 0);
});

test('the OpenAPI document describes the stream, the tickets and the notices', async () => {
  const o = (await call(`${W.url}/v1/openapi.json`)).json;
  const stream = o.paths['/v1/stream']?.get;
  assert.ok(stream, 'GET /v1/stream');
  assert.deepEqual(stream.security, [{ bearer: [] }, { ticket: [] }]);
  for (const p of ['q', 'after', 'Last-Event-ID', 'ticket']) {
    assert.ok(stream.parameters.some((x) => x.name === p), p);
  }
  assert.ok(stream.responses['101'] && stream.responses['200'].content['text/event-stream']);
  assert.ok(o.paths['/v1/stream/tickets']?.post, 'POST /v1/stream/tickets');
  assert.deepEqual(o.components.schemas.StreamTicket.required, ['ticket', 'expiresInSeconds']);
  assert.deepEqual(o.components.schemas.DroppedNotice.required, ['dropped']);
  assert.ok(o.components.schemas.Stats.required.includes('subscribers'));
});
