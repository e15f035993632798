// What the page benchmarks read from outside the page (Chromium's renderer processes in
// /proc) and run inside it (probes, a re-filter): bench/www/bench.mjs and bench/table.mjs.
import { readFileSync, readdirSync } from 'node:fs';

// Resident memory of Chromium's renderer processes (pages, workers, wasm memory).
export function rendererRssMb() {
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

// CPU ticks used so far by each of Chromium's renderer processes (the page and its
// workers), by pid: what a load or a filter costs whatever else runs on the machine.
export function rendererTicks() {
  const ticks = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch { /* the process ended */ }
  }
  return ticks;
}

// CPU seconds the renderers used since `before` (a rendererTicks()): a process that
// started since counts whole, one that ended since is not counted (its last ticks are
// lost), so the figure can only be low, never negative.
export function rendererCpuS(before) {
  let ticks = 0;
  for (const [pid, t] of rendererTicks()) ticks += t - (before.get(pid) || 0);
  return ticks / 100;
}

// Longest main-thread task (resettable), and when the first table row was filled.
export function pageProbes() {
  window.__longest = 0;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longest = Math.max(window.__longest, e.duration); })
    .observe({ type: 'longtask', buffered: true });
  document.addEventListener('change', (e) => {
    if (e.target.type !== 'file') return;
    window.__t0 = performance.now();
    const seen = () => document.querySelector('#spacer .tr[data-filled="1"]');
    new MutationObserver((_, obs) => {
      if (seen()) { window.__firstRowsMs = performance.now() - window.__t0; obs.disconnect(); }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-filled'] });
  }, true);
}

// In the page: Enter in the query bar → the count and the first row of the new view shown.
export async function pageRefilter(q) {
  const input = document.querySelector('[data-testid=query-input]');
  const before = window.__trailsift.runs;
  input.value = q;
  const t0 = performance.now();
  const done = new Promise((resolve) => {
    const check = () => {
      if (window.__trailsift.runs <= before) return false;
      const count = Number(document.getElementById('result-count').dataset.count);
      if (count > 0 && !document.querySelector('#spacer .tr[data-filled="1"]')) return false;
      resolve({ ms: performance.now() - t0, count });
      return true;
    };
    const obs = new MutationObserver(() => { if (check()) obs.disconnect(); });
    obs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    const poll = () => { if (!check()) requestAnimationFrame(poll); else obs.disconnect(); };
    requestAnimationFrame(poll);
  });
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  return done;
}
