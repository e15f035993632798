// Delivery to every connector's real or protocol-checking receiver: S3 (s3s-fs, read back
// with boto3), GCS (gcp-storage-emulator with OAuth from an RS256 JWT, or HMAC keys),
// Splunk HEC, Sumo Logic and webhooks; filters, pause and resume, flush.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startWorker, makeTokens } from './harness.mjs';
import { api, answers, until, events, repeated } from './destinations.mjs';
import { startS3, startGcs, startHec, startSumo, startWebhook, newSecret, MAX_BODY } from './receivers.mjs';

const { tokens: T, config } = makeTokens();
let w;
let A;
let s3;
let gcs;
const S3_SECRET = newSecret();
const HEC_TOKEN = newSecret();
const HOOK_SECRET = newSecret();
const closers = [];

before(async () => {
  [w, s3, gcs] = await Promise.all([
    startWorker({ tokensConfig: config }),
    startS3({ bucket: 'audit', secretKey: S3_SECRET }),
    startGcs({ bucket: 'audit-gcs' }),
  ]);
  A = api(w, T.aAll);
}, { timeout: 600_000 });

after(async () => {
  if (process.env.SHOW_LOG) console.log(w?.log().slice(-20000));
  await Promise.all([w?.stop(), s3?.close(), gcs?.close(), ...closers.map((c) => c.close())]);
  w?.cleanup();
});

const ids = (evs) => evs.map((e) => e.auditEventId);
const sorted = (xs) => [...xs].sort();
const pad = (kb) => (i) => ({ auditEventMetadata: { batchId: `b${i}`, note: 'x'.repeat(kb * 1024) } });
const deactivate = async (...dests) => { for (const id of dests) assert.equal((await A.patch(id, { status: 'inactive' })).status, 200); };
async function webhook() {
  const hook = await startWebhook({ secret: HOOK_SECRET });
  closers.push(hook);
  return hook;
}
const webhookDestination = (hook, over = {}) => ({
  type: 'webhook', config: { url: hook.url }, credentials: { secret: HOOK_SECRET },
  batch: { intervalSeconds: 1 }, ...over,
});

test('S3: stream files named <prefix><t1>_<t2>_<t3>, in their format, every event once', async () => {
  const s3Config = (prefix) => ({ endpoint: s3.base, region: 'us-east-1', bucket: 'audit', prefix, pathStyle: true });
  const credentials = { accessKeyId: s3.accessKey, secretAccessKey: S3_SECRET };
  const gz = await A.activeDestination({ name: 'S3 json gz', type: 's3', config: s3Config('json/'), credentials,
    compression: 'gzip', batch: { maxEvents: 40, intervalSeconds: 1 } });
  const nd = await A.activeDestination({ name: 'S3 ndjson creates', type: 's3', config: s3Config('ndjson/'), credentials,
    format: 'ndjson', filter: 'action:CREATE', batch: { intervalSeconds: 1 } });
  const evs = events('acct_a', 1000, 100);
  const { lastSeq } = await A.ingest(evs);
  const count = (objs) => objs.reduce((n, o) => n + o.events.length, 0);
  const all = await until('100 events in json/', async () => { const o = await s3.objects('json/'); return count(o) >= 100 && o; });
  for (const o of all) {
    const m = /^json\/(\d+)_(\d+)_(\d+)\.json\.gz$/.exec(o.key);
    assert.ok(m, o.key);
    assert.equal(o.gzip, true);
    const times = o.events.map((e) => Number(e.auditEventTime));
    assert.equal(Number(m[1]), Math.min(...times), o.key);
    assert.equal(Number(m[2]), Math.max(...times), o.key);
    assert.ok(Number(m[3]) >= Number(m[2]), 'written after its events');
    assert.ok(o.events.length <= 40, `${o.key} holds ${o.events.length} events`);
  }
  const got = all.flatMap((o) => ids(o.events));
  assert.deepEqual(sorted(got), sorted(ids(evs)));
  assert.deepEqual(all.flatMap((o) => o.events)[0], evs.find((e) => e.auditEventId === got[0]), 'events arrive as stored');

  const creates = ids(evs.filter((e) => e.auditAction === 'CREATE'));
  const nds = await until('the CREATE events in ndjson/', async () => {
    const o = await s3.objects('ndjson/'); return count(o) >= creates.length && o;
  });
  for (const o of nds) assert.match(o.key, /^ndjson\/\d+_\d+_\d+\.ndjson$/);
  assert.deepEqual(sorted(nds.flatMap((o) => ids(o.events))), sorted(creates));
  const st = await until('the cursor at the last event', async () => {
    const s = (await A.status(gz)).json; return s.cursor === lastSeq && s;
  });
  assert.equal(st.deliveredEvents, 100);
  assert.equal(st.deliveredBatches, all.length);
  assert.equal(st.pendingEvents, 0);
  await deactivate(gz, nd);
});

