// A soak of the Worker in `wrangler dev` on loopback (make worker first): SOAK_ACCOUNTS
// accounts at once (default 5), each with an ingesting client, a querying client, an
// exporting client, a live-tail subscriber (WebSocket and SSE in turn) and an active webhook
// destination, for SOAK_SECONDS (default 600). Prints throughput and p50/p99 latency per
// kind of request, errors, the workerd runtime's RSS sampled every 5 s (first, last, max and
// the least-squares slope), and per account stored == acknowledged == delivered (and what
// the live tail got). Exits 1 on a lost or unequal event count, memory that grows, or
// more than SOAK_MAX_ERRORS request errors of a kind (default 0).
//   node bench/soak.mjs        (make soak: 600 s; make soak-short: SOAK_SECONDS=60 and
//                               SOAK_MAX_ERRORS=1, see the Makefile)
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { loadavg } from 'node:os';
import { startWorker, newToken, sha256, event, call, newCredentialsKey } from '../tests/edge/harness.mjs';
import { wsTail, sseTail } from '../tests/edge/tail-clients.mjs';
import { groupRss } from './workerd-cpu.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const ACCOUNTS = Number(process.env.SOAK_ACCOUNTS ?? 5);
const BATCH = Number(process.env.SOAK_BATCH ?? 50);
const MAX_ERRORS = Number(process.env.SOAK_MAX_ERRORS ?? 0);
const SAMPLE_MS = 5000;
const REQUEST_TIMEOUT_MS = 60_000;
// Memory "grows" when the slope fitted after the warm-up (the first third of the run, while
// caches and the stored data's pages fill) adds more than this share of the first sample
// (or 16 MB, whichever is larger) over the rest of the run.
const GROWTH_SHARE = 0.1;
// Shorter runs (make soak-short) report the slope without judging it: a minute is mostly
// warm-up.
const JUDGED_SECONDS = 300;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({ name: `soak_${i}`, token: newToken() }));
const config = JSON.stringify(accounts.map((a) => ({
  sha256: sha256(a.token), account: a.name, scopes: ['ingest', 'read', 'admin'], owner: 'soak',
})));

/** A webhook receiver that records the event ids it took in (and how many it took in). */
function receiver() {
  const ids = new Set();
  let received = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const text = body.toString('utf8');
      const events = text.trimStart().startsWith('[')
        ? JSON.parse(text)
        : text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
      for (const e of events) ids.add(e.auditEventId);
      received += events.length;
      res.writeHead(200);
      res.end('{"ok":true}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    ids,
    get received() { return received; },
    url: `http://127.0.0.1:${server.address().port}/hook`,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  })));
}

const kinds = ['ingest', 'query', 'export'];
const latency = Object.fromEntries(kinds.map((k) => [k, []]));
const errors = Object.fromEntries(kinds.map((k) => [k, 0]));
const firstErrors = [];

/** Times one request of `kind`; a non-200 answer, a failure or no answer within
 * REQUEST_TIMEOUT_MS counts as an error. */
