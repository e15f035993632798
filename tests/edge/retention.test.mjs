// Retention: the account object's alarm deletes events older than RETENTION_DAYS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, makeTokens, event, call } from './harness.mjs';

test('the retention alarm deletes events older than the retention', { timeout: 900_000 }, async () => {
  const { tokens: T, config } = makeTokens();
  const w = await startWorker({ tokensConfig: config, vars: { RETENTION_DAYS: '2', RETENTION_INTERVAL_SECONDS: '1' } });
  try {
    const now = Date.now();
    const evs = [
      event('acct_a', 1, { auditEventTime: String(now - 5 * 86_400_000) }),
      event('acct_a', 2, { auditEventTime: String(now - 3 * 86_400_000) }),
      event('acct_a', 3, { auditEventTime: String(now - 86_400_000) }),
      event('acct_a', 4, { auditEventTime: String(now - 60_000) }),
    ];
    const r = await call(`${w.url}/v1/events`, T.aAll, { method: 'POST', body: JSON.stringify(evs), headers: { 'content-type': 'application/json' } });
    assert.equal(r.json.accepted, 4, r.text);
    const ids = async () => (await call(`${w.url}/v1/events?from=now-30d&order=asc`, T.aRead)).json.events.map((e) => e.auditEventId);
    let left = await ids();
    for (let i = 0; i < 40 && left.length > 2; i++) {
      await new Promise((res) => setTimeout(res, 500));
      left = await ids();
    }
    assert.deepEqual(left, ['acct_a-ev-3', 'acct_a-ev-4']);
  } finally {
    await w.stop();
    w.cleanup();
  }
});
