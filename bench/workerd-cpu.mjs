// CPU time and memory of a `wrangler dev` under test, for the Worker benchmarks and the soak.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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

/** The ports the runtime workerd of the group listens on (its entry socket, inspector and
 * debug port; wrangler gives it port 0, so they are found from /proc). */
function runtimePorts(pgid) {
  const runtime = workerds(pgid).find(({ pid }) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--socket-addr=entry=127.0.0.1:0'); } catch { return false; }
  });
  if (!runtime) return [];
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${runtime.pid}/fd`)) {
    let link;
    try { link = readlinkSync(`/proc/${runtime.pid}/fd/${fd}`); } catch { continue; }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]);
  }
  const ports = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try { text = readFileSync(table, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address (hex ip:port), state 0A = LISTEN, inode in the tenth column.
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

/** The URL of the runtime workerd's own entry socket, past wrangler dev's proxy: the one
 * of its ports that answers `GET /v1/health` like the Worker. */
export async function runtimeUrl(pgid) {
  for (const port of runtimePorts(pgid)) {
    const url = `http://127.0.0.1:${port}`;
    try {
      const r = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(5000) });
      if (r.status === 200 && typeof (await r.json()).version === 'string') return url;
    } catch { /* the inspector or the debug port */ }
  }
  throw new Error('the runtime workerd has no port that answers /v1/health');
}
