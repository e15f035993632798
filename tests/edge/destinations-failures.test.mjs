// Receivers that fail: retried with backoff (honouring Retry-After) through 503s, dropped
// connections and answers that never come (the 30 s timeout, shortened here); dead
// letters after the last attempt while later events keep flowing; replay and discard; a
// 400 is not retried. Nothing is lost, and nothing repeats that at-least-once does not
// allow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, makeTokens } from './harness.mjs';
import { api, answers, until, events, repeated } from './destinations.mjs';
import { startWebhook, startHec, newSecret } from './receivers.mjs';

const { tokens: T, config } = makeTokens();
let w;
let A;
const HOOK_SECRET = newSecret();
const HEC_TOKEN = newSecret();
const closers = [];

before(async () => {
  w = await startWorker({ tokensConfig: config, vars: { DESTINATION_TIMEOUT_SECONDS: '2' } });
  A = api(w, T.aAll);
}, { timeout: 600_000 });

after(async () => {
  await Promise.all([w?.stop(), ...closers.map((c) => c.close())]);
  w?.cleanup();
});

const ids = (evs) => evs.map((e) => e.auditEventId);
const sorted = (xs) => [...xs].sort();
const keyOf = (r) => r.headers['x-trailsift-batch'];
async function webhook() {
  const hook = await startWebhook({ secret: HOOK_SECRET });
  closers.push(hook);
  return hook;
}
const destination = (hook, name, retry, batch = {}) => ({
  name, type: 'webhook', config: { url: hook.url }, credentials: { secret: HOOK_SECRET },
  batch: { intervalSeconds: 1, ...batch }, retry,
});
const deactivate = async (id) => assert.equal((await A.patch(id, { status: 'inactive' })).status, 200);

test('a receiver that fails for a while (503 + Retry-After, dropped, silent) gets everything', async () => {
  const hook = await webhook();
  hook.plan({ status: 503, retryAfter: 1 }, { status: 503, retryAfter: 1 }, 'drop', 'hang', { status: 500 });
  const id = await A.activeDestination(destination(hook, 'Flaky',
    { maxAttempts: 10, baseSeconds: 0.2, maxSeconds: 1 }, { maxEvents: 50 }));
  const evs = events('acct_a', 10_000, 120);
  await A.ingest(evs);
  await until('all 120 events', () => hook.events.length >= 120, { diagnose: async () => (await A.status(id)).json });
  assert.deepEqual(sorted(ids(hook.events)), sorted(ids(evs)));
  assert.deepEqual(repeated(ids(hook.events)), [], 'failed requests delivered nothing, so nothing repeats');
  const first = hook.requests.filter((r) => keyOf(r) === keyOf(hook.requests[0]));
  assert.ok(first.length >= 6, `the first batch took ${first.length} requests`);
  assert.ok(first[1].at - first[0].at >= 900, 'the retry waited for Retry-After: 1');
  const st = (await A.status(id)).json;
  assert.equal(st.deliveredEvents, 120);
  assert.deepEqual(st.deadLetters, []);
  assert.ok(['http', 'connect'].includes(st.lastError.stage), JSON.stringify(st.lastError));
  await deactivate(id);
});

