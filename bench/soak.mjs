// A soak of the Worker in `wrangler dev` on loopback (make worker first): SOAK_ACCOUNTS
// accounts at once (default 5), each with an ingesting client, a querying client, an
// exporting client, a live-tail subscriber (WebSocket and SSE in turn) and an active webhook
// destination, for SOAK_SECONDS (default 600), then SOAK_IDLE_SECONDS without load. Prints
// throughput and p50/p99 latency per kind of request, errors and resends, the Worker's steps
// slower than SOAK_TRACE_MS, memory sampled every 5 s (the runtime workerd's RSS, first,
// last, max, slope and mean by third, how much is anonymous; wrangler dev's proxy's RSS; the
// stored bytes; the Worker's wasm memory and its isolate's V8 heap), and per account stored
// == acknowledged == delivered (and what the live tail got). Exits 1 on a lost or unequal
// event count, the Worker's own memory growing, or more than SOAK_MAX_ERRORS request errors
// of a kind (default 0).
//   node bench/soak.mjs        (make soak: 600 s; make soak-short: SOAK_SECONDS=60, see
//                               the Makefile)
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { loadavg } from 'node:os';
import { Agent, setGlobalDispatcher } from 'undici';
import { startWorker, newToken, sha256, event, call, newCredentialsKey } from '../tests/edge/harness.mjs';
import { wsTail, sseTail } from '../tests/edge/tail-clients.mjs';
import { groupRss, runtimeUrl } from './workerd-cpu.mjs';
import { drainDevtools, heapAroundGc } from './inspector.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const ACCOUNTS = Number(process.env.SOAK_ACCOUNTS ?? 5);
const BATCH = Number(process.env.SOAK_BATCH ?? 50);
const MAX_ERRORS = Number(process.env.SOAK_MAX_ERRORS ?? 0);
const SAMPLE_MS = 5000;
const REQUEST_TIMEOUT_MS = Number(process.env.SOAK_TIMEOUT_SECONDS ?? 60) * 1000;
// After the load, memory is sampled this long more with no requests but health checks: a
// leak stays up, a high-water mark stays flat (and the wasm memory, which never shrinks,
// shows how much of it is the Worker's own).
const IDLE_SECONDS = Number(process.env.SOAK_IDLE_SECONDS ?? 0);
// The Worker and the account objects log every step slower than this (TRACE_SLOW_MS); the
// soak prints those lines, and wrangler's whole log goes to SOAK_LOG when set.
const TRACE_MS = Number(process.env.SOAK_TRACE_MS ?? 10_000);
// The Worker's own memory "grows" (the run fails) when its mean in the run's last third
// (its wasm memory plus its isolate's V8 heap, as allocated) exceeds the middle third's by
// more than this share of it or GROWTH_MB, whichever is larger. The runtime process's RSS is
// reported beside it but not judged: workerd itself (as wrangler dev runs it) keeps native
// memory per request served, for a Worker that does nothing as much as for this one
// (bench/workerd-baseline.mjs; RELIABILITY.md, Soak).
const GROWTH_SHARE = 0.1;
const GROWTH_MB = 8;
// Shorter runs (make soak-short) report the slope without judging it: a minute is mostly
// warm-up.
const JUDGED_SECONDS = 300;
// Where the clients send their requests: `runtime` (default), the runtime workerd's own
// entry socket, or `proxy`, wrangler dev's public port. wrangler 4.86's proxy is a workerd
// process of its own whose memory grows with the traffic through it until it dies (1.6 GB
// after 13 minutes of this load, RELIABILITY.md, Soak): through it, a long soak measures
// the proxy. Both processes' memory is reported either way.
const VIA = process.env.SOAK_VIA ?? 'runtime';
if (!['runtime', 'proxy'].includes(VIA)) throw new Error(`SOAK_VIA must be runtime or proxy, not ${VIA}`);
// SOAK_DISTINCT_BATCHES=n: each ingesting client sends its first n batches over and over
// (from then on every event is a duplicate, answered and not stored again), so the traffic
// goes on while the stored data stops growing: memory that still grows then grows with the
// requests served, not with the data kept.
const DISTINCT_BATCHES = Number(process.env.SOAK_DISTINCT_BATCHES ?? Infinity);
// SOAK_KEEPALIVE_MS (default 1,000; 0: undici's own 4 s): how long the clients keep an idle
// connection. With undici's 4 s (on timers of about a second), a few requests a minute
// failed before any answer on a connection the runtime closed, likely at its idle timeout
// of 5 s; with 1 s, none did (RELIABILITY.md, Soak).
const KEEPALIVE_MS = Number(process.env.SOAK_KEEPALIVE_MS ?? 1000);
if (KEEPALIVE_MS > 0) setGlobalDispatcher(new Agent({ keepAliveTimeout: KEEPALIVE_MS, keepAliveMaxTimeout: KEEPALIVE_MS }));
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
let requestCount = 0;
/** Requests under way, by id: what an error found going on beside it. */
const inFlight = new Map();

