// Where a page load's CPU goes, thread by thread: loads a file into builds of the page in
// headless Chromium and reads, from /proc, the CPU time each thread of the renderer
// processes used from choosing the file to "ready" (the page's main thread, its engine
// worker, its shard workers, V8's GC and compiler threads, ...). A worker's thread is
// named DedicatedWorker and the renderer's main thread chromium by Chromium. With PROF=dir, V8's
// sampling profiler also runs (--prof): one log per isolate in dir, for
// `node --prof-process`.
//
//   node bench/www/profile.mjs FILE name=dir[?query] ...    (e.g. before=../wt-before/www after=www)
//
// Builds are loaded in turns, RUNS times each (default 1).

import { readFileSync, readdirSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { serve, launch } from '../../tests/e2e/helpers.mjs';

const [file, ...specs] = process.argv.slice(2);
const RUNS = Number(process.env.RUNS || 1);

// CPU ticks of every thread of the renderer processes: `pid/tid name` → ticks.
function threadTicks() {
  const ticks = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
        ticks.set(`${pid}/${tid} ${name}`, Number(fields[11]) + Number(fields[12]));
      }
    } catch { /* the process or thread ended */ }
  }
  return ticks;
}

async function profile(url) {
  const extra = ['--js-flags=--expose-gc'];
  if (process.env.PROF) {
    mkdirSync(process.env.PROF, { recursive: true });
    // V8 writes its logs into the browser's working directory.
    process.chdir(process.env.PROF);
    extra[0] = '--js-flags=--expose-gc --prof';
  }
  const browser = await launch(extra);
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.engine === 'ready');
    await page.waitForTimeout(500);
    const before = threadTicks();
    const t0 = Date.now();
    await page.setInputFiles('[data-testid=file-input]', file);
    await page.waitForFunction(() => window.__trailsift.seq > 0, null, { timeout: 600_000 });
    const wall = (Date.now() - t0) / 1000;
    const after = threadTicks();
    // Threads of one kind added up (V8's GC and compiler helpers, ...), but each worker
    // thread on its own, in the order they started (the page's engine worker first,
    // then its shard workers).
    const byKind = new Map();
    let total = 0;
    let workers = 0;
    const order = (key) => Number(key.split(' ')[0].split('/')[1]);
    for (const [key, t] of [...after].sort((a, b) => order(a[0]) - order(b[0]))) {
      const used = (t - (before.get(key) || 0)) / 100;
      if (used <= 0) continue;
      let kind = key.slice(key.indexOf(' ') + 1);
      if (kind === 'DedicatedWorker') kind = `worker ${++workers}`;
      else if (kind === 'chromium') kind = 'main thread';
      const k = byKind.get(kind) || { s: 0, threads: 0 };
      k.s += used;
      k.threads++;
      byKind.set(kind, k);
      total += used;
    }
    const timing = await page.evaluate(() => window.__trailsift.loadTiming || null);
    return { wall, total, byKind, timing };
  } finally {
    await browser.close();
  }
}

const pages = specs.map((s) => s.split('='));
const servers = [];
for (const [, spec] of pages) {
  const [dir, query] = spec.split('?');
  const srv = await serve(path.resolve(dir));
  servers.push({ srv, url: query ? `${srv.url}?${query}` : srv.url });
}
try {
  for (let i = 0; i < RUNS; i++) {
    for (const [j, [name]] of pages.entries()) {
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      const r = await profile(servers[j].url);
      console.log(`\n${name}, run ${i + 1} (load average ${load}): ready after ${r.wall.toFixed(2)} s, renderer CPU ${r.total.toFixed(2)} s${r.timing ? `; engine worker: ${JSON.stringify(r.timing)}` : ''}`);
      console.log('| thread (count) | CPU s |\n|---|---|');
      for (const [kind, k] of [...r.byKind].sort((a, b) => b[1].s - a[1].s)) {
        if (k.s >= 0.05) console.log(`| ${kind} (${k.threads}) | ${k.s.toFixed(2)} |`);
      }
    }
  }
} finally {
  for (const { srv } of servers) srv.close();
}