test('GCS: OAuth token from an RS256 JWT (cached), or HMAC keys through the XML API', async () => {
  const key = gcs.newServiceAccount();
  const oauth = await A.activeDestination({ name: 'GCS oauth', type: 'gcs',
    config: { bucket: 'audit-gcs', prefix: 'oauth/', endpoint: gcs.base },
    credentials: { serviceAccountKey: key }, format: 'ndjson', batch: { maxEvents: 10, intervalSeconds: 1 } });
  gcs.acceptHmac('GOOG1TRAILSIFTTEST');
  const hmac = await A.activeDestination({ name: 'GCS hmac', type: 'gcs',
    config: { bucket: 'audit-gcs', prefix: 'hmac/', endpoint: gcs.base },
    credentials: { hmacAccessId: 'GOOG1TRAILSIFTTEST', hmacSecret: newSecret() }, compression: 'gzip',
    batch: { intervalSeconds: 1 } });
  const evs = events('acct_a', 2000, 35);
  await A.ingest(evs);
  for (const [prefix, ext] of [['oauth/', /\.ndjson$/], ['hmac/', /\.json\.gz$/]]) {
    const objs = await until(`35 events under ${prefix}`, async () => {
      const o = await gcs.objects(prefix); return o.reduce((n, x) => n + x.events.length, 0) >= 35 && o;
    });
    for (const o of objs) assert.match(o.name, ext);
    assert.deepEqual(sorted(objs.flatMap((o) => ids(o.events))), sorted(ids(evs)), prefix);
  }
  assert.ok((await gcs.objects('oauth/')).length >= 4, 'several batches of at most 10');
  assert.equal(gcs.assertions.length, 1, 'one token serves every batch until it expires');
  assert.deepEqual(gcs.refused, []);
  assert.ok(gcs.uploads.some((u) => u.url.includes('name=oauth%2F') && u.contentType === 'application/x-ndjson'));
  const t = await A.test(oauth);
  assert.equal(t.json.ok, true, t.text);
  assert.equal(gcs.assertions.length, 2, 'a test asks for a fresh token');
  await deactivate(oauth, hmac);
});

test('Splunk HEC: envelopes in requests of at most 1 MB, checked by code, one channel', async () => {
  const hec = await startHec({ token: HEC_TOKEN });
  closers.push(hec);
  const id = await A.activeDestination({ name: 'Splunk', type: 'splunk_hec',
    config: { url: hec.base, index: 'audit', source: 'trailsift', host: 'edge' }, credentials: { token: HEC_TOKEN },
    batch: { maxBytes: 3_000_000, intervalSeconds: 1 } });
  const evs = events('acct_a', 3000, 120, pad(20));
  await A.ingest(evs);
  await until('120 events at HEC', () => hec.events.length >= 120, { diagnose: async () => [hec.requests.map((r) => r.status), (await A.status(id)).json] });
  assert.deepEqual(sorted(ids(hec.events)), sorted(ids(evs)));
  assert.ok(hec.batches.length >= 3, `a batch of about 2.5 MB goes as several requests (${hec.batches.length})`);
  for (const b of hec.batches) assert.ok(b.bytes <= MAX_BODY, `${b.bytes} bytes`);
  assert.equal(new Set(hec.batches.map((b) => b.channel)).size, 1);
  const env = hec.batches[0].envelopes[0];
  assert.equal(env.index, 'audit');
  assert.equal(env.host, 'edge');
  assert.equal(env.source, 'trailsift');
  assert.equal(env.sourcetype, 'harness:audit');
  assert.equal(env.fields.account, 'acct_a');
  assert.equal(env.time, Number(env.event.auditEventTime) / 1000);
  const t = await A.test(id);
  assert.equal(t.json.ok, true, t.text);
  await A.patch(id, { credentials: { token: 'wrong' } });
  const bad = await A.test(id);
  assert.deepEqual([bad.json.ok, bad.json.stage, bad.json.status], [false, 'auth', 403], bad.text);
  await deactivate(id);
});

