// Benchmark of the web page in headless Chromium, against what an analyst could use instead
// in the same browser (bench/www/alt/): plain JS (stream + JSON.parse on the main thread)
// and DuckDB-wasm over Arrow columns. For each, on the same NDJSON file:
//   ready        file chosen → every event loaded and queryable, the full view shown
//   first rows   file chosen → the first table row on screen
//   broad        re-filter `-is:login` → count, newest rows, facets and histogram shown
//   selective    re-filter `action:FORCE_PUSH`, the same view
//   longest main-thread task (load, filters), peak renderer RSS above the idle page.
// Timings are medians of `RUNS` page loads (re-filters: of 3 runs in each load).
//
//   node bench/www/bench.mjs [sizeMB ...]     (default: 200)
//   BENCH_ONLY=trailsift,plain,duckdb RUNS=3 SHARDS=N (the page's shard workers; default:
//   one per core) BENCH_WWW=dir (serve another build of the page, e.g. an earlier commit's,
//   for a before/after comparison)
//   BENCH_PAGES=before=dir,after=dir[?query]: only the page, each build in turn (before,
//   after, before, after, ...) so that a slow spell of a shared machine falls on all of
//   them; medians of RUNS loads of each, the load average beside each run
//
// Needs target/native/trailsift (make cli) and the page (make www). Files are generated
// once into bench/data/ (gitignored), the baselines' page is bundled there too.

import { existsSync, statSync, openSync, writeSync, closeSync, readFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, serve, launch, cli } from '../../tests/e2e/helpers.mjs';
import { rendererRssMb, rendererTicks, rendererCpuS, pageProbes, pageRefilter } from './probes.mjs';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
if (!sizes.length) sizes.push(200);
const RUNS = Number(process.env.RUNS || 3);
const ONLY = (process.env.BENCH_ONLY || 'trailsift,plain,duckdb').split(',');
const DATA = path.join(ROOT, 'bench/data');
mkdirSync(DATA, { recursive: true });
const BROAD = '-is:login';
const SELECTIVE = 'action:FORCE_PUSH';
// The page only: a held-out query of bench/table.mjs on a field the form does not list.
const METHOD = 'method:POST,PUT -is:login';

function ensureFile(mb) {
  const file = path.join(DATA, `www-${mb}mb.ndjson`);
  if (existsSync(file) && statSync(file).size >= mb * 1e6) return file;
  const fd = openSync(file, 'w');
  let size = 0;
  for (let seed = 1; size < mb * 1e6; seed++) {
    const chunk = cli(['gen', '--count', '20000', '--seed', String(seed)]);
    writeSync(fd, chunk);
    size += chunk.length;
  }
  closeSync(fd);
  return file;
}

