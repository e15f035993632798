// A WebSocket subscriber survives the account object's hibernation: the object is evicted
// while the socket stays open, and the next commit still reaches the subscriber, once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, makeTokens, event, call } from './harness.mjs';
import { wsTail } from './tail-clients.mjs';

// `wrangler dev` evicts an idle object after about 10 seconds.
const IDLE_MS = 25_000;

test('a subscriber survives the object\'s hibernation and still receives events', { timeout: 900_000 }, async () => {
  const { tokens: T, config } = makeTokens();
  // The object keeps the account's request budget in memory only: with a budget of 2
  // requests a minute, a third request within the minute is admitted only by a new object,
  // which is how this test knows that the object was evicted in between.
  const w = await startWorker({ tokensConfig: config, vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '2' } });
  try {
    const post = (e) => call(`${w.url}/v1/events`, T.aAll, {
      method: 'POST', body: JSON.stringify(e), headers: { 'content-type': 'application/json' },
    });
    const sub = await wsTail(w.url, { token: T.aRead, q: 'action:create' }); // request 1
    assert.equal(sub.status, 101);
    const first = event('acct_a', 0, { auditEventId: 'before-sleep', auditAction: 'CREATE' });
    assert.equal((await post(first)).status, 200); // request 2: the budget is spent
    await sub.inbox.until((i) => i.events.length === 1, 'the first event');
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const second = event('acct_a', 1, { auditEventId: 'after-sleep', auditAction: 'CREATE' });
    const r = await post(second);
    assert.equal(r.status, 200, `admitted only by a new object (${r.status} ${r.text})`);
    await sub.inbox.until((i) => i.events.length >= 2, 'the event after hibernation');
    assert.deepEqual(sub.inbox.events.map((e) => e.auditEventId), ['before-sleep', 'after-sleep']);
    assert.equal(sub.ws.readyState, 1, 'the socket stayed open');
    await sub.close();
  } finally {
    await w.stop();
    w.cleanup();
  }
});