// wrangler dev's proxy answers this 503 when its connection to the runtime fails under a
// request: in wrangler 4.86 it takes any such failure for a restart of the Worker
// (RELIABILITY.md, Soak). Nothing reached the Worker, so a client resends, as a real one
// would after a 503; ingest is idempotent by auditEventId.
const PROXY_RESTARTED = 'Your worker restarted mid-request';
// A query or export (a GET, safe to repeat) with no answer within REQUEST_TIMEOUT_MS is
// sent once more, as a real client would; the stall is printed (with the Worker's traces)
// and counted as a resend, and a second one is an error.
const MAX_RESENDS = 3;
const resent = Object.fromEntries(kinds.map((k) => [k, 0]));
const resends = [];

/** An error's message with its cause (undici's fetch puts the socket's error there). */
const cause = (e) => `${e.message}${e.cause ? `: ${e.cause.code ?? ''} ${e.cause.message ?? ''}`.trimEnd() : ''}`;

/** Requests answered so far (with errors). */
const served = () => kinds.reduce((n, k) => n + latency[k].length + errors[k], 0);

/** What was under way beside request `id`. */
const beside = (id) => [...inFlight].filter(([other]) => other !== id)
  .map(([other, s]) => `${other} (${((performance.now() - s) / 1000).toFixed(1)} s)`).join(', ') || 'nothing';

/** Times one request of `kind` (sent with an `x-soak-request` id), resending it as above; a
 * non-200 answer, a failure or no answer within REQUEST_TIMEOUT_MS counts as an error,
 * printed with when it started, where it stopped (no answer, or a body cut short) and what
 * else was under way. */