test('Sumo Logic: the three X-Sumo headers, bodies of at most 1,000,000 bytes, gzip', async () => {
  const sumo = await startSumo();
  closers.push(sumo);
  const id = await A.activeDestination({ name: 'Sumo', type: 'sumo',
    config: { category: 'security/audit', name: 'harness-audit', fields: { team: 'sec', env: 'test' } },
    credentials: { url: sumo.url }, compression: 'gzip', batch: { maxBytes: 2_500_000, intervalSeconds: 1 } });
  const evs = events('acct_a', 4000, 100, pad(20));
  await A.ingest(evs);
  await until('100 events at Sumo', () => sumo.events.length >= 100);
  assert.deepEqual(sorted(sumo.events), sorted(ids(evs)));
  assert.ok(sumo.batches.length >= 3, `split into several requests (${sumo.batches.length})`);
  for (const b of sumo.batches) {
    assert.ok(b.bytes <= MAX_BODY);
    assert.deepEqual([b.category, b.name, b.fields], ['security/audit', 'harness-audit', 'team=sec,env=test']);
  }
  assert.ok(sumo.requests.every((r) => r.headers['content-encoding'] === 'gzip'));
  assert.equal((await A.test(id)).json.ok, true);
  await deactivate(id);
});

test('webhook: signed batches with their batch key; two filters get exactly their subsets', async () => {
  const hookA = await webhook();
  const hookB = await webhook();
  const a = await A.activeDestination({ name: 'Creates', ...webhookDestination(hookA), filter: 'action:CREATE', compression: 'gzip' });
  const b = await A.activeDestination({ name: 'CD module', ...webhookDestination(hookB), filter: 'module:CD', format: 'ndjson' });
  const evs = events('acct_a', 5000, 60);
  const { firstSeq, lastSeq } = await A.ingest(evs);
  const wantA = ids(evs.filter((e) => e.auditAction === 'CREATE'));
  const wantB = ids(evs.filter((e) => e.auditModule === 'CD'));
  await until('both subsets', () => hookA.events.length >= wantA.length && hookB.events.length >= wantB.length);
  assert.deepEqual(sorted(ids(hookA.events)), sorted(wantA));
  assert.deepEqual(sorted(ids(hookB.events)), sorted(wantB));
  for (const batch of [...hookA.batches, ...hookB.batches]) {
    const [dest] = batch.key.split(':');
    assert.ok(dest === a || dest === b);
    assert.ok(batch.first >= firstSeq && batch.last <= lastSeq && batch.first <= batch.last, batch.key);
  }
  assert.ok(hookA.batches.every((x) => x.gzip));
  assert.ok(hookB.requests.every((r) => r.headers['content-type'] === 'application/x-ndjson'));
  await deactivate(a, b);
});

test('a destination delivers its events transformed, the pseudonyms from its write-only key', async () => {
  const hook = await webhook();
  const key = newSecret();
  const pseudonym = (v) => `ps_${createHmac('sha256', key).update(v).digest('hex').slice(0, 32)}`;
  const transform = { exclude: ['auditEventMetadata'], pseudonymize: ['auditEventAuthor.principal.email'], truncateIp: { v4: 24 } };
  const id = await A.activeDestination({ name: 'Transformed', ...webhookDestination(hook),
    credentials: { secret: HOOK_SECRET, pseudonymizeKey: key }, transform, format: 'ndjson' });
  const evs = events('acct_a', 9000, 30);
  await A.ingest(evs);
  await until('30 transformed events', () => hook.events.length >= evs.length);
  const byId = new Map(hook.events.map((e) => [e.auditEventId, e]));
  assert.equal(byId.size, evs.length);
  for (const e of evs) {
    const got = byId.get(e.auditEventId);
    assert.ok(!('auditEventMetadata' in got), e.auditEventId);
    assert.equal(got.auditEventAuthor.principal.email, pseudonym(e.auditEventAuthor.principal.email));
    assert.equal(got.auditHttpRequestInfo.clientIP, e.auditHttpRequestInfo.clientIP.replace(/\.\d+$/, '.0'));
    assert.equal(got.auditAction, e.auditAction);
  }
  await deactivate(id);
});

