// CPU time and memory of a `wrangler dev` under test, for the Worker benchmarks and the soak.
import { readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // clock ticks per second of /proc/<pid>/stat

/** The workerd processes in the group, each as {pid, fields}: the fields of /proc/<pid>/stat
 * after the command (state(0) ppid(1) pgrp(2) ... utime(11) stime(12)). */
function workerds(pgid) {
  const found = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat;
    try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && name.startsWith('workerd')) found.push({ pid, fields });
  }
  return found;
}

/** user + system CPU seconds of the workerd processes in the group (the Worker and its
 * Durable Objects; wrangler's own Node process, a local proxy, is left out). */
export function groupCpu(pgid) {
  const ticks = workerds(pgid).reduce((t, { fields: f }) => t + Number(f[11]) + Number(f[12]), 0);
  return ticks / TICK;
}

/** RSS (kB) of the workerd processes in the group: {runtime, proxy}. The proxy listens on
 * the address given to wrangler; the runtime on a port of its own. `runtimeAnon` and
 * `runtimeFile` split the runtime's RSS into anonymous memory (heaps, wasm memories) and
 * mapped files (SQLite databases mapped into memory). */
export function groupRss(pgid) {
  const kb = { runtime: 0, proxy: 0, runtimeAnon: 0, runtimeFile: 0 };
  for (const { pid } of workerds(pgid)) {
    let status;
    let cmd;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch { continue; }
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const runtime = cmd.includes('--socket-addr=entry=127.0.0.1:0');
    kb[runtime ? 'runtime' : 'proxy'] += rss;
    if (runtime) {
      kb.runtimeAnon += Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0);
      kb.runtimeFile += Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0) + Number(/RssShmem:\s+(\d+)/.exec(status)?.[1] ?? 0);
    }
  }
  return kb;
}
