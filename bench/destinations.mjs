// Streaming destinations, measured in `wrangler dev` on loopback (make bench-destinations):
//  1. delivery throughput of one account (events/s) into a webhook and into s3s-fs, with
//     batches of at most 1 KB and of at most 500 KB, and the workerd CPU per batch;
//  2. the delay from commit (the ingest's answer) to receipt at intervalSeconds 1;
//  3. ingest throughput of one account with five active destinations beside none.
// Not a test: figures depend on the machine and its load. DURATION (seconds of each ingest
// run), SMALL and LARGE (events delivered with 1 KB and 500 KB batches) override.
import { groupCpu } from './workerd-cpu.mjs';
import { startWorker, newToken, sha256, event } from '../tests/edge/harness.mjs';
import { api, until } from '../tests/edge/destinations.mjs';
import { startS3, startWebhook, startHec, startSumo, newSecret } from '../tests/edge/receivers.mjs';

const DURATION = Number(process.env.DURATION ?? 30);
const SMALL = Number(process.env.SMALL ?? 1000);
const LARGE = Number(process.env.LARGE ?? 20000);
const CONCURRENCY = 8;


const accounts = ['hook_small', 'hook_large', 's3_small', 's3_large', 'delay', 'none', 'five', 'none_again'];
const tokens = Object.fromEntries(accounts.map((a) => [a, newToken()]));
const config = JSON.stringify(accounts.map((a) => ({ sha256: sha256(tokens[a]), account: a, scopes: ['ingest', 'read', 'admin'], owner: 'bench' })));
const secret = newSecret();
const hecToken = newSecret();
const w = await startWorker({ tokensConfig: config, vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '0' } });
const [hook, s3, hec, sumo] = await Promise.all([
  startWebhook({ secret }), startS3({ bucket: 'bench' }), startHec({ token: hecToken }), startSumo(),
]);
const s3Credentials = { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey };
const targets = {
  webhook: () => ({ type: 'webhook', config: { url: hook.url }, credentials: { secret } }),
  s3: (prefix) => ({ type: 's3', config: { endpoint: s3.base, region: 'us-east-1', bucket: 'bench', prefix, pathStyle: true }, credentials: s3Credentials }),
};
const eventsOf = (account, from, n) => Array.from({ length: n }, (_, i) => event(account, from + i, { auditEventTime: String(Date.now() - (n - i)) }));
const results = {};

async function ingest(A, evs) {
  let last;
  for (let i = 0; i < evs.length; i += 2000) last = await A.ingest(evs.slice(i, i + 2000));
  return last.lastSeq;
}

/** Delivers `n` stored events to a destination made for the run; events/s and CPU/batch. */
async function delivery(account, kind, maxBytes, n) {
  const A = api(w, tokens[account]);
  const evs = eventsOf(account, 0, n);
  const eventBytes = evs.reduce((s, e) => s + JSON.stringify(e).length, 0) / n;
  const lastSeq = await ingest(A, evs);
  const made = await A.create({ name: account, ...targets[kind](`${account}/`), startAfterSeq: 0,
    batch: { maxBytes, maxEvents: 100000, intervalSeconds: 1 } });
  const cpu0 = groupCpu(w.pgid);
  const t0 = performance.now();
  await A.patch(made.json.id, { status: 'active' });
  const st = await until(`${account} delivered`, async () => {
    const s = (await A.status(made.json.id)).json; return s.cursor === lastSeq && s;
  }, { timeoutMs: 1_800_000, every: 100 });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = groupCpu(w.pgid) - cpu0;
  await A.patch(made.json.id, { status: 'inactive' });
  return {
    events: n, batches: st.deliveredBatches, eventsPerBatch: Number((n / st.deliveredBatches).toFixed(1)),
    approxBatchBytes: Math.round((n / st.deliveredBatches) * eventBytes), seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(n / seconds), workerdCpuMsPerBatch: Number((cpu * 1000 / st.deliveredBatches).toFixed(2)),
  };
}

