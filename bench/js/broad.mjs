// The npm package's filter on the queries of bench/filter-peers.py (issue 18's broad ones,
// its held-out set, two selective ones) against the native CLI on one thread: MB per
// CPU-second of each, in interleaved rounds.
//   node --expose-gc bench/js/broad.mjs [FILE] [--json]   (default: bench/data/events-100mb.ndjson)
//   PKGS=dir,dir: builds of the package to compare, one column each (default: pkg/)
//   ROUNDS=n (default 5); --json: one JSON object a line per query instead of the table,
//   {query, matches, native: cpu s, wasm: [cpu s per package]} (for bench/table.mjs)
// wasm: `compileFilter(q).filterNdjson(bytes)` on the file's bytes in memory (CPU time of
// this process, the call only). native: `trailsift filter --threads 1 -q Q FILE >
// /dev/null` (CPU of the whole process: start, reading the mapped file, writing the lines).
// Needs pkg/ (make pkg) and target/native/trailsift (make cli).
import { spawnSync } from 'node:child_process';
import { readFileSync, openSync, closeSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARGS = process.argv.slice(2);
const JSON_OUT = ARGS.includes('--json');
const FILE = ARGS.find((a) => !a.startsWith('--')) || join(ROOT, 'bench', 'data', 'events-100mb.ndjson');
const NATIVE = process.env.TRAILSIFT_BIN || join(ROOT, 'target', 'native', 'trailsift');
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const NOW = '2026-11-08T00:00:00Z';
const QUERIES = [
  'action:CREATE,UPDATE,DELETE -is:system',
  '(module:CD or resource.type:PIPELINE) and email ends_with "@example.com"',
  '-is:login',
  '-is:system',
  'user:*@example.com',
  'resource.type:SECRET,CONNECTOR,SERVICE or module:CORE,CI',
  'method:POST,PUT -is:login',
  'time >= 2026-01-02 and action != "LOGIN"',
  // The selective queries of bench/filter-peers.py, for comparison.
  'action == "DELETE"',
  'principal.type == "USER"',
];

const PKGS = (process.env.PKGS || join(ROOT, 'pkg')).split(',');
const packages = [];
for (const dir of PKGS) packages.push(await import(pathToFileURL(join(dir, 'node.mjs')).href));
const bytes = readFileSync(FILE);
const mb = bytes.length / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function wasm(ts, query) {
  const f = ts.compileFilter(query, { now: Date.parse(NOW) });
  globalThis.gc?.();
  const u = process.cpuUsage();
  const out = f.filterNdjson(bytes);
  const d = process.cpuUsage(u);
  f.free();
  return { cpu: (d.user + d.system) / 1e6, out };
}

function native(query) {
  const nul = openSync('/dev/null', 'w');
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', NATIVE, 'filter', '--threads', '1', '--now', NOW, '-q', query, FILE],
      { stdio: ['ignore', nul, 'pipe'], encoding: 'utf8' });
    const [u, s] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    return { cpu: u + s };
  } finally {
    closeSync(nul);
  }
}

const newlines = (out) => { let n = 0; for (const b of out) if (b === 10) n++; return n; };

const load0 = loadavg()[0];
const runs = QUERIES.map(() => ({ wasm: packages.map(() => []), native: [], matches: null }));
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, q] of QUERIES.entries()) {
    for (const [j, ts] of packages.entries()) {
      const r = wasm(ts, q);
      runs[i].wasm[j].push(r.cpu);
      // Every line the package writes ends with a newline (the file's last line too).
      if (round === 0 && j === 0) runs[i].matches = newlines(r.out);
    }
    runs[i].native.push(native(q).cpu);
  }
}
if (JSON_OUT) {
  for (const [i, q] of QUERIES.entries()) {
    console.log(JSON.stringify({ query: q, matches: runs[i].matches, native: median(runs[i].native), wasm: runs[i].wasm.map(median) }));
  }
  process.exit(0);
}
console.log(`${FILE}: ${mb.toFixed(0)} MB; medians of ${ROUNDS} interleaved rounds; load average ${load0.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after\n`);
console.log(`| query | ${PKGS.map((d) => `npm \`filterNdjson\` (${d}): MB/CPU-s, × native CPU`).join(' | ')} | native, 1 thread |`);
console.log(`|---|${PKGS.map(() => '---|').join('')}---|`);
for (const [i, q] of QUERIES.entries()) {
  const n = median(runs[i].native);
  const cells = runs[i].wasm.map((w) => median(w)).map((w) => `${(mb / w).toFixed(0)} (${w.toFixed(2)} s), ${(w / n).toFixed(2)}×`);
  console.log(`| \`${q}\` | ${cells.join(' | ')} | ${(mb / n).toFixed(0)} MB/CPU-s (${n.toFixed(2)} s) |`);
}
