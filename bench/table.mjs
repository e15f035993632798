// Issue 18's one table: every query of bench/filter-peers.py (the issue's broad queries, the
// held-out set, the selective ones) natively on 1 and 2 threads, in the npm package, in the
// page, and in DuckDB (1 and 2 threads), jq and the page's two in-browser baselines, with
// the issue's goals marked met or missed. Prints one Markdown table (for BENCHMARKS.md).
//
//   node --expose-gc bench/table.mjs [DATA] [--quick]     (make bench-table)
//   DATA: an NDJSON file of audit events (default bench/data/filter-100mb.ndjson)
//   ROUNDS=n (default 5; --quick or QUICK=1: 3), NO_JQ=1 (--quick: jq is not run),
//   TRAILSIFT_BIN (default $CARGO_TARGET_DIR/native/trailsift), BENCH_WWW=dir (another
//   build of the page)
//
// The drivers it runs, each interleaving its own rounds and giving medians:
//   native, DuckDB, jq   bench/filter-peers.py --json (trailsift writes the matching lines
//                        to /dev/null; DuckDB counts; CPU = user + system of every thread)
//   npm                  bench/js/broad.mjs --json (`compileFilter(q).filterNdjson(bytes)`,
//                        CPU of the call, and native `--threads 1` in the same rounds)
//   page                 below: DATA loaded once into the page (www/, `make www`) in headless
//                        Chromium, then each query typed into the query bar in turn, ROUNDS
//                        times: Enter → count, newest rows, facets and histogram shown (ms),
//                        and the renderer processes' CPU time over that re-filter
//   plain JS, DuckDB-wasm bench/www/bench.mjs BENCH_ONLY=plain,duckdb on the same file (it
//                        has them for `-is:login` only)
// Needs `make cli www` (the Makefile target builds both).

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync, symlinkSync, mkdirSync, createReadStream } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { ROOT, CLI, serve, launch, loadFile } from '../tests/e2e/helpers.mjs';
import { rendererTicks, rendererCpuS, pageRefilter } from './www/probes.mjs';

const ARGS = process.argv.slice(2);
const QUICK = ARGS.includes('--quick') || process.env.QUICK === '1';
const DATA = path.resolve(ARGS.find((a) => !a.startsWith('--')) || path.join(ROOT, 'bench/data/filter-100mb.ndjson'));
const ROUNDS = Number(process.env.ROUNDS || (QUICK ? 3 : 5));
const JQ = !QUICK && process.env.NO_JQ !== '1';
const BIN = path.resolve(CLI);
const BYTES = statSync(DATA).size;
const MB = BYTES / 1e6;
const started = Date.now();

const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const progress = (msg) => console.error(`[${((Date.now() - started) / 1000).toFixed(0)} s, load ${loadavg()[0].toFixed(1)}] ${msg}`);

// A driver's stdout (its stderr passed through as progress); fails when it fails.
function run(argv, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; process.stderr.write(d); });
    p.on('close', (code) => (code === 0 ? resolve({ out, err }) : reject(new Error(`${argv.join(' ')}: exit ${code}\n${err}`))));
  });
}
const jsonLines = (text) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

async function countLines(file) {
  let n = 0;
  for await (const chunk of createReadStream(file)) for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

// --- the page ------------------------------------------------------------------------------

async function measurePage(queries) {
  const srv = await serve(process.env.BENCH_WWW || undefined);
  const browser = await launch();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(srv.url);
    await page.waitForFunction(() => document.body.dataset.engine === 'ready');
    await loadFile(page, DATA);
    const loaded = await page.evaluate(() => ({ ms: window.__trailsift.loadedMs, events: window.__trailsift.events }));
    const runs = new Map(queries.map((q) => [q, { ms: [], cpu: [], count: null }]));
    // Each query in turn, so that each re-filter starts from another query's view.
    for (let r = 0; r < ROUNDS; r++) {
      for (const q of queries) {
        const t = rendererTicks();
        const { ms, count } = await page.evaluate(pageRefilter, q);
        const run = runs.get(q);
        run.ms.push(ms);
        run.cpu.push(rendererCpuS(t) * 1000);
        run.count = count;
      }
    }
    if (errors.length) throw new Error(`page: ${errors.join('\n')}`);
    return { loaded, version: browser.version(), byQuery: new Map([...runs].map(([q, v]) => [q, { ms: median(v.ms), cpu: median(v.cpu), count: v.count }])) };
  } finally {
    await browser.close();
    srv.close();
  }
}

// bench/www/bench.mjs reads bench/data/www-<MB>mb.ndjson (generating it when missing or short):
// a link there to DATA makes it measure the baselines on this same file. Null (and why) when
// that name holds another file.
function baselineFile() {
  const mb = Math.floor(MB);
  const link = path.join(ROOT, 'bench/data', `www-${mb}mb.ndjson`);
  mkdirSync(path.dirname(link), { recursive: true });
  if (!existsSync(link) && !lstatSync(link, { throwIfNoEntry: false })) symlinkSync(DATA, link);
  if (!lstatSync(link).isSymbolicLink() || path.resolve(path.dirname(link), readlinkSync(link)) !== DATA) {
    return { mb: null, why: `${link} is another file` };
  }
  return { mb };
}

async function measureBaselines() {
  const { mb, why } = baselineFile();
  if (mb === null) return { why };
  const { err } = await run(['node', 'bench/www/bench.mjs', String(mb)], { BENCH_ONLY: 'plain,duckdb', RUNS: QUICK ? '1' : '3' });
  const got = {};
  for (const m of err.matchAll(/^(plain|duckdb): (\{.*\})$/gm)) got[m[1]] = JSON.parse(m[2]);
  return got;
}

