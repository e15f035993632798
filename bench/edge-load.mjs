// Bounded load run of the Worker in `wrangler dev` on loopback: posts ~100 KB NDJSON batches
// for 10 accounts for DURATION seconds (default 60) with CONCURRENCY requests in flight,
// then checks that every account stores exactly the events it acknowledged.
//   node bench/edge-load.mjs            (make bench-edge builds the Worker first)
import { startWorker, newToken, sha256, event } from '../tests/edge/harness.mjs';

const DURATION_S = Number(process.env.DURATION ?? 60);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const ACCOUNTS = 10;
const BATCH_BYTES = 100_000;

const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({ name: `bench_${i}`, token: newToken(), acked: 0 }));
const config = JSON.stringify(accounts.map((a) => ({ sha256: sha256(a.token), account: a.name, scopes: ['ingest', 'read'], owner: 'bench' })));

let serial = 0;
function batch(account) {
  const lines = [];
  let bytes = 0;
  while (bytes < BATCH_BYTES) {
    const i = serial++;
    const line = JSON.stringify(event(account, i, { auditEventId: `${account}-${i}`, auditEventTime: String(Date.now() - (i % 3_600_000)) }));
    lines.push(line);
    bytes += line.length + 1;
  }
  return { body: lines.join('\n') + '\n', count: lines.length, bytes };
}

const w = await startWorker({ tokensConfig: config });
const latencies = [];
let requests = 0;
let errors = 0;
let events = 0;
let bytesSent = 0;
try {
  const end = Date.now() + DURATION_S * 1000;
  let next = 0;
  const started = Date.now();
  async function loop() {
    while (Date.now() < end) {
      const a = accounts[next++ % ACCOUNTS];
      const b = batch(a.name);
      const t0 = performance.now();
      try {
        const r = await fetch(`${w.url}/v1/events`, {
          method: 'POST', body: b.body,
          headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/x-ndjson' },
        });
        const j = await r.json();
        latencies.push(performance.now() - t0);
        requests++;
        if (r.status !== 200) { errors++; continue; }
        a.acked += j.accepted;
        events += j.accepted;
        bytesSent += b.bytes;
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const secs = (Date.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]?.toFixed(1);
  let stored = 0;
  let mismatches = 0;
  for (const a of accounts) {
    const r = await fetch(`${w.url}/v1/stats?by=day&from=now-2d&to=now%2B1d`, { headers: { authorization: `Bearer ${a.token}` } });
    const j = await r.json();
    stored += j.total;
    if (j.total !== a.acked) mismatches++;
  }
  const result = {
    seconds: Number(secs.toFixed(1)), concurrency: CONCURRENCY, accounts: ACCOUNTS,
    requests, requestsPerSec: Number((requests / secs).toFixed(1)),
    events, eventsPerSec: Math.round(events / secs), mbPerSec: Number((bytesSent / secs / 1e6).toFixed(2)),
    p50ms: Number(pct(0.5)), p99ms: Number(pct(0.99)), errors,
    acknowledged: events, stored, accountsMismatched: mismatches,
  };
  console.log(JSON.stringify(result, null, 2));
  if (stored !== events || mismatches) process.exitCode = 1;
} finally {
  await w.stop();
  w.cleanup();
}
