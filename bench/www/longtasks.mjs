// What the page's long main-thread tasks are made of: loads a file into the page in
// headless Chromium with a DevTools timeline trace running, then re-filters it (`-is:login`,
// `action:FORCE_PUSH`, twice), and lists each main-thread task over 50 ms, by phase, with
// its wall and CPU time (the trace's thread time: on a loaded machine the wall time is
// mostly waiting for a core) and the parts it is made of (script by function, style,
// layout with the number of objects laid out, paint).
//
//   node bench/www/longtasks.mjs FILE [dir ...]      (default dir: www; several: in turns)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serve, launch } from '../../tests/e2e/helpers.mjs';

const [file, ...dirs] = process.argv.slice(2);
if (!dirs.length) dirs.push('www');
const LONG = 50_000; // µs

async function trace(dir) {
  const srv = await serve(path.resolve(dir));
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(srv.url);
    await page.waitForFunction(() => document.body.dataset.engine === 'ready');
    await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
    await page.setInputFiles('[data-testid=file-input]', file);
    await page.waitForFunction(() => window.__trailsift.seq > 0, null, { timeout: 600_000 });
    // A TimeStamp event in the trace marks where the re-filters start.
    await page.evaluate(() => console.timeStamp('trailsift-filters'));
    for (const q of ['-is:login', 'action:FORCE_PUSH', '-is:login', 'action:FORCE_PUSH']) {
      await page.evaluate(async (query) => {
        const runs = window.__trailsift.runs;
        const input = document.querySelector('[data-testid=query-input]');
        input.value = query;
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
        while (window.__trailsift.runs === runs) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 300)); // the rows' frames
      }, q);
    }
    return JSON.parse((await browser.stopTracing()).toString()).traceEvents;
  } finally {
    await browser.close();
    srv.close();
  }
}

for (const dir of dirs) {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  const events = await trace(dir);
  // The renderer's main thread: where the page's own tasks (ParseHTML, EventDispatch) ran.
  const main = events.find((e) => e.name === 'thread_name' && e.args.name === 'CrRendererMain');
  const mine = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X').sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const tasks = mine.filter((e) => e.name === 'RunTask');
  const mark = events.find((e) => e.name === 'TimeStamp' && e.args?.data?.message === 'trailsift-filters');
  const phaseOf = (t) => (mark && t.ts >= mark.ts ? 'filters' : 'load');
  const long = tasks.filter((t) => t.dur > LONG);
  const cpu = (t) => (t.tdur !== undefined ? `${(t.tdur / 1000).toFixed(0)} ms CPU` : '');
  console.log(`${dir}: load average ${load}; ${long.length} main-thread tasks over 50 ms; the longest ${long.length ? (Math.max(...long.map((t) => t.dur)) / 1000).toFixed(0) : 0} ms`);
  // The same by CPU time, which the machine's load does not inflate.
  for (const phase of ['load', 'filters']) {
    const ts = tasks.filter((t) => phaseOf(t) === phase && t.tdur !== undefined);
    const most = ts.reduce((m, t) => Math.max(m, t.tdur), 0);
    const over = ts.filter((t) => t.tdur > LONG).length;
    const sum = ts.reduce((a, t) => a + t.tdur, 0);
    const wall = long.filter((t) => phaseOf(t) === phase).length;
    console.log(`  ${phase}: ${wall} tasks over 50 ms of wall time, ${over} over 50 ms of CPU; the most CPU in one task ${(most / 1000).toFixed(0)} ms; main-thread CPU in tasks ${(sum / 1000).toFixed(0)} ms`);
  }
  const busiest = [...long].sort((a, b) => b.dur - a.dur).slice(0, 10).sort((a, b) => a.ts - b.ts);
  for (const t of busiest) {
    const inside = mine.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur);
    const parts = new Map();
    for (const e of inside) {
      if (e.name === 'RunTask') continue;
      const d = e.args?.data || {};
      const where = d.url ? ` ${d.functionName || '(anonymous)'} ${d.url.split('/').pop()}:${d.lineNumber}` : '';
      const key = `${e.name}${where || (d.type ? ` ${d.type}` : '')}`;
      const p = parts.get(key) || { dur: 0, cpu: 0, objects: 0 };
      p.dur += e.dur;
      p.cpu += e.tdur || 0;
      if (e.name === 'Layout' && e.args?.beginData) p.objects += e.args.beginData.dirtyObjects || 0;
      parts.set(key, p);
    }
    const top = [...parts].sort((a, b) => b[1].dur - a[1].dur).slice(0, 9)
      .map(([k, p]) => `${k} ${(p.dur / 1000).toFixed(0)}/${(p.cpu / 1000).toFixed(0)} ms${p.objects ? ` (${p.objects} objects)` : ''}`);
    console.log(`- ${phaseOf(t)}: ${(t.dur / 1000).toFixed(0)} ms (${cpu(t)}); parts, wall/CPU: ${top.join('; ')}`);
  }
}
