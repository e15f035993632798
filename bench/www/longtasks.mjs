// What the page's long main-thread tasks are made of: loads a file into the page in
// headless Chromium with a DevTools timeline trace running, then lists each main-thread
// task over 50 ms with the time its parts took (script by function, style, layout, paint).
//
//   node bench/www/longtasks.mjs FILE [dir]      (default dir: www)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { serve, launch } from '../../tests/e2e/helpers.mjs';

const [file, dir = 'www'] = process.argv.slice(2);
const srv = await serve(path.resolve(dir));
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(srv.url);
  await page.waitForFunction(() => document.body.dataset.engine === 'ready');
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
  await page.setInputFiles('[data-testid=file-input]', file);
  await page.waitForFunction(() => window.__trailsift.seq > 0, null, { timeout: 600_000 });
  const trace = JSON.parse((await browser.stopTracing()).toString());
  const events = trace.traceEvents;
  // The renderer's main thread: where the page's own tasks (ParseHTML, EventDispatch) ran.
  const main = events.find((e) => e.name === 'thread_name' && e.args.name === 'CrRendererMain');
  const mine = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X');
  const tasks = mine.filter((e) => e.name === 'RunTask' && e.dur > 50_000).sort((a, b) => b.dur - a.dur);
  console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}; ${tasks.length} main-thread tasks over 50 ms`);
  for (const t of tasks.slice(0, 8)) {
    const inside = mine.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur);
    const parts = new Map();
    for (const e of inside) {
      if (e.name === 'RunTask') continue;
      const d = e.args?.data || {};
      const where = d.url ? ` ${d.functionName || '(anonymous)'} ${d.url.split('/').pop()}:${d.lineNumber}` : '';
      const key = `${e.name}${where || (d.type ? ` ${d.type}` : '')}`;
      parts.set(key, (parts.get(key) || 0) + e.dur);
    }
    const top = [...parts].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, d]) => `${k} ${(d / 1000).toFixed(0)} ms`);
    console.log(`- ${(t.dur / 1000).toFixed(0)} ms: ${top.join('; ')}`);
  }
} finally {
  await browser.close();
  srv.close();
}