// The baselines' page: alt.js bundled with DuckDB-wasm and Arrow, DuckDB's wasm beside it.
function altDir() {
  const dir = path.join(DATA, 'www-alt');
  const duck = path.join(dir, 'duckdb');
  mkdirSync(duck, { recursive: true });
  copyFileSync(path.join(ROOT, 'bench/www/alt/index.html'), path.join(dir, 'index.html'));
  execFileSync(path.join(ROOT, 'node_modules/.bin/esbuild'), [path.join(ROOT, 'bench/www/alt/alt.js'), '--bundle',
    '--format=esm', `--outfile=${path.join(dir, 'alt.js')}`, '--log-level=warning']);
  const dist = path.join(ROOT, 'node_modules/@duckdb/duckdb-wasm/dist');
  for (const f of ['duckdb-eh.wasm', 'duckdb-mvp.wasm', 'duckdb-browser-eh.worker.js', 'duckdb-browser-mvp.worker.js']) {
    copyFileSync(path.join(dist, f), path.join(duck, f));
  }
  return dir;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function measure(kind, file, urls) {
  const browser = await launch(['--js-flags=--expose-gc']);
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript(pageProbes);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    if (kind === 'trailsift') {
      await page.goto(process.env.SHARDS ? `${urls.page}?shards=${process.env.SHARDS}` : urls.page);
      await page.waitForFunction(() => document.body.dataset.engine === 'ready');
    } else {
      await page.goto(`${urls.alt}?engine=${kind}`);
      await page.waitForFunction(() => window.__alt && (window.__alt.started || window.__alt.error), null, { timeout: 60_000 });
      const err = await page.evaluate(() => window.__alt.error);
      if (err) throw new Error(`${kind}: ${err}`);
    }
    await page.waitForTimeout(500);
    const baseRss = rendererRssMb();
    let peakRss = baseRss;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, rendererRssMb());
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const selector = kind === 'trailsift' ? '[data-testid=file-input]' : '#file';
    const cpu0 = rendererTicks();
    await page.setInputFiles(selector, file);
    let ready, firstRows, events, loadTiming;
    if (kind === 'trailsift') {
      await page.waitForFunction(() => window.__trailsift.seq > 0, null, { timeout: 600_000 });
      ({ ready, firstRows, events, loadTiming } = await page.evaluate(() => ({ ready: window.__trailsift.loadedMs, firstRows: window.__firstRowsMs, events: window.__trailsift.events, loadTiming: window.__trailsift.loadTiming })));
    } else {
      await page.waitForFunction(() => window.__alt.firstRowsMs !== undefined, null, { timeout: 600_000 });
      ({ ready, firstRows, events } = await page.evaluate(() => ({ ready: window.__alt.readyMs, firstRows: window.__alt.firstRowsMs, events: window.__alt.events })));
    }
    if (errors.length) throw new Error(`${kind}: ${errors.join('\n')}`);
    const loadCpu = rendererCpuS(cpu0);
    const longestLoad = await page.evaluate(() => window.__longest);
    await page.evaluate(() => { window.__longest = 0; });
    const cpu1 = rendererTicks();
    const filters = { broad: [], selective: [], method: [] };
    const counts = {};
    const queries = [['broad', BROAD], ['selective', SELECTIVE], ...(kind === 'trailsift' ? [['method', METHOD]] : [])];
    for (let i = 0; i < 3; i++) {
      for (const [name, q] of queries) {
        // Each re-filter starts from another view, as an analyst's would.
        const r = kind === 'trailsift' ? await page.evaluate(pageRefilter, q) : await page.evaluate((n) => window.__alt.run(n), name);
        filters[name].push(r.ms);
        counts[name] = r.count;
      }
    }
    const longestFilter = await page.evaluate(() => window.__longest);
    const filterCpu = rendererCpuS(cpu1) / (3 * queries.length);
    sampling = false;
    await sampler;
    return { ready, firstRows, events, loadTiming, loadCpu, filterCpu, broad: median(filters.broad), selective: median(filters.selective), method: median(filters.method), counts, longestLoad, longestFilter, peak: peakRss - baseRss };
  } finally {
    await browser.close();
  }
}

const NAMES = { trailsift: 'trailsift page', plain: 'plain JS (stream + `JSON.parse`, main thread)', duckdb: 'DuckDB-wasm over Arrow columns' };