test('pause, ingest, resume: exactly the events after the cursor, none twice', async () => {
  const hook = await webhook();
  const id = await A.activeDestination({ name: 'Paused', ...webhookDestination(hook) });
  const first = events('acct_a', 6000, 20);
  await A.ingest(first);
  await until('the first 20', () => hook.events.length >= 20);
  await A.patch(id, { status: 'inactive' });
  const paused = (await A.status(id)).json;
  const second = events('acct_a', 6100, 25);
  await A.ingest(second);
  // Several batch intervals pass while paused: nothing may arrive.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(hook.events.length, 20);
  const still = (await A.status(id)).json;
  assert.equal(still.cursor, paused.cursor);
  assert.equal(still.pendingEvents, 25);
  assert.equal(still.nextAttemptAt, null);
  await A.patch(id, { status: 'active' });
  await until('the 25 ingested while paused', () => hook.events.length >= 45);
  assert.deepEqual(sorted(ids(hook.events)), sorted(ids([...first, ...second])));
  assert.deepEqual(repeated(ids(hook.events)), []);
  await deactivate(id);
});

test('a changed filter applies after the cursor; flush sends without waiting', async () => {
  const hook = await webhook();
  const id = await A.activeDestination({ name: 'Slow', ...webhookDestination(hook, { batch: { intervalSeconds: 3600 } }) });
  const first = events('acct_a', 7000, 12);
  await A.ingest(first);
  const f = await A.flush(id);
  assert.equal(f.status, 200);
  await until('the flushed 12', () => hook.events.length >= 12);
  await A.patch(id, { filter: 'action:DELETE' });
  const second = events('acct_a', 7100, 12);
  await A.ingest(second);
  await A.flush(id);
  const deletes = ids(second.filter((e) => e.auditAction === 'DELETE'));
  await until('the DELETE events after the change', () => hook.events.length >= 12 + deletes.length);
  assert.deepEqual(sorted(ids(hook.events)), sorted([...ids(first), ...deletes]));
  await deactivate(id);
});

test('startAfterSeq 0 sends the whole stored trail', async () => {
  const hook = await webhook();
  const made = await A.create({ name: 'Backfill', ...webhookDestination(hook), startAfterSeq: 0, batch: { maxEvents: 200, intervalSeconds: 1 } });
  assert.equal(made.status, 201, made.text);
  const stored = (await A.status(made.json.id)).json.pendingEvents;
  assert.ok(stored > 400, `${stored} stored events`);
  await A.patch(made.json.id, { status: 'active' });
  await until('the whole trail', () => hook.events.length >= stored);
  assert.equal(hook.events.length, stored);
  assert.deepEqual(repeated(ids(hook.events)), []);
  await deactivate(made.json.id);
});

test('an event near the size limit goes through alone', async () => {
  const hook = await webhook();
  const id = await A.activeDestination({ name: 'Big', ...webhookDestination(hook), batch: { maxBytes: 100_000, intervalSeconds: 1 } });
  const evs = events('acct_a', 8000, 4, (i) => (i === 8001 ? pad(900)(i) : {}));
  await A.ingest(evs);
  await until('the four events', () => hook.events.length >= 4);
  assert.deepEqual(sorted(ids(hook.events)), sorted(ids(evs)));
  const big = hook.batches.find((b) => b.events.some((e) => e.auditEventId === 'acct_a-ev-8001'));
  assert.equal(big.events.length, 1, 'alone in its batch');
  await deactivate(id);
});

test('no credential in any answer or in the wrangler log', () => {
  const secrets = [S3_SECRET, HEC_TOKEN, HOOK_SECRET, 'wrong'].filter((s) => s.length > 8);
  for (const text of answers) for (const s of secrets) assert.ok(!text.includes(s), text.slice(0, 200));
  const log = w.log();
  for (const s of secrets) assert.ok(!log.includes(s), 'the log holds a credential');
  assert.ok(!log.includes('PRIVATE KEY'));
});
