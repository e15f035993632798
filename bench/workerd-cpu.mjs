// CPU time of a `wrangler dev` under test, for the Worker benchmarks.
import { readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // clock ticks per second of /proc/<pid>/stat

/** user + system CPU seconds of the workerd processes in the group (the Worker and its
 * Durable Objects; wrangler's own Node process, a local proxy, is left out). */
export function groupCpu(pgid) {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat;
    try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state(0) ppid(1) pgrp(2) ... utime(11) stime(12).
    if (Number(f[2]) === pgid && name.startsWith('workerd')) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICK;
}