// Builds of the page measured in turns (BENCH_PAGES), one column each.
async function comparePages(file, bytes) {
  // name=dir, or name=dir?query to open the page with a query (`?shards=1`).
  const pages = process.env.BENCH_PAGES.split(',').map((p) => p.split('='));
  const servers = [];
  for (const [, spec] of pages) {
    const [dir, query] = spec.split('?');
    const srv = await serve(path.resolve(dir));
    servers.push({ close: () => srv.close(), url: query ? `${srv.url}?${query}` : srv.url });
  }
  const runs = pages.map(() => []);
  const loads = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const [j, [name]] of pages.entries()) {
        const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
        const r = await measure('trailsift', file, { page: servers[j].url });
        runs[j].push(r);
        loads.push(load);
        console.error(`run ${i + 1} ${name} (load ${load}): ${JSON.stringify(r)}`);
      }
    }
  } finally {
    for (const s of servers) s.close();
  }
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const ms = (x) => `${Math.round(x)} ms`;
  const fileMb = bytes / 2 ** 20;
  // The median, then each run's figure in brackets.
  const row = (title, key, f) => `| ${title} | ${runs.map((rs) => `${f(median(rs.map((r) => r[key])))} (${rs.map((r) => f(r[key])).join(', ')})`).join(' | ')} |`;
  console.log(`${(bytes / 1e6).toFixed(0)} MB NDJSON, ${runs[0][0].events} events; medians of ${RUNS} loads of each build, in turns (each run's figure in brackets); load average at the start of each load: ${loads.join(', ')}\n`);
  console.log(`| | ${pages.map(([name]) => name).join(' | ')} |`);
  console.log(`|---|${pages.map(() => '---|').join('')}`);
  console.log(row('first rows on screen', 'firstRows', s));
  console.log(row('ready (all rows queryable)', 'ready', s));
  console.log(row(`broad re-filter \`${BROAD}\``, 'broad', ms));
  console.log(row(`selective re-filter \`${SELECTIVE}\``, 'selective', ms));
  console.log(row(`re-filter \`${METHOD}\``, 'method', ms));
  console.log(row('peak renderer memory above idle', 'peak', (x) => `+${Math.round(x)} MB (${(x / fileMb).toFixed(2)}×)`));
  console.log(row('longest main-thread task, load', 'longestLoad', ms));
  console.log(row('longest main-thread task, filters', 'longestFilter', ms));
  console.log(row('renderer CPU time, load', 'loadCpu', (x) => `${x.toFixed(2)} s`));
  console.log(row('renderer CPU time, one re-filter', 'filterCpu', (x) => `${Math.round(x * 1000)} ms`));
}

if (process.env.BENCH_PAGES) {
  for (const mb of sizes) {
    const file = ensureFile(mb);
    await comparePages(file, statSync(file).size);
  }
  process.exit(0);
}

for (const mb of sizes) {
  const file = ensureFile(mb);
  const bytes = statSync(file).size;
  const srv = await serve(process.env.BENCH_WWW || undefined);
  const alt = await serve(altDir());
  const results = {};
  try {
    for (const kind of ONLY) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await measure(kind, file, { page: srv.url, alt: alt.url }));
      const pick = (k) => median(runs.map((r) => r[k]));
      results[kind] = { ...runs[0], ...Object.fromEntries(['ready', 'firstRows', 'broad', 'selective', 'longestLoad', 'longestFilter', 'peak', 'loadCpu', 'filterCpu'].map((k) => [k, pick(k)])) };
      console.error(`${kind}: ${JSON.stringify(results[kind])}`);
    }
  } finally {
    srv.close();
    alt.close();
  }
  const kinds = ONLY.filter((k) => results[k]);
  const row = (label, f) => `| ${label} | ${kinds.map((k) => f(results[k])).join(' | ')} |`;
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const ms = (x) => `${Math.round(x)} ms`;
  const fileMb = bytes / 2 ** 20;
  console.log(`${(bytes / 1e6).toFixed(0)} MB NDJSON, ${results[kinds[0]].events} events, medians of ${RUNS} loads; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}:\n`);
  console.log(`| | ${kinds.map((k) => NAMES[k]).join(' | ')} |`);
  console.log(`|---|${kinds.map(() => '---|').join('')}`);
  console.log(row('ready (all rows queryable)', (r) => s(r.ready)));
  console.log(row('first rows on screen', (r) => s(r.firstRows)));
  console.log(row(`broad re-filter \`${BROAD}\` with count, newest rows, facets, histogram`, (r) => `${ms(r.broad)} (${r.counts.broad} events)`));
  console.log(row(`selective re-filter \`${SELECTIVE}\`, same view`, (r) => `${ms(r.selective)} (${r.counts.selective} events)`));
  console.log(row('longest main-thread task: load / filters', (r) => `${ms(r.longestLoad)} / ${ms(r.longestFilter)}`));
  console.log(row('renderer CPU time: load / one re-filter', (r) => `${r.loadCpu.toFixed(2)} s / ${Math.round(r.filterCpu * 1000)} ms`));
  console.log(row('peak renderer memory above idle', (r) => `+${Math.round(r.peak)} MB (${(r.peak / fileMb).toFixed(2)}× the file)`));
}
