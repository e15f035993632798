// Starts the built Worker in `wrangler dev` on a free loopback port with a temporary state
// directory and two test accounts, and stops it again. Used by the edge HTTP tests.
import { spawn, spawnSync } from 'node:child_process';
import { before, after } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The npm package's verifier (`trailsift/verify`, its own .wasm), built when missing. */
export async function packageVerifier() {
  const entry = join(ROOT, 'pkg', 'verify-node.mjs');
  if (!existsSync(entry)) {
    const built = spawnSync(join(ROOT, 'scripts', 'build-pkg.sh'), [], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('scripts/build-pkg.sh failed');
  }
  return import(pathToFileURL(entry).href);
}
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');

// Worker processes still running; stopped if the test process exits early.
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sha256 = (s) => createHash('sha256').update(s).digest('hex');
export const newToken = () => 'ts_' + randomBytes(24).toString('hex');

/** Tokens of the two test accounts, with different scopes. */
export function makeTokens() {
  const t = {
    aAll: newToken(),      // acct_a: ingest, read, admin (owner alice)
    aRead: newToken(),     // acct_a: read (owner bob)
    aIngest: newToken(),   // acct_a: ingest only (owner carol)
    aRead2: newToken(),    // acct_a: read (owner dave)
    bAll: newToken(),      // acct_b: ingest, read, admin (owner erin)
  };
  const config = [
    { sha256: sha256(t.aAll), account: 'acct_a', scopes: ['ingest', 'read', 'admin'], owner: 'alice' },
    { sha256: sha256(t.aRead), account: 'acct_a', scopes: ['read'], owner: 'bob' },
    { sha256: sha256(t.aIngest), account: 'acct_a', scopes: ['ingest'], owner: 'carol' },
    { sha256: sha256(t.aRead2), account: 'acct_a', scopes: ['read'], owner: 'dave' },
    { sha256: sha256(t.bAll), account: 'acct_b', scopes: ['ingest', 'read', 'admin'], owner: 'erin' },
  ];
  return { tokens: t, config: JSON.stringify(config) };
}

/** A fresh CREDENTIALS_KEY (base64 of 32 random bytes). */
export const newCredentialsKey = () => randomBytes(32).toString('base64');

/** A fresh LOG_SIGNING_KEY (the base64 Ed25519 seed of 32 random bytes). */
export const newLogSigningKey = () => randomBytes(32).toString('base64');

/**
 * Starts `wrangler dev`. Returns {url, port, stop(), kill(), persist}. `persist` reuses a
 * state directory (for restart tests; pass the same `credentialsKey` too); otherwise a fresh
 * temporary one is made and removed by `cleanup()`. `port` reuses an address (for clients
 * that reconnect across a restart). Destinations may use plain http (the receivers are on
 * loopback) and their credentials are sealed with `credentialsKey`; the log's checkpoints
 * are signed with `logSigningKey` (pass the same one on a restart). `wranglerConfig` runs
 * another build than the repository's (a wrangler.toml of its own; benchmarks).
 */
export async function startWorker({ tokensConfig, persist, vars = {}, credentialsKey = newCredentialsKey(),
  logSigningKey = newLogSigningKey(), port: fixedPort, wranglerConfig } = {}) {
  const port = fixedPort ?? await freePort();
  const dir = persist ?? mkdtempSync(join(tmpdir(), 'trailsift-edge-'));
  const inspectorPort = await freePort();
  const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', dir,
    '--var', `TRAILSIFT_TOKENS:${tokensConfig}`, '--inspector-port', String(inspectorPort)];
  if (wranglerConfig) args.push('--config', wranglerConfig);
  const all = { ALLOW_HTTP_DESTINATIONS: 'true', CREDENTIALS_KEY: credentialsKey, LOG_SIGNING_KEY: logSigningKey, ...vars };
  for (const [k, v] of Object.entries(all)) args.push('--var', `${k}:${v}`);
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' },
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 600_000;
  let exited = false;
  child.on('exit', () => { exited = true; });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`wrangler dev exited:\n${log.slice(-4000)}`);
    try {
      const r = await fetch(`${url}/v1/health`);
      if (r.status === 200) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (Date.now() >= deadline) {
    stopChild(child);
    throw new Error(`wrangler dev did not come up:\n${log.slice(-4000)}`);
  }
  return {
    url,
    port,
    dir,
    /** The process group of wrangler and its workerd (for CPU and memory figures). */
    pgid: child.pid,
    /** The Worker's DevTools inspector (wrangler's proxy of it; see bench/inspector.mjs). */
    inspectorPort,
    log: () => log,
    async stop() {
      await stopChild(child);
    },
    /** Kills wrangler and workerd at once (SIGKILL), as a crash would. */
    async kill() {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      await gone;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Worker of one test file: the test tokens ([`makeTokens`]), and wrangler dev started
 * before the file's tests with `options` (startWorker's, but `tokensConfig`) and stopped
 * after them. Answers `{tokens, worker, url}`; `worker` and `url` are set once it is up.
 */
export function workerPerFile(options = {}) {
  const { tokens, config } = makeTokens();
  const w = { tokens, worker: null, url: '' };
  before(async () => {
    w.worker = await startWorker({ tokensConfig: config, ...options });
    w.url = w.worker.url;
  }, { timeout: 600_000 });
  after(async () => {
    if (w.worker) {
      await w.worker.stop();
      w.worker.cleanup();
    }
  });
  return w;
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000).unref();
  });
}

/** A valid audit event for an account. */
export function event(account, i, over = {}) {
  const actions = ['CREATE', 'UPDATE', 'DELETE', 'LOGIN'];
  const types = ['SECRET', 'CONNECTOR', 'PIPELINE'];
  return {
    auditEventId: `${account}-ev-${i}`,
    auditEventAuthor: { principal: { type: i % 5 === 0 ? 'SYSTEM' : 'USER', identifier: `user${i % 3}`, email: `user${i % 3}@example.com` } },
    auditModule: i % 2 ? 'CORE' : 'CD',
    auditResource: { type: types[i % 3], identifier: `res-${i}` },
    auditResourceScope: { accountIdentifier: account, orgIdentifier: 'default', projectIdentifier: 'payments' },
    auditAction: actions[i % 4],
    auditEventTime: String(Date.now() - i * 60_000),
    auditHttpRequestInfo: { requestMethod: 'POST', clientIP: `10.0.${i % 256}.7` },
    auditEventMetadata: { batchId: `b${i}` },
    ...over,
  };
}

/** fetch with a bearer token; returns {status, headers, text, json}. */
export async function call(url, token, { method = 'GET', body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  const r = await fetch(url, { method, body, headers: h });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, headers: r.headers, text, json };
}

/** Ingests `events` as NDJSON into the Worker at `url`; answers the call, and throws unless 200. */
export async function ingest(url, token, events) {
  const r = await call(`${url}/v1/events`, token, {
    method: 'POST', body: events.map((e) => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' },
  });
  if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${r.text}`);
  return r;
}