// --- the table -----------------------------------------------------------------------------

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const rate = ({ wall, cpu }) => `${fmt(MB / wall)} MB/s, ${fmt(MB / cpu)} MB/CPU-s`;
const mark = (ok, figure) => `${ok ? 'met' : '**missed**'} (${figure})`;

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() ? ' (with uncommitted changes)' : '';
const load0 = load();
const t0 = new Date().toISOString();
const events = await countLines(DATA);

progress(`native, DuckDB${JQ ? ', jq' : ''}: bench/filter-peers.py`);
const peers = jsonLines((await run(['python3', 'bench/filter-peers.py', DATA, BIN, '--rounds', String(ROUNDS), '--threads', '1,2', '--json', ...(JQ ? [] : ['--no-jq'])])).out);
const queries = peers.map((p) => p.query);
progress('npm: bench/js/broad.mjs');
const npm = new Map(jsonLines((await run(['node', '--expose-gc', 'bench/js/broad.mjs', DATA, '--json'], { ROUNDS: String(ROUNDS), TRAILSIFT_BIN: BIN })).out).map((r) => [r.query, r]));
progress('page');
const page = await measurePage(queries);
progress('plain JS and DuckDB-wasm: bench/www/bench.mjs');
const alt = await measureBaselines();
const load1 = load();

const duckVersion = execFileSync('python3', ['-c', 'import duckdb; print(duckdb.__version__)'], { encoding: 'utf8' }).trim();
const jqVersion = JQ ? execFileSync('jq', ['--version'], { encoding: 'utf8' }).trim() : null;

console.log(`Measured ${t0} – ${new Date().toISOString()} by \`node bench/table.mjs${QUICK ? ' --quick' : ''}\` (${((Date.now() - started) / 60000).toFixed(1)} min) at commit ${commit}${dirty}; **load average ${load0} at the start, ${load1} at the end** (1 / 5 / 15 min) on ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm).length} cores.`);
console.log(`Data: \`${DATA}\`, ${BYTES.toLocaleString('en-US')} bytes, ${events.toLocaleString('en-US')} events, for every column, the page's included (loaded once, ready in ${(page.loaded.ms / 1000).toFixed(2)} s). Medians of ${ROUNDS} interleaved rounds (jq: one run). MB/s = input MB / wall seconds; MB/CPU-s = input MB / CPU seconds (user + system of every thread). trailsift native: \`filter --threads N -q Q DATA > /dev/null\`, the whole process; DuckDB ${duckVersion}: \`SELECT count(*) FROM read_ndjson(DATA) WHERE …\`, timed around the query${JQ ? `; ${jqVersion}: \`jq -c 'select(…)'\`` : '; jq not run (quick mode)'}. npm: \`compileFilter(q).filterNdjson(bytes)\` on the bytes in memory, CPU of the call, × the CPU of native 1 thread measured in the same rounds. Page: Chromium ${page.version}, Enter in the query bar → count, newest rows, facets and histogram shown, and the renderers' CPU over it (10 ms ticks). plain JS / DuckDB-wasm: bench/www/bench.mjs's baselines (only \`-is:login\`), ${alt.why ? `not run: ${alt.why}` : `medians of ${QUICK ? "1 load" : "3 loads"} × 3 re-filters`}.`);
console.log();
const cols = ['kind', 'query', 'matches', 'native 1T', 'native 2T', 'npm (× native CPU)', 'page', 'plain JS', 'DuckDB-wasm', 'DuckDB 1T', 'DuckDB 2T', 'jq',
  'native ≥ 1 GB/CPU-s', '≥ 2× DuckDB 1T (CPU; wall)', 'npm ≥ 500 MB/CPU-s, ≤ 1.5× native', 'page ≤ 150 ms (selective ≤ 20 ms)'];
console.log(`| ${cols.join(' | ')} |`);
console.log(`|${cols.map(() => '---|').join('')}`);
for (const p of peers) {
  const ts1 = p.ts['1'];
  const duck1 = p.duck['1'];
  const n = npm.get(p.query);
  const pg = page.byQuery.get(p.query);
  const base = (k) => (p.query === '-is:login' && alt[k] ? `${fmt(alt[k].broad)} ms (${fmt(alt[k].counts.broad)} events)` : '—');
  const pageLimit = p.group === 'selective' ? 20 : 150;
  const cpuX = duck1.cpu / ts1.cpu;
  const row = [
    p.group,
    `\`${p.query}\``,
    fmt(p.matches),
    rate(ts1),
    rate(p.ts['2']),
    n ? `${fmt(MB / n.wasm[0])} MB/CPU-s (${(n.wasm[0] / n.native).toFixed(2)}×)${n.matches === p.matches ? '' : ` **${fmt(n.matches)} matches**`}` : '—',
    `${fmt(pg.ms)} ms (CPU ${fmt(pg.cpu)} ms)${pg.count === p.matches ? '' : ` **${fmt(pg.count)} matches**`}`,
    base('plain'),
    base('duckdb'),
    rate(duck1),
    rate(p.duck['2']),
    p.jq ? rate(p.jq['1']) : '—',
    mark(MB / ts1.cpu >= 1000, `${fmt(MB / ts1.cpu)}`),
    mark(cpuX >= 2, `${cpuX.toFixed(1)}×; ${(duck1.wall / ts1.wall).toFixed(1)}×`),
    n ? mark(MB / n.wasm[0] >= 500 && n.wasm[0] / n.native <= 1.5, `${fmt(MB / n.wasm[0])}, ${(n.wasm[0] / n.native).toFixed(2)}×`) : '—',
    mark(pg.ms <= pageLimit, `${fmt(pg.ms)} ms`),
  ];
  console.log(`| ${row.join(' | ')} |`);
}
