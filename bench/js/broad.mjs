// The npm package's filter on broad queries (issue 18's, and its held-out set) against the
// native CLI on one thread: MB per CPU-second of each, in interleaved rounds.
//   node --expose-gc bench/js/broad.mjs [FILE]     (default: bench/data/events-100mb.ndjson)
//   PKGS=dir,dir: builds of the package to compare, one column each (default: pkg/)
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
const FILE = process.argv[2] || join(ROOT, 'bench', 'data', 'events-100mb.ndjson');
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
  return { cpu: (d.user + d.system) / 1e6, out: out.length };
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

const load0 = loadavg()[0];
const runs = QUERIES.map(() => ({ wasm: packages.map(() => []), native: [] }));
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, q] of QUERIES.entries()) {
    for (const [j, ts] of packages.entries()) runs[i].wasm[j].push(wasm(ts, q).cpu);
    runs[i].native.push(native(q).cpu);
  }
}
console.log(`${FILE}: ${mb.toFixed(0)} MB; medians of ${ROUNDS} interleaved rounds; load average ${load0.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after\n`);
console.log(`| query | ${PKGS.map((d) => `npm \`filterNdjson\` (${d}): MB/CPU-s, × native CPU`).join(' | ')} | native, 1 thread |`);
console.log(`|---|${PKGS.map(() => '---|').join('')}---|`);
for (const [i, q] of QUERIES.entries()) {
  const n = median(runs[i].native);
  const cells = runs[i].wasm.map((w) => median(w)).map((w) => `${(mb / w).toFixed(0)} (${w.toFixed(2)} s), ${(w / n).toFixed(2)}×`);
  console.log(`| \`${q}\` | ${cells.join(' | ')} | ${(mb / n).toFixed(0)} MB/CPU-s (${n.toFixed(2)} s) |`);
}