async function timed(kind, url, token, { method = 'GET', body, headers = {} } = {}) {
  const t = performance.now();
  try {
    const r = await fetch(url, {
      method, body, headers: { authorization: `Bearer ${token}`, ...headers },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await r.text();
    latency[kind].push(performance.now() - t);
    if (r.status === 200) return { status: r.status, json: kind === 'ingest' ? JSON.parse(text) : undefined };
    if (firstErrors.length < 5) firstErrors.push(`${kind} ${r.status} ${text.slice(0, 200)}`);
  } catch (e) {
    if (firstErrors.length < 5) firstErrors.push(`${kind} ${e.message}`);
  }
  errors[kind] += 1;
  return null;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const sxy = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return sxx ? sxy / sxx : 0;
}

/** Every stored event id of an account (with repeats, if any). */
async function exported(url, token) {
  const ids = [];
  let cursor = null;
  do {
    const r = await call(`${url}/v1/events?from=now-1d&limit=10000${cursor ? `&cursor=${cursor}` : ''}`, token);
    if (r.status !== 200) throw new Error(`export: ${r.status} ${r.text.slice(0, 300)}`);
    ids.push(...r.json.events.map((e) => e.auditEventId));
    cursor = r.json.cursor;
  } while (cursor);
  return ids;
}

const w = await startWorker({ tokensConfig: config, credentialsKey: newCredentialsKey(), vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '0' } });
const closers = [];
let failed = false;
try {
  for (const [i, a] of accounts.entries()) {
    a.rx = await receiver();
    closers.push(a.rx);
    const made = await call(`${w.url}/v1/destinations`, a.token, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Soak', type: 'webhook', config: { url: a.rx.url },
        credentials: { secret: 'whsec-soak-0123456789abcdef' }, batch: { maxEvents: 500, intervalSeconds: 1 } }),
    });
    if (made.status !== 201) throw new Error(`destination: ${made.status} ${made.text}`);
    const on = await call(`${w.url}/v1/destinations/${made.json.id}`, a.token, {
      method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'active' }),
    });
    if (on.status !== 200) throw new Error(`activate: ${on.status} ${on.text}`);
    a.tailKind = i % 2 ? 'sse' : 'websocket';
    a.tail = await (i % 2 ? sseTail : wsTail)(w.url, { token: a.token });
    if (![101, 200].includes(a.tail.status)) throw new Error(`tail: ${a.tail.status} ${JSON.stringify(a.tail.json)}`);
    a.acked = new Set();
  }

  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const rss = [];
  const sampler = setInterval(() => rss.push([(performance.now() - t0) / 1000, groupRss(w.pgid).runtime / 1024]), SAMPLE_MS);
  rss.push([0, groupRss(w.pgid).runtime / 1024]);
  const load = [];
  const loadSampler = setInterval(() => load.push(loadavg()[0]), SAMPLE_MS);
  const reporter = setInterval(() => console.error(`soak: ${((performance.now() - t0) / 1000).toFixed(0)} s: ${
    kinds.map((k) => `${k} ${latency[k].length} (${errors[k]} errors)`).join(', ')}`), 60_000);

  const ingest = async (a) => {
    for (let b = 0; performance.now() < deadline; b++) {
      const now = Date.now();
      const evs = Array.from({ length: BATCH }, (_, i) => event(a.name, i, {
        auditEventId: `${a.name}-${b}-${i}`, auditEventTime: String(now - i),
      }));
      const r = await timed('ingest', `${w.url}/v1/events`, a.token, {
        method: 'POST', body: evs.map((e) => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' },
      });
      if (r && r.json.accepted === BATCH) for (const e of evs) a.acked.add(e.auditEventId);
    }
  };
  const query = async (a) => {
    while (performance.now() < deadline) {
      await timed('query', `${w.url}/v1/events?q=${encodeURIComponent('action:CREATE AND module:CORE')}&from=now-10m&limit=100`, a.token);
      await sleep(1000);
    }
  };
  const exportLoop = async (a) => {
    while (performance.now() < deadline) {
      await timed('export', `${w.url}/v1/events?format=csv&from=now-1m`, a.token);
      await sleep(5000);
    }
  };
  await Promise.all(accounts.flatMap((a) => [ingest(a), query(a), exportLoop(a)]));
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  clearInterval(loadSampler);
  clearInterval(reporter);

  // Stored, acknowledged and delivered per account, once delivery has caught up.
  const settle = Date.now() + 180_000;
  while (Date.now() < settle && !accounts.every((a) => a.rx.ids.size >= a.acked.size)) await sleep(500);
  await sleep(2000);
  console.log(`soak: ${ACCOUNTS} accounts, ${elapsed.toFixed(0)} s, batches of ${BATCH}, load average ${
    (load.reduce((x, y) => x + y, 0) / Math.max(1, load.length)).toFixed(1)} (mean of 5 s samples)`);
  console.log('kind      requests   req/s      p50 ms    p99 ms   errors');
  for (const k of kinds) {
    const n = latency[k].length;
    console.log(`${k.padEnd(8)} ${String(n).padStart(9)} ${(n / elapsed).toFixed(1).padStart(7)} ${
      pct(latency[k], 50).toFixed(1).padStart(10)} ${pct(latency[k], 99).toFixed(1).padStart(9)} ${String(errors[k]).padStart(8)}`);
  }
  const ackedTotal = accounts.reduce((x, a) => x + a.acked.size, 0);
  console.log(`ingest: ${ackedTotal} events acknowledged, ${(ackedTotal / elapsed).toFixed(0)} events/s`);
  for (const e of firstErrors) console.log(`  error: ${e}`);

  console.log('account   acked   stored  delivered  repeats  tail(kind: got + dropped)');
  for (const a of accounts) {
    const stored = await exported(w.url, a.token);
    const storedSet = new Set(stored);
    const delivered = a.rx.ids;
    const lost = [...a.acked].filter((id) => !storedSet.has(id) || !delivered.has(id)).length;
    const ok = lost === 0 && stored.length === storedSet.size && storedSet.size === a.acked.size
      && delivered.size === a.acked.size;
    if (!ok) failed = true;
    console.log(`${a.name.padEnd(8)} ${String(a.acked.size).padStart(7)} ${String(stored.length).padStart(8)} ${
      String(delivered.size).padStart(10)} ${String(a.rx.received - delivered.size).padStart(8)}  ${a.tailKind}: ${
      a.tail.inbox.events.length} + ${a.tail.inbox.droppedTotal}${ok ? '' : '  LOST OR UNEQUAL'}`);
  }

  const mb = rss.map((p) => p[1]);
  const perMin = slope(rss) * 60;
  const warm = rss.filter((p) => p[0] >= elapsed / 3);
  const warmPerMin = slope(warm) * 60;
  const growth = warmPerMin * ((elapsed * 2) / 3 / 60);
  const judged = elapsed >= JUDGED_SECONDS;
  const grows = judged && growth > Math.max(16, GROWTH_SHARE * mb[0]);
  console.log(`workerd RSS (MB, every ${SAMPLE_MS / 1000} s, ${mb.length} samples): first ${mb[0].toFixed(1)} last ${
    mb[mb.length - 1].toFixed(1)} max ${Math.max(...mb).toFixed(1)} slope ${perMin.toFixed(2)} MB/min over the run, ${
    warmPerMin.toFixed(2)} MB/min after the warm-up (${growth.toFixed(1)} MB): ${
    !judged ? `not judged (under ${JUDGED_SECONDS} s)` : grows ? 'GROWS' : 'no growth'}`);
  const tooManyErrors = kinds.filter((k) => errors[k] > MAX_ERRORS);
  if (tooManyErrors.length) console.log(`more than ${MAX_ERRORS} request errors: ${tooManyErrors.join(', ')}`);
  if (grows || tooManyErrors.length) failed = true;
} finally {
  for (const a of accounts) a.tail?.close?.();
  await w.stop();
  w.cleanup();
  await Promise.all(closers.map((c) => c.close()));
}
if (failed) {
  console.error('soak: FAILED');
  process.exit(1);
}
