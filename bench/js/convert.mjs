// npm `convert` throughput on 100 MB of NDJSON, for one or more builds of the package in
// one process, taking turns run by run (so a slow spell of the shared machine falls on all
// of them); best CPU time of RUNS each.
//   node --expose-gc bench/js/convert.mjs [PKG_DIR ...]     (default: pkg/)
// Used to compare a build before and after a change: pass both package directories.
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FILE = join(ROOT, 'bench', 'data', 'events-100mb.ndjson');
const RUNS = Number(process.env.RUNS ?? 5);
const MB = 1 << 20;
const CASES = [
  { to: 'csv', name: 'NDJSON → CSV' },
  { to: 'json', name: 'NDJSON → JSON array' },
  { to: 'ndjson', name: 'NDJSON → NDJSON' },
];

/** Rows of {name, ms per package} for `packages` (modules) on `bytes`. */
export function convertRows(packages, bytes, runs = RUNS) {
  return CASES.map((c) => {
    const best = packages.map(() => Infinity);
    for (let i = 0; i <= runs; i++) {
      packages.forEach((ts, k) => {
        globalThis.gc?.();
        const u = process.cpuUsage();
        ts.convert(bytes, { from: 'ndjson', to: c.to });
        const d = process.cpuUsage(u);
        if (i > 0) best[k] = Math.min(best[k], (d.user + d.system) / 1000);
      });
    }
    return { name: c.name, ms: best };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!existsSync(FILE)) throw new Error(`no ${FILE}: run make bench-js once to make it`);
  const dirs = process.argv.slice(2);
  if (!dirs.length) dirs.push(join(ROOT, 'pkg'));
  const packages = [];
  for (const d of dirs) packages.push(await import(pathToFileURL(join(resolve(d), 'node.mjs')).href));
  const bytes = readFileSync(FILE);
  const mbps = (ms) => (bytes.length / MB / (ms / 1000)).toFixed(0);
  console.log(`| conversion | ${dirs.map((d) => `\`${d}\``).join(' | ')} |`);
  console.log(`|---|${dirs.map(() => '---:').join('|')}|`);
  for (const r of convertRows(packages, bytes)) {
    console.log(`| ${r.name} | ${r.ms.map((ms) => `${ms.toFixed(0)} ms (${mbps(ms)} MB/s)`).join(' | ')} |`);
  }
}
