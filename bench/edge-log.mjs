// The verifiable log's figures (BENCHMARKS.md "Verifiable log"):
// - ingest with the log beside ingest without it: the same source built twice, the second
//   with the bench-only feature `bench-no-log` (no leaf hashes, tree nodes or backfill at
//   commit). Both Workers run at once; rounds of ROUND_BATCHES NDJSON requests of EVENTS
//   events go to one, then the other (order alternating), and the CPU time (user + system)
//   of each one's workerd processes is read around its round: events per CPU-second and
//   per wall second, medians over ROUNDS rounds;
// - proof sizes (inclusion and consistency; hashes and bytes of the answer) at several
//   tree sizes;
// - evidence export speed (`GET /v1/evidence?limit=10000`, events/s);
// - native `trailsift verify` of that bundle (events/s).
//   make bench-log     (builds both Workers into target/bench-log/ and the CLI first)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupCpu } from './workerd-cpu.mjs';
import { startWorker, newToken, sha256, event, ROOT } from '../tests/edge/harness.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const ROUND_BATCHES = Number(process.env.ROUND_BATCHES ?? 40);
const EVENTS = Number(process.env.EVENTS ?? 200);
const TREE = Number(process.env.TREE ?? 100_000);
const BUILDS = join(ROOT, 'target', 'bench-log');
const CLI = process.env.TRAILSIFT_BIN
  || join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'native', 'trailsift');

/** A wrangler.toml for the built Worker in `dir` (index.js beside it), as the repository's. */
function config(dir) {
  if (!existsSync(join(dir, 'index.js'))) throw new Error(`no Worker built in ${dir}: run make bench-log`);
  const path = join(dir, 'wrangler.toml');
  writeFileSync(path, `name = "trailsift"
main = "index.js"
compatibility_date = "2025-09-01"

[[durable_objects.bindings]]
name = "ACCOUNT_STORE"
class_name = "AccountStore"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["AccountStore"]
`);
  return path;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

const token = newToken();
const tokens = JSON.stringify([{ sha256: sha256(token), account: 'bench', scopes: ['ingest', 'read'], owner: 'bench' }]);
const vars = { RATE_LIMIT_REQUESTS_PER_MINUTE: '0', LOG_ORIGIN: 'bench.log' };
let serial = 0;
const body = (n = EVENTS) => Array.from({ length: n }, () => {
  const i = serial++;
  return JSON.stringify(event('bench', i, { auditEventId: `bench-${i}`, auditEventTime: String(Date.now() - 1_000_000 + (i % 900_000)) }));
}).join('\n') + '\n';

async function ask(w, path, init = {}) {
  const r = await fetch(`${w.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${text.slice(0, 300)}`);
  return text;
}
const post = (w, text) => ask(w, '/v1/events', { method: 'POST', body: text, headers: { 'content-type': 'application/x-ndjson' } });

const out = { machine: { cores: 2, loadAtStart: load() } };
const workers = {};
const tmp = mkdtempSync(join(tmpdir(), 'trailsift-bench-log-'));
try {
  [workers.log, workers.nolog] = await Promise.all(['log', 'nolog'].map((v) =>
    startWorker({ tokensConfig: tokens, vars, wranglerConfig: config(join(BUILDS, v)) })));
  for (const w of Object.values(workers)) for (let i = 0; i < 20; i++) await post(w, body()); // warm up

  // Ingest: rounds in turns.
  const rates = { log: [], nolog: [] };
  const wall = { log: [], nolog: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of r % 2 ? ['nolog', 'log'] : ['log', 'nolog']) {
      const w = workers[v];
      const bodies = Array.from({ length: ROUND_BATCHES }, () => body());
      const cpu0 = groupCpu(w.pgid);
      const t0 = performance.now();
      for (const b of bodies) await post(w, b);
      const secs = (performance.now() - t0) / 1000;
      const cpu = groupCpu(w.pgid) - cpu0;
      rates[v].push(ROUND_BATCHES * EVENTS / cpu);
      wall[v].push(ROUND_BATCHES * EVENTS / secs);
    }
  }
  const m = (xs) => Math.round(median(xs));
  out.ingest = {
    rounds: ROUNDS, requestsPerRound: ROUND_BATCHES, eventsPerRequest: EVENTS,
    eventsPerCpuSecond: { log: m(rates.log), nolog: m(rates.nolog), all: { log: rates.log.map(Math.round), nolog: rates.nolog.map(Math.round) } },
    eventsPerWallSecond: { log: m(wall.log), nolog: m(wall.nolog) },
    logOverNolog: { cpu: Number((median(rates.log) / median(rates.nolog)).toFixed(3)), wall: Number((median(wall.log) / median(wall.nolog)).toFixed(3)) },
    loadAfter: load(),
  };
  await workers.nolog.stop();
  workers.nolog.cleanup();
  delete workers.nolog;

  // Fill the log Worker's tree up to TREE events.
  const w = workers.log;
  let size = Number((await ask(w, '/v1/log/checkpoint')).split('\n')[1]);
  while (size < TREE) {
    const n = Math.min(5000, TREE - size);
    size += JSON.parse(await post(w, body(n))).accepted;
  }

  // Proof sizes.
  const proofs = [];
  for (const n of [10, 100, 1000, 10_000, TREE]) {
    const inc = await ask(w, `/v1/log/proof/inclusion?seq=${Math.ceil(n / 2)}&treeSize=${n}`);
    const con = await ask(w, `/v1/log/proof/consistency?first=${Math.floor(n / 3) || 1}&second=${n}`);
    proofs.push({
      treeSize: n,
      inclusion: { hashes: JSON.parse(inc).proof.length, answerBytes: inc.length },
      consistency: { from: Math.floor(n / 3) || 1, hashes: JSON.parse(con).proof.length, answerBytes: con.length },
    });
  }
  out.proofs = proofs;

  // Evidence export: 10,000 events a bundle.
  const times = [];
  let bundle;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    bundle = await ask(w, '/v1/evidence?from=now-30d&limit=10000');
    times.push((performance.now() - t0) / 1000);
  }
  const entries = JSON.parse(bundle).entries.length;
  out.evidence = {
    treeSize: size, entries, bundleBytes: bundle.length, bytesPerEntry: Math.round(bundle.length / entries),
    seconds: times.map((t) => Number(t.toFixed(3))), eventsPerSecond: Math.round(entries / median(times)),
  };

  // Native verify of that bundle.
  const key = JSON.parse(await (await fetch(`${w.url}/v1/log/keys`)).text()).keys[0];
  const path = join(tmp, 'bundle.json');
  writeFileSync(path, bundle);
  const vt = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = spawnSync(CLI, ['verify', path, '--key', key], { encoding: 'utf8' });
    vt.push((performance.now() - t0) / 1000);
    if (r.status !== 0) throw new Error(`verify failed: ${r.stdout}${r.stderr}`);
  }
  out.verify = { entries, seconds: vt.map((t) => Number(t.toFixed(3))), eventsPerSecond: Math.round(entries / median(vt)) };
  out.machine.loadAtEnd = load();
  console.log(JSON.stringify(out, null, 2));
} finally {
  for (const w of Object.values(workers)) { await w.stop(); w.cleanup(); }
  rmSync(tmp, { recursive: true, force: true });
}