/** Commit-to-receipt delay of small ingests into a webhook destination at intervalSeconds 1. */
async function delay(samples = 20) {
  const A = api(w, tokens.delay);
  const id = await A.activeDestination({ name: 'delay', ...targets.webhook(), batch: { intervalSeconds: 1 } });
  const delays = [];
  for (let i = 0; i < samples; i++) {
    const evs = eventsOf('delay', i * 10, 10);
    const { lastSeq } = await A.ingest(evs);
    const acked = Date.now();
    const got = await until('receipt', () => hook.batches.find((b) => b.key.startsWith(`${id}:`) && b.last >= lastSeq));
    const req = hook.requests.find((r) => r.headers['x-trailsift-batch'] === got.key);
    delays.push(req.at - acked);
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
  }
  await A.patch(id, { status: 'inactive' });
  delays.sort((a, b) => a - b);
  const q = (p) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))];
  return { samples, p50ms: q(0.5), p90ms: q(0.9), minMs: delays[0], maxMs: delays.at(-1) };
}

/** Ingest throughput of one account for DURATION seconds, CONCURRENCY requests in flight. */
async function ingestRun(account, destinations) {
  const A = api(w, tokens[account]);
  const ids = [];
  for (const d of destinations) ids.push(await A.activeDestination({ ...d, batch: { intervalSeconds: 5 } }));
  let serial = 0;
  const body = () => Array.from({ length: 200 }, () => JSON.stringify(event(account, serial++))).join('\n');
  let events = 0;
  let requests = 0;
  let lastSeq = 0;
  const cpu0 = groupCpu(w.pgid);
  const end = performance.now() + DURATION * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const r = await fetch(`${w.url}/v1/events`, { method: 'POST', body: body(), headers: { authorization: `Bearer ${tokens[account]}`, 'content-type': 'application/x-ndjson' } });
      const j = await r.json();
      if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(j).slice(0, 200)}`);
      events += j.accepted;
      requests += 1;
      lastSeq = Math.max(lastSeq, j.lastSeq);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = groupCpu(w.pgid) - cpu0;
  const out = { destinations: destinations.length, seconds: Number(seconds.toFixed(1)), requests, events,
    eventsPerSecond: Math.round(events / seconds), workerdCpuSeconds: Number(cpu.toFixed(1)) };
  if (ids.length) {
    const t1 = performance.now();
    for (const id of ids) await A.flush(id);
    await until('every destination caught up', async () => {
      for (const id of ids) if ((await A.status(id)).json.cursor !== lastSeq) return false;
      return true;
    }, { timeoutMs: 1_800_000, every: 500 });
    out.drainSecondsAfterIngest = Number(((performance.now() - t1) / 1000).toFixed(1));
    for (const id of ids) await A.patch(id, { status: 'inactive' });
  }
  return out;
}

try {
  results.delivery = {
    webhook_1KB: await delivery('hook_small', 'webhook', 1_000, SMALL),
    webhook_500KB: await delivery('hook_large', 'webhook', 500_000, LARGE),
    s3s_fs_1KB: await delivery('s3_small', 's3', 1_000, SMALL),
    s3s_fs_500KB: await delivery('s3_large', 's3', 500_000, LARGE),
  };
  console.error(JSON.stringify(results.delivery));
  results.commitToReceipt = await delay();
  console.error(JSON.stringify(results.commitToReceipt));
  const five = [
    { name: 'five webhook', ...targets.webhook() },
    { name: 'five webhook gz', ...targets.webhook(), format: 'ndjson', compression: 'gzip' },
    { name: 'five s3', ...targets.s3('five/'), compression: 'gzip' },
    { name: 'five hec', type: 'splunk_hec', config: { url: hec.base }, credentials: { token: hecToken } },
    { name: 'five sumo', type: 'sumo', config: { category: 'bench' }, credentials: { url: sumo.url } },
  ];
  results.ingest = {
    none: await ingestRun('none', []),
    five: await ingestRun('five', five),
    noneAgain: await ingestRun('none_again', []),
  };
  const base = (results.ingest.none.eventsPerSecond + results.ingest.noneAgain.eventsPerSecond) / 2;
  results.ingest.fiveVsNone = Number((results.ingest.five.eventsPerSecond / base).toFixed(3));
  console.log(JSON.stringify(results, null, 1));
} finally {
  await Promise.all([w.stop(), hook.close(), s3.close(), hec.close(), sumo.close()]);
  w.cleanup();
}
