// The runtime's memory with a Worker that does nothing (bench/workerd-baseline/: no wasm, no
// storage), under the same `wrangler dev` as trailsift's soak: BASELINE_ROUNDS rounds of
// BASELINE_REQUESTS requests (default 3 × 20,000, ten at a time) to the runtime's own entry
// socket, and its anonymous memory after each. Tells what of the soak's runtime memory is
// workerd's own per-request memory rather than the Worker's (RELIABILITY.md, Soak).
//   node bench/workerd-baseline.mjs
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupRss, runtimeUrl } from './workerd-cpu.mjs';

const ROUNDS = Number(process.env.BASELINE_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BASELINE_REQUESTS ?? 20_000);
const here = dirname(fileURLToPath(import.meta.url));
const child = spawn(join(here, '../node_modules/.bin/wrangler'),
  ['dev', '--ip', '127.0.0.1', '--port', '0', '--config', join(here, 'workerd-baseline/wrangler.toml')],
  { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' } });
let log = '';
child.stdout.on('data', (d) => { log += d; });
child.stderr.on('data', (d) => { log += d; });
try {
  let url;
  for (let i = 0; i < 600 && !url; i++) {
    await new Promise((r) => setTimeout(r, 500));
    try { url = await runtimeUrl(child.pid); } catch { /* not up yet */ }
  }
  if (!url) throw new Error(`wrangler dev did not come up:\n${log.slice(-3000)}`);
  const mb = () => groupRss(child.pid).runtimeAnon / 1024;
  console.log(`baseline Worker: runtime anonymous memory ${mb().toFixed(1)} MB at the start`);
  for (let round = 1; round <= ROUNDS; round++) {
    const before = mb();
    const t = performance.now();
    for (let i = 0; i < REQUESTS; i += 10) {
      await Promise.all(Array.from({ length: 10 }, () => fetch(`${url}/`).then((r) => r.arrayBuffer())));
    }
    console.log(`round ${round}: ${REQUESTS} requests in ${((performance.now() - t) / 1000).toFixed(1)} s, runtime anonymous memory ${
      before.toFixed(1)} -> ${mb().toFixed(1)} MB`);
  }
} finally {
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
}
