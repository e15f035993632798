// CPU the Worker spends per ingested event: posts BATCHES NDJSON batches of EVENTS events
// (one request at a time, one account) to the Worker in `wrangler dev` and reads the CPU
// time (user + system) of its workerd processes from /proc before and after. The figure
// includes the Durable Object's SQLite commit and workerd's HTTP work: compare it between
// builds, not with other machines.
//   node bench/edge-ingest-cpu.mjs      (make bench-edge builds the Worker first)
import { groupCpu } from './workerd-cpu.mjs';
import { startWorker, newToken, sha256, event } from '../tests/edge/harness.mjs';

const BATCHES = Number(process.env.BATCHES ?? 300);
const EVENTS = Number(process.env.EVENTS ?? 200);


const token = newToken();
const config = JSON.stringify([{ sha256: sha256(token), account: 'cpu', scopes: ['ingest', 'read'], owner: 'bench' }]);
const w = await startWorker({ tokensConfig: config, vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '0' } });
let serial = 0;
const body = () => Array.from({ length: EVENTS }, () => {
  const i = serial++;
  return JSON.stringify(event('cpu', i, { auditEventId: `cpu-${i}`, auditEventTime: String(1_795_000_000_000 + i) }));
}).join('\n') + '\n';
const post = async (text) => {
  const r = await fetch(`${w.url}/v1/events`, { method: 'POST', body: text, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' } });
  const j = await r.json();
  if (r.status !== 200 || j.accepted !== EVENTS) throw new Error(`ingest answered ${r.status}: ${JSON.stringify(j).slice(0, 300)}`);
};
try {
  for (let i = 0; i < 20; i++) await post(body()); // warm up: compile, first object
  const bodies = Array.from({ length: BATCHES }, body);
  const bytes = bodies.reduce((n, b) => n + b.length, 0);
  const cpu0 = groupCpu(w.pgid);
  const t0 = performance.now();
  for (const b of bodies) await post(b);
  const wall = (performance.now() - t0) / 1000;
  const cpu = groupCpu(w.pgid) - cpu0;
  const events = BATCHES * EVENTS;
  console.log(JSON.stringify({
    events, requests: BATCHES, eventsPerRequest: EVENTS, bodyBytes: bytes,
    cpuSeconds: cpu, wallSeconds: Number(wall.toFixed(2)),
    cpuMicrosPerEvent: Number((cpu / events * 1e6).toFixed(2)),
    eventsPerCpuSecond: Math.round(events / cpu),
  }));
} finally {
  await w.stop();
  w.cleanup();
}
