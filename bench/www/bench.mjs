// Benchmark of the web page in headless Chromium: time to load an NDJSON file and show the
// first results, time to re-run a filter, the longest main-thread task, peak JS heap of the
// page, and peak renderer memory (RSS: the page, the engine worker and its wasm memory).
//
//   node bench/www/bench.mjs [sizeMB ...]     (default: 50 200)
//
// Needs target/native/trailsift (make cli) and the page (make www). Files are generated
// once into bench/data/ (gitignored).

import { existsSync, statSync, openSync, writeSync, closeSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, serve, launch, cli } from '../../tests/e2e/helpers.mjs';

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
if (!sizes.length) sizes.push(50, 200);
const DATA = path.join(ROOT, 'bench/data');
mkdirSync(DATA, { recursive: true });

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

// Resident memory of Chromium's renderer processes (the page, its worker and wasm memory).
function rendererRssMb() {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer')) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) / 1024;
    } catch { /* the process ended */ }
  }
  return total;
}

async function heapOf(target) {
  try {
    return await target.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : null));
  } catch {
    return null;
  }
}

async function run(mb) {
  const file = ensureFile(mb);
  const bytes = statSync(file).size;
  const srv = await serve();
  const browser = await launch(['--js-flags=--expose-gc']);
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript(() => {
      window.__longest = 0;
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longest = Math.max(window.__longest, e.duration); })
        .observe({ type: 'longtask', buffered: true });
    });
    await page.goto(srv.url);
    await page.waitForFunction(() => document.body.dataset.engine === 'ready');
    let peakRss = 0, peakPageHeap = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, rendererRssMb());
        peakPageHeap = Math.max(peakPageHeap, (await heapOf(page)) || 0);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const baseRss = rendererRssMb();
    await page.setInputFiles('[data-testid=file-input]', file);
    await page.waitForFunction(() => window.__trailsift.seq > 0, null, { timeout: 600_000 });
    const loadMs = await page.evaluate(() => window.__trailsift.loadedMs);
    const events = await page.evaluate(() => window.__trailsift.events);
    const longestLoad = await page.evaluate(() => window.__longest);
    const held = await page.evaluate(() => window.__trailsift.memory());
    const heldRss = rendererRssMb();
    const reruns = [];
    for (const q of ['action:CREATE,UPDATE -is:system', 'resource.type == "SECRET" or module:CD', 'user:*@example.com']) {
      const before = await page.evaluate(() => window.__trailsift.runs);
      await page.getByTestId('query-input').fill(q);
      await page.getByTestId('query-input').press('Enter');
      await page.waitForFunction((b) => window.__trailsift.runs > b, before, { timeout: 600_000 });
      reruns.push(await page.evaluate(() => window.__trailsift.lastRunMs));
    }
    const longest = await page.evaluate(() => window.__longest);
    sampling = false;
    await sampler;
    return {
      mb: (bytes / 1e6).toFixed(0), events, held, heldRss, loadMs, rerunMs: reruns, longestLoad, longest,
      peakRssMb: peakRss, baseRssMb: baseRss, peakPageHeapMb: peakPageHeap / 2 ** 20, fileMb: bytes / 2 ** 20,
    };
  } finally {
    await browser.close();
    srv.close();
  }
}

console.log('| file | events | load + first results | re-run filter (3 queries) | longest main-thread task | peak JS heap of the page | engine holds after load (events + wasm memory) | renderer RSS after load, after GC (over idle) | peak renderer RSS (over idle) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const mb of sizes) {
  const r = await run(mb);
  const f = (x) => `${Math.round(x)}`;
  console.log(`| ${r.mb} MB NDJSON | ${r.events} | ${(r.loadMs / 1000).toFixed(2)} s | ${r.rerunMs.map((x) => `${f(x)} ms`).join(', ')} | ${f(r.longest)} ms | ${f(r.peakPageHeapMb)} MB | ${f(r.held.storeBytes / 2 ** 20)} MB + ${f(r.held.wasmBytes / 2 ** 20)} MB (${((r.held.storeBytes + r.held.wasmBytes) / 2 ** 20 / r.fileMb).toFixed(2)}× the file) | ${f(r.heldRss - r.baseRssMb)} MB (${((r.heldRss - r.baseRssMb) / r.fileMb).toFixed(2)}×) | ${f(r.peakRssMb)} MB (${f(r.peakRssMb - r.baseRssMb)} MB, ${((r.peakRssMb - r.baseRssMb) / r.fileMb).toFixed(2)}× the file) |`);
}