test('one that always fails: dead letter, later events flow, replay after the fix', async () => {
  const hook = await webhook();
  hook.always({ status: 500 });
  const id = await A.activeDestination(destination(hook, 'Down', { maxAttempts: 3, baseSeconds: 0.1, maxSeconds: 0.3 }));
  const lost = events('acct_a', 11_000, 10);
  const { firstSeq, lastSeq } = await A.ingest(lost);
  const dead = await until('a dead letter', async () => {
    const s = (await A.status(id)).json; return s.deadLetters.length === 1 && s;
  });
  const letter = dead.deadLetters[0];
  assert.equal(letter.batch, `${firstSeq}-${lastSeq}`);
  assert.equal(letter.name, `${id}:${firstSeq}-${lastSeq}`);
  assert.equal(letter.attempts, 3);
  assert.equal(letter.events, 10);
  assert.match(letter.lastError, /HTTP 500/);
  assert.equal(dead.cursor, lastSeq, 'the cursor moved past the dead letter');
  assert.equal(dead.lastError.status, 500);
  assert.equal(hook.requests.filter((r) => keyOf(r) === letter.name).length, 3);

  hook.always(null);
  const later = events('acct_a', 11_100, 10);
  await A.ingest(later);
  await until('the later events', () => hook.events.length >= 10);
  assert.deepEqual(sorted(ids(hook.events)), sorted(ids(later)));
  assert.equal((await A.status(id)).json.deadLetters.length, 1, 'a dead letter waits for a replay');

  const r = await A.replay(id);
  assert.deepEqual(r.json, { replaying: [letter.batch] });
  await until('the replayed batch', async () => (await A.status(id)).json.deadLetters.length === 0);
  assert.deepEqual(sorted(ids(hook.events)), sorted(ids([...later, ...lost])));
  assert.equal(hook.batches.at(-1).key, letter.name, 'a replay goes under the batch key it was cut with');
  const st = (await A.status(id)).json;
  assert.equal(st.deliveredEvents, 20);
  await deactivate(id);
});

test('a 400 is not retried; a dead letter can be discarded', async () => {
  const hec = await startHec({ token: HEC_TOKEN });
  closers.push(hec);
  hec.plan({ status: 400, body: JSON.stringify({ text: 'Invalid data format', code: 6 }) });
  const id = await A.activeDestination({ name: 'Picky', type: 'splunk_hec', config: { url: hec.base },
    credentials: { token: HEC_TOKEN }, batch: { intervalSeconds: 1 }, retry: { maxAttempts: 8, baseSeconds: 0.1, maxSeconds: 0.2 } });
  const evs = events('acct_a', 12_000, 5);
  await A.ingest(evs);
  const st = await until('a dead letter', async () => {
    const s = (await A.status(id)).json; return s.deadLetters.length === 1 && s;
  });
  assert.equal(st.deadLetters[0].attempts, 1);
  assert.equal(st.lastError.status, 400);
  assert.equal(st.lastError.stage, 'http');
  assert.equal(hec.requests.length, 1, 'sent once');
  const more = events('acct_a', 12_100, 5);
  await A.ingest(more);
  await until('the next batch', () => hec.events.length >= 5);
  assert.deepEqual(sorted(ids(hec.events)), sorted(ids(more)));
  const gone = await A.discard(id, st.deadLetters[0].batch);
  assert.equal(gone.status, 200, gone.text);
  assert.deepEqual((await A.status(id)).json.deadLetters, []);
  assert.equal((await A.discard(id, st.deadLetters[0].batch)).status, 404);
  await deactivate(id);
});

test('a HEC answer without code 0 is not a success', async () => {
  const hec = await startHec({ token: HEC_TOKEN });
  closers.push(hec);
  hec.plan({ status: 200, body: JSON.stringify({ text: 'Server is busy', code: 9 }) });
  const id = await A.activeDestination({ name: 'Busy', type: 'splunk_hec', config: { url: hec.base },
    credentials: { token: HEC_TOKEN }, batch: { intervalSeconds: 1 }, retry: { maxAttempts: 5, baseSeconds: 0.1, maxSeconds: 0.2 } });
  const evs = events('acct_a', 13_000, 5);
  await A.ingest(evs);
  await until('the retried batch', () => hec.events.length >= 5);
  assert.equal(hec.requests.length, 2);
  assert.deepEqual(sorted(ids(hec.events)), sorted(ids(evs)));
  await deactivate(id);
});

test('no credential in any answer or in the wrangler log', () => {
  for (const text of answers) for (const s of [HOOK_SECRET, HEC_TOKEN]) assert.ok(!text.includes(s));
  for (const s of [HOOK_SECRET, HEC_TOKEN]) assert.ok(!w.log().includes(s));
});