async function timed(kind, account, url, token, { method = 'GET', body, headers = {} } = {}) {
  const id = `${kind}-${account}-${++requestCount}`;
  const t = performance.now();
  let started = new Date().toISOString();
  let stage = 'no answer';
  inFlight.set(id, t);
  try {
    for (let attempt = 0; ; attempt++) {
      const a = performance.now();
      let r;
      let text;
      try {
        r = await fetch(url, {
          method, body, headers: { authorization: `Bearer ${token}`, 'x-soak-request': id, ...headers },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        stage = `${r.status}, body cut short`;
        text = await r.text();
      } catch (e) {
        // A connection that failed before any answer (a keep-alive connection the server
        // closed as the request went out) is resent like a 503: every request here is
        // idempotent (ingest by auditEventId).
        const dropped = stage === 'no answer' && e.name !== 'TimeoutError';
        if (!(dropped || (e.name === 'TimeoutError' && method === 'GET')) || attempt >= (dropped ? MAX_RESENDS : 1)) throw e;
        resent[kind] += 1;
        if (resends.length < 20) resends.push(`${id} ${url.replace(/^http:\/\/[^/]+/, '')} started ${started}: ${stage} within ${
          ((performance.now() - a) / 1000).toFixed(1)} s (${cause(e)}), sent again; under way beside it: ${beside(id)}`);
        started = new Date().toISOString();
        stage = 'no answer';
        continue;
      }
      if (r.status === 503 && text.startsWith(PROXY_RESTARTED) && attempt < MAX_RESENDS) {
        resent[kind] += 1;
        if (resends.length < 20) resends.push(`${id} started ${started}: the proxy's 503 after ${((performance.now() - a) / 1000).toFixed(1)} s, sent again`);
        continue;
      }
      latency[kind].push(performance.now() - t);
      if (r.status === 200) return { status: r.status, json: kind === 'ingest' ? JSON.parse(text) : undefined };
      if (firstErrors.length < 5) firstErrors.push(`${id} ${r.status} ${text.slice(0, 200)}`);
      break;
    }
  } catch (e) {
    if (firstErrors.length < 5) {
      firstErrors.push(`${id} ${method} ${url.replace(/^http:\/\/[^/]+/, '')} started ${started}, ${stage} after ${
        ((performance.now() - t) / 1000).toFixed(1)} s: ${cause(e)}; under way beside it: ${beside(id)}`);
    }
  } finally {
    inFlight.delete(id);
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

/** Bytes of every file under `dir` (the accounts' stored data: the objects' SQLite files). */
function bytesUnder(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    try { n += e.isDirectory() ? bytesUnder(p) : statSync(p).size; } catch { /* removed meanwhile */ }
  }
  return n;
}

const w = await startWorker({
  tokensConfig: config, credentialsKey: newCredentialsKey(),
  vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '0', TRACE_SLOW_MS: String(TRACE_MS) },
});
const url = VIA === 'proxy' ? w.url : await runtimeUrl(w.pgid);
console.error(`soak: requests go to ${url} (${VIA === 'proxy' ? "wrangler dev's proxy" : 'the runtime workerd, past the proxy'})`);
/** The size of the Worker's wasm memory (MB), from its health answer. */
const wasmMb = async () => {
  try {
    const r = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(10_000) });
    return (await r.json()).wasmMemoryBytes / 2 ** 20;
  } catch { return NaN; }
};
const closers = [];
let failed = false;
// wrangler dev's inspector proxy turns on the runtime's Network domain, and workerd then
// sends every subrequest's whole response body (the Worker's calls to the account objects:
// query and export pages) to the proxy, which keeps it until a DevTools session attaches
// (bench/inspector.mjs). SOAK_DEVTOOLS: `network-off` (default) attaches a session that
// turns the Network domain off, as in production, where there is no inspector; `on` attaches
// one that leaves it on and drains it; `none` attaches none (the proxy then grows).
const DEVTOOLS = process.env.SOAK_DEVTOOLS ?? 'network-off';
if (!['network-off', 'on', 'none'].includes(DEVTOOLS)) throw new Error(`SOAK_DEVTOOLS must be network-off, on or none, not ${DEVTOOLS}`);
const devtools = DEVTOOLS === 'none' ? null : await drainDevtools(w.inspectorPort, { network: DEVTOOLS === 'on' });
if (devtools) closers.push(devtools);
try {
  for (const [i, a] of accounts.entries()) {
    a.rx = await receiver();
    closers.push(a.rx);
    const made = await call(`${url}/v1/destinations`, a.token, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Soak', type: 'webhook', config: { url: a.rx.url },
        credentials: { secret: 'whsec-soak-0123456789abcdef' }, batch: { maxEvents: 500, intervalSeconds: 1 } }),
    });
    if (made.status !== 201) throw new Error(`destination: ${made.status} ${made.text}`);
    const on = await call(`${url}/v1/destinations/${made.json.id}`, a.token, {
      method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'active' }),
    });
    if (on.status !== 200) throw new Error(`activate: ${on.status} ${on.text}`);
    a.tailKind = i % 2 ? 'sse' : 'websocket';
    a.tail = await (i % 2 ? sseTail : wsTail)(url, { token: a.token });
    if (![101, 200].includes(a.tail.status)) throw new Error(`tail: ${a.tail.status} ${JSON.stringify(a.tail.json)}`);
    a.acked = new Set();
  }

  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const rss = [];
  const wasm = [];
  const anon = [];
  const files = [];
  const proxy = [];
  const stored = [];
  const v8 = [];
  const sample = () => {
    const at = (performance.now() - t0) / 1000;
    const kb = groupRss(w.pgid);
    rss.push([at, kb.runtime / 1024, served()]);
    anon.push([at, kb.runtimeAnon / 1024]);
    files.push([at, kb.runtimeFile / 1024]);
    proxy.push([at, kb.proxy / 1024]);
    stored.push([at, bytesUnder(w.dir) / 2 ** 20]);
    wasmMb().then((mb) => wasm.push([at, mb]));
    devtools?.heap().then((h) => v8.push([at, h.total, h.used]));
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  sample();
  const load = [];
  const loadSampler = setInterval(() => load.push(loadavg()[0]), SAMPLE_MS);
  const reporter = setInterval(() => console.error(`soak: ${((performance.now() - t0) / 1000).toFixed(0)} s: ${
    kinds.map((k) => `${k} ${latency[k].length} (${errors[k]} errors)`).join(', ')}`), 60_000);

  const ingest = async (a) => {
    for (let b = 0; performance.now() < deadline; b++) {
      const now = Date.now();
      const evs = Array.from({ length: BATCH }, (_, i) => event(a.name, i, {
        auditEventId: `${a.name}-${b % DISTINCT_BATCHES}-${i}`, auditEventTime: String(now - i),
      }));
      const r = await timed('ingest', a.name, `${url}/v1/events`, a.token, {
        method: 'POST', body: evs.map((e) => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' },
      });
      // A resent batch whose first send was stored after all comes back as duplicates.
      if (r && r.json.accepted + r.json.duplicates === BATCH) for (const e of evs) a.acked.add(e.auditEventId);
    }
  };
  const query = async (a) => {
    while (performance.now() < deadline) {
      await timed('query', a.name, `${url}/v1/events?q=${encodeURIComponent('action:CREATE AND module:CORE')}&from=now-10m&limit=100`, a.token);
      await sleep(1000);
    }
  };
  const exportLoop = async (a) => {
    while (performance.now() < deadline) {
      await timed('export', a.name, `${url}/v1/events?format=csv&from=now-1m`, a.token);
      await sleep(5000);
    }
  };
  await Promise.all(accounts.flatMap((a) => [ingest(a), query(a), exportLoop(a)]));
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(reporter);
  // The load is over; memory (and the load average) go on being sampled while idle.
  await sleep(IDLE_SECONDS * 1000);
  clearInterval(sampler);
  clearInterval(loadSampler);
  // Then, with SOAK_HEAP=1, one full garbage collection of the Worker's isolate through
  // the inspector: what memory stays after it. Not by default: in one 600 s run the
  // runtime's V8 heap ran out (1.4 GB) within 15 s of this probe (RELIABILITY.md, Soak).
  let heap = null;
  if (process.env.SOAK_HEAP === '1') {
    try {
      heap = await heapAroundGc(w.inspectorPort);
      await sleep(SAMPLE_MS);
      heap.rssAfter = groupRss(w.pgid).runtime / 1024;
    } catch (e) {
      console.error(`soak: no heap figures from the inspector: ${e.message}`);
    }
  }
  const loadRss = rss.filter((p) => p[0] <= elapsed);
  const idleRss = rss.filter((p) => p[0] > elapsed);

  // Stored, acknowledged and delivered per account, once delivery has caught up.
  const settle = Date.now() + 180_000;
  while (Date.now() < settle && !accounts.every((a) => a.rx.ids.size >= a.acked.size)) await sleep(500);
  await sleep(2000);
  console.log(`soak: ${ACCOUNTS} accounts, ${elapsed.toFixed(0)} s, batches of ${BATCH}, load average ${
    (load.reduce((x, y) => x + y, 0) / Math.max(1, load.length)).toFixed(1)} (mean of 5 s samples)`);
  console.log('kind      requests   req/s      p50 ms    p99 ms   errors   resent');
  for (const k of kinds) {
    const n = latency[k].length;
    console.log(`${k.padEnd(8)} ${String(n).padStart(9)} ${(n / elapsed).toFixed(1).padStart(7)} ${
      pct(latency[k], 50).toFixed(1).padStart(10)} ${pct(latency[k], 99).toFixed(1).padStart(9)} ${String(errors[k]).padStart(8)} ${
      String(resent[k]).padStart(8)}`);
  }
  const ackedTotal = accounts.reduce((x, a) => x + a.acked.size, 0);
  console.log(`ingest: ${ackedTotal} events acknowledged, ${(ackedTotal / elapsed).toFixed(0)} events/s`);
  for (const e of firstErrors) console.log(`  error: ${e}`);
  for (const e of resends.slice(0, 20)) console.log(`  resent: ${e}`);
  const traces = w.log().split('\n').filter((l) => l.includes('trace: '));
  console.log(`Worker steps slower than ${TRACE_MS} ms: ${traces.length}`);
  for (const l of traces.slice(0, 40)) console.log(`  ${l.trim()}`);

  console.log('account   acked   stored  delivered  repeats  tail(kind: got + dropped)');
  for (const a of accounts) {
    const stored = await exported(url, a.token);
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

  const mb = loadRss.map((p) => p[1]);
  const perMin = slope(loadRss) * 60;
  const mean = (ps) => ps.reduce((x, p) => x + p[1], 0) / Math.max(1, ps.length);
  const third = (ps, i) => ps.filter((p) => p[0] >= (elapsed * i) / 3 && p[0] < (elapsed * (i + 1)) / 3);
  const [m1, m2, m3] = [0, 1, 2].map((i) => mean(third(loadRss, i)));
  // MB per 1,000 requests served, fitted within a third.
  const perRequests = (i) => slope(third(loadRss, i).map((p) => [p[2] / 1000, p[1]]));
  const [k2, k3] = [perRequests(1), perRequests(2)];
  const judged = elapsed >= JUDGED_SECONDS;
  console.log(`workerd RSS (MB, every ${SAMPLE_MS / 1000} s, ${mb.length} samples): first ${mb[0].toFixed(1)} last ${
    mb[mb.length - 1].toFixed(1)} max ${Math.max(...mb).toFixed(1)}, slope ${perMin.toFixed(2)} MB/min over the run`);
  console.log(`  mean by third of the run: ${m1.toFixed(1)} / ${m2.toFixed(1)} / ${m3.toFixed(1)} MB; per 1,000 requests ${
    k2.toFixed(1)} MB in the middle third, ${k3.toFixed(1)} in the last (the runtime's, not judged)${
    idleRss.length ? `; idle for ${IDLE_SECONDS} s after: mean ${mean(idleRss).toFixed(1)}, last ${
      idleRss[idleRss.length - 1][1].toFixed(1)} MB` : ''}`);
  const byThird = (ps) => [0, 1, 2].map((i) => mean(third(ps.filter((p) => p[0] <= elapsed), i)).toFixed(1)).join(' / ');
  console.log(`  of it anonymous (heaps, wasm) by third ${byThird(anon)}, last ${anon[anon.length - 1][1].toFixed(1)} MB; mapped files (the workerd binary) by third ${
    byThird(files)}, last ${files[files.length - 1][1].toFixed(1)} MB`);
  console.log(`  stored data (the objects' SQLite files, MB) by third ${byThird(stored)}, last ${
    stored[stored.length - 1][1].toFixed(1)}; wrangler dev's proxy workerd (${VIA === 'proxy' ? 'in the path' : 'not in the path'
  }) RSS first ${proxy[0][1].toFixed(1)}, by third ${byThird(proxy)}, last ${proxy[proxy.length - 1][1].toFixed(1)} MB`);
  const v8Ok = v8.filter((p) => Number.isFinite(p[1])).sort((a, b) => a[0] - b[0]);
  if (v8Ok.length) {
    console.log(`  V8 heap of the isolate (MB allocated, no forced GC; ${v8Ok.length} samples): first ${v8Ok[0][1].toFixed(1)}, by third ${
      byThird(v8Ok)}, last ${v8Ok[v8Ok.length - 1][1].toFixed(1)} (in use last ${v8Ok[v8Ok.length - 1][2].toFixed(1)})`);
  }
  if (devtools) console.log(`  DevTools session attached (${DEVTOOLS}): ${devtools.messages} messages, ${(devtools.bytes / 2 ** 20).toFixed(1)} MB from the runtime (${
    Object.entries(devtools.methods).sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 6)
      .map(([m, n]) => `${m} ${n.messages}, ${(n.bytes / 2 ** 20).toFixed(1)} MB`).join('; ')})`);
  if (process.env.SOAK_SERIES) {
    writeFileSync(process.env.SOAK_SERIES, `${['seconds', 'runtime_mb', 'anon_mb', 'file_mb', 'proxy_mb', 'stored_mb', 'served'].join(',')}\n${
      rss.map((p, i) => [p[0].toFixed(0), p[1].toFixed(1), anon[i][1].toFixed(1), files[i][1].toFixed(1), proxy[i][1].toFixed(1),
        stored[i][1].toFixed(1), p[2]].join(',')).join('\n')}\n`);
  }
  if (heap) {
    console.log(`  V8 heap of the Worker's isolate: ${heap.before.used.toFixed(1)} MB used of ${heap.before.total.toFixed(1)
    } before a forced full GC, ${heap.after.used.toFixed(1)} of ${heap.after.total.toFixed(1)} after; RSS ${heap.rssAfter.toFixed(1)} MB ${SAMPLE_MS / 1000} s after it`);
  }
  const wasmOk = wasm.filter((p) => Number.isFinite(p[1])).sort((a, b) => a[0] - b[0]);
  if (wasmOk.length) {
    console.log(`  wasm memory (MB, ${wasmOk.length} samples): first ${wasmOk[0][1].toFixed(1)}, by third ${
      byThird(wasmOk)}, last ${wasmOk[wasmOk.length - 1][1].toFixed(1)}`);
  }
  // The Worker's own memory: wasm memory plus the V8 heap (when a DevTools session reads it).
  const wasmLoad = wasmOk.filter((p) => p[0] <= elapsed);
  const v8Load = v8Ok.filter((p) => p[0] <= elapsed);
  const [w2, w3] = [1, 2].map((i) => mean(third(wasmLoad, i)) + (v8Load.length ? mean(third(v8Load, i)) : 0));
  const grows = judged && w3 - w2 > Math.max(GROWTH_MB, GROWTH_SHARE * w2);
  console.log(`the Worker's own memory (wasm${v8Load.length ? ' + V8 heap' : ''}), mean of the middle and last thirds: ${
    w2.toFixed(1)} / ${w3.toFixed(1)} MB: ${!judged ? `not judged (under ${JUDGED_SECONDS} s)` : grows ? 'GROWS' : 'no growth'}`);
  const tooManyErrors = kinds.filter((k) => errors[k] > MAX_ERRORS);
  if (tooManyErrors.length) console.log(`more than ${MAX_ERRORS} request errors: ${tooManyErrors.join(', ')}`);
  if (grows || tooManyErrors.length) failed = true;
} finally {
  if (process.env.SOAK_LOG) writeFileSync(process.env.SOAK_LOG, w.log());
  for (const a of accounts) a.tail?.close?.();
  await w.stop();
  w.cleanup();
  await Promise.all(closers.map((c) => c.close()));
}
if (failed) {
  console.error('soak: FAILED');
  process.exit(1);
}
