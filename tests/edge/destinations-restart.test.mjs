// A crash mid-delivery: `wrangler dev` killed with SIGKILL while the receiver holds a batch
// it has taken in but not answered, then restarted on the same state. Nothing is lost; the
// only repeats are of the batch that was in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, makeTokens, newCredentialsKey } from './harness.mjs';
import { api, answers, until, events, repeated } from './destinations.mjs';
import { startWebhook, newSecret } from './receivers.mjs';

test('SIGKILL mid-delivery: at least once, repeats only of the batch in flight', { timeout: 900_000 }, async () => {
  const { tokens: T, config } = makeTokens();
  const credentialsKey = newCredentialsKey();
  const secret = newSecret();
  const hook = await startWebhook({ secret });
  let w = await startWorker({ tokensConfig: config, credentialsKey });
  const dir = w.dir;
  try {
    let A = api(w, T.aAll);
    const id = await A.activeDestination({ name: 'Crash', type: 'webhook', config: { url: hook.url },
      credentials: { secret }, batch: { maxEvents: 20, intervalSeconds: 1 },
      retry: { maxAttempts: 20, baseSeconds: 0.2, maxSeconds: 1 } });
    // The third batch is taken in and never answered.
    hook.plan('ok', 'ok', 'hold');
    const before = events('acct_a', 20_000, 100);
    await A.ingest(before);
    await until('a batch taken in and not answered', () => hook.hung.length >= 1);
    const inFlight = hook.requests.find((r) => r.action === 'hold').headers['x-trailsift-batch'];
    await w.kill();

    w = await startWorker({ tokensConfig: config, credentialsKey, persist: dir });
    A = api(w, T.aAll);
    const after = events('acct_a', 20_100, 30);
    const { lastSeq } = await A.ingest(after);
    const all = [...before, ...after].map((e) => e.auditEventId);
    await until('every event after the restart', () => new Set(hook.events.map((e) => e.auditEventId)).size >= all.length,
      { diagnose: async () => (await A.status(id)).json });
    const got = hook.events.map((e) => e.auditEventId);
    assert.deepEqual([...new Set(got)].sort(), [...all].sort(), 'nothing lost');
    const inFlightIds = hook.batches.find((b) => b.key === inFlight).events.map((e) => e.auditEventId);
    const again = repeated(got);
    assert.ok(again.length > 0, 'the batch in flight was sent again');
    assert.deepEqual(again.filter((x) => !inFlightIds.includes(x)), [], 'only the batch in flight repeats');
    const keys = hook.batches.map((b) => b.key);
    assert.deepEqual(repeated(keys), [inFlight], 'under the same batch key');
    const st = await until('the cursor at the last event', async () => {
      const s = (await A.status(id)).json; return s.cursor === lastSeq && s;
    });
    assert.deepEqual(st.deadLetters, []);
    for (const text of answers) assert.ok(!text.includes(secret));
    assert.ok(!w.log().includes(secret));
  } finally {
    await w.stop();
    w.cleanup();
    await hook.close();
  }
});
