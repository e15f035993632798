// Durability: every acknowledged event survives a restart of `wrangler dev` on the same state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, makeTokens, event, call } from './harness.mjs';

test('a restart keeps every acknowledged event', { timeout: 900_000 }, async () => {
  const { tokens: T, config } = makeTokens();
  let w = await startWorker({ tokensConfig: config });
  const dir = w.dir;
  try {
    let acknowledged = 0;
    for (let b = 0; b < 5; b++) {
      const evs = Array.from({ length: 200 }, (_, i) => event('acct_a', b * 200 + i, { auditEventTime: String(Date.now() - 1000 * (b * 200 + i)) }));
      const r = await call(`${w.url}/v1/events`, T.aAll, {
        method: 'POST', body: evs.map((e) => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' },
      });
      assert.equal(r.status, 200, r.text);
      acknowledged += r.json.accepted;
    }
    assert.equal(acknowledged, 1000);
    await w.stop();
    w = await startWorker({ tokensConfig: config, persist: dir });
    const seen = new Set();
    let cursor = null;
    do {
      const r = await call(`${w.url}/v1/events?limit=300${cursor ? `&cursor=${cursor}` : ''}`, T.aRead);
      assert.equal(r.status, 200, r.text);
      for (const e of r.json.events) seen.add(e.auditEventId);
      cursor = r.json.cursor;
    } while (cursor);
    assert.equal(seen.size, acknowledged);
    // sequence numbers continue after the restart
    const r = await call(`${w.url}/v1/events`, T.aAll, {
      method: 'POST', body: JSON.stringify(event('acct_a', 5000)), headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.json.firstSeq, 1001);
  } finally {
    await w.stop();
    w.cleanup();
  }
});
