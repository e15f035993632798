// Receivers for the destination tests, all on loopback: protocol-checking Splunk HEC, Sumo
// Logic and webhook servers (they check method, path, headers, token, body format and size
// as the real ones do, and can be told to fail), the S3-compatible s3s-fs (it checks SigV4)
// read back with boto3, and gcp-storage-emulator behind a proxy that accepts only OAuth
// tokens issued by a token endpoint that verifies the RS256 JWT.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHmac, createVerify, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { freePort, ROOT } from './harness.mjs';

/** Sumo's and (older) Splunk HEC's largest request body. */
export const MAX_BODY = 1_000_000;

const readBody = (req) => new Promise((resolve, reject) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => resolve(Buffer.concat(chunks)));
  req.on('error', reject);
});

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

/**
 * A receiver with a failure plan. `plan` holds what the next requests get, one entry each:
 * `{status, retryAfter, body}`, `'hang'` (no answer; the socket stays open), `'hold'` (taken
 * in like a success, but never answered), `'drop'` (the connection is destroyed) or `'ok'`;
 * `always` (same shapes) applies when the plan is empty. Every request is recorded.
 */
function failingServer(handle) {
  const state = { plan: [], always: null, requests: [], hung: [] };
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const action = state.plan.length ? state.plan.shift() : state.always;
    const record = { method: req.method, url: req.url, headers: req.headers, raw, action, at: Date.now() };
    state.requests.push(record);
    if (action === 'hang') { state.hung.push(res); return; }
    if (action === 'hold') { handle(req, raw, record); state.hung.push(res); return; }
    if (action === 'drop') { req.socket.destroy(); return; }
    if (action && action !== 'ok') {
      const headers = { 'content-type': 'application/json' };
      if (action.retryAfter !== undefined) headers['retry-after'] = String(action.retryAfter);
      res.writeHead(action.status, headers);
      res.end(action.body ?? JSON.stringify({ text: 'planned failure', code: 9 }));
      return;
    }
    const [status, body, headers] = handle(req, raw, record);
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/json', ...(headers ?? {}) });
    res.end(body);
  });
  return { server, state };
}

async function started(kind, server, state, extra) {
  const port = await listen(server);
  const receiver = {
    kind,
    port,
    base: `http://127.0.0.1:${port}`,
    get requests() { return state.requests; },
    /** Requests left without an answer ('hang', 'hold'). */
    get hung() { return state.hung; },
    /** Failures for the next requests, in order. */
    plan(...actions) { state.plan.push(...actions); },
    /** What every request gets while the plan is empty (`null`: the normal answer). */
    always(action) { state.always = action; },
    close() {
      for (const res of state.hung) { try { res.socket?.destroy(); } catch { /* gone */ } }
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
  // Copied as descriptors, so that getters stay live.
  return Object.defineProperties(receiver, Object.getOwnPropertyDescriptors(extra));
}

/** Decodes a request body as the receiver would: gunzip when marked, then UTF-8. */
function decoded(req, raw) {
  const enc = (req.headers['content-encoding'] ?? '').toLowerCase();
  if (enc === 'gzip') return gunzipSync(raw);
  if (enc && enc !== 'identity') throw new Error(`unsupported content-encoding ${enc}`);
  return raw;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Splunk HTTP Event Collector at `/services/collector/event`: `Authorization: Splunk
 * <token>`, a GUID `X-Splunk-Request-Channel`, concatenated JSON envelopes each with
 * `event` and a numeric `time`, bodies of at most 1,000,000 bytes; answers as HEC does.
 */
export async function startHec({ token }) {
  const batches = [];
  const { server, state } = failingServer((req, raw) => {
    const reply = (status, text, code, extra = {}) => [status, JSON.stringify({ text, code, ...extra })];
    if (req.method !== 'POST') return reply(405, 'Method not allowed', 404);
    if (req.url.split('?')[0] !== '/services/collector/event') return reply(404, 'The requested URL was not found on this server.', 404);
    const auth = req.headers.authorization ?? '';
    if (!auth) return reply(401, 'Token is required', 2);
    if (!auth.startsWith('Splunk ')) return reply(401, 'Invalid authorization', 3);
    if (auth.slice(7) !== token) return reply(403, 'Invalid token', 4);
    const channel = req.headers['x-splunk-request-channel'];
    if (!channel || !GUID.test(channel)) return reply(400, 'Data channel is missing', 10);
    if (raw.length > MAX_BODY) return reply(413, 'Content too large', 27);
    let body;
    try { body = decoded(req, raw); } catch { return reply(400, 'Invalid data format', 6); }
    if (body.length > MAX_BODY) return reply(413, 'Content too large', 27);
    const text = body.toString('utf8');
    if (!text.trim()) return reply(400, 'No data', 5);
    const envelopes = [];
    for (const [n, line] of text.split('\n').filter((l) => l.trim()).entries()) {
      let env;
      try { env = JSON.parse(line); } catch { return reply(400, 'Invalid data format', 6, { 'invalid-event-number': n }); }
      if (env.event === undefined || env.event === null || env.event === '') return reply(400, 'Event field is required', 12, { 'invalid-event-number': n });
      if (env.time !== undefined && typeof env.time !== 'number') return reply(400, 'Invalid data format', 6, { 'invalid-event-number': n });
      envelopes.push(env);
    }
    batches.push({ channel, envelopes, bytes: raw.length });
    return reply(200, 'Success', 0);
  });
  return started('splunk_hec', server, state, {
    batches,
    get events() { return batches.flatMap((b) => b.envelopes.map((e) => e.event)); },
  });
}

/**
 * A Sumo Logic HTTP source at `/receiver/v1/http/<token>`: bodies of at most 1,000,000
 * bytes of Sumo lines; the `X-Sumo-*` headers are recorded per request.
 */
export async function startSumo() {
  const token = randomBytes(24).toString('base64url');
  const path = `/receiver/v1/http/${token}`;
  const batches = [];
  const { server, state } = failingServer((req, raw) => {
    if (req.method !== 'POST') return [405, '{}'];
    if (req.url !== path) return [401, JSON.stringify({ message: 'invalid collector URL' })];
    let body;
    try { body = decoded(req, raw); } catch { return [400, '{}']; }
    if (body.length > MAX_BODY) return [413, JSON.stringify({ message: 'request too large' })];
    const lines = body.toString('utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    for (const l of lines) {
      if (typeof l.event !== 'string' || !l.event.startsWith('Harness-Audit-Event-') || typeof l.fields !== 'object') {
        return [400, JSON.stringify({ message: 'not a Sumo audit line' })];
      }
    }
    batches.push({
      category: req.headers['x-sumo-category'],
      name: req.headers['x-sumo-name'],
      fields: req.headers['x-sumo-fields'],
      lines,
      bytes: body.length,
    });
    return [200, ''];
  });
  const s = await started('sumo', server, state, {
    batches,
    token,
    get events() { return batches.flatMap((b) => b.lines.map((l) => l.fields.auditEventId)); },
  });
  s.url = `${s.base}${path}`;
  return s;
}

/**
 * A webhook that verifies `X-Trailsift-Signature` (HMAC-SHA256 of "<t>.<body>" with the
 * secret, over the body as sent, `t` within five minutes) and reads the batch key.
 */
export async function startWebhook({ secret, path = '/hook' }) {
  const batches = [];
  const { server, state } = failingServer((req, raw) => {
    if (req.method !== 'POST' || req.url !== path) return [404, '{}'];
    const sig = req.headers['x-trailsift-signature'] ?? '';
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
    if (!m) return [401, JSON.stringify({ error: 'no signature' })];
    const expected = createHmac('sha256', secret).update(`${m[1]}.`).update(raw).digest('hex');
    if (expected !== m[2]) return [401, JSON.stringify({ error: 'bad signature' })];
    if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return [401, JSON.stringify({ error: 'stale signature' })];
    const key = req.headers['x-trailsift-batch'] ?? '';
    const k = /^(.+):(?:(\d+)-(\d+)|test)$/.exec(key);
    if (!k) return [400, JSON.stringify({ error: 'no batch key' })];
    const type = (req.headers['content-type'] ?? '').split(';')[0];
    const text = decoded(req, raw).toString('utf8');
    let events;
    if (type === 'application/json') events = JSON.parse(text);
    else if (type === 'application/x-ndjson') events = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    else return [415, '{}'];
    if (!Array.isArray(events)) return [400, '{}'];
    batches.push({ key, first: Number(k[2]), last: Number(k[3]), test: !k[2], events, gzip: req.headers['content-encoding'] === 'gzip', bytes: raw.length });
    return [200, '{"ok":true}'];
  });
  const s = await started('webhook', server, state, {
    batches,
    get events() { return batches.filter((b) => !b.test).flatMap((b) => b.events); },
  });
  s.url = `${s.base}${path}`;
  return s;
}

/** Child processes of the receivers, stopped when the tests end. */
const children = new Set();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

async function waitFor(url, child, log) {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited:\n${log()}`);
    try { await fetch(url); return; } catch { /* not up */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not come up:\n${log()}`);
}

function spawnServer(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  return { child, log: () => log.slice(-3000) };
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 3000).unref();
  });
}

/** s3s-fs (checks SigV4) with one bucket; `objects(prefix)` reads them back with boto3. */
export async function startS3({ bucket, accessKey = 'AKIDTRAILSIFT', secretKey = randomBytes(20).toString('hex') }) {
  const root = mkdtempSync(join(tmpdir(), 'trailsift-s3-'));
  mkdirSync(join(root, bucket));
  const port = await freePort();
  const { child, log } = spawnServer('s3s-fs', ['--host', '127.0.0.1', '--port', String(port),
    '--access-key', accessKey, '--secret-key', secretKey, root]);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(base, child, log);
  return {
    base, bucket, accessKey, secretKey,
    /** [{key, gzip, events}] of every object under `prefix`, read with boto3 in a child
     * process that the test process does not wait on (a blocked test process stops answering
     * the Worker's connections). */
    async objects(prefix = '') {
      const { stdout } = await promisify(execFile)('python3', [join(ROOT, 'tests', 'edge', 's3_read.py'), base, accessKey, secretKey, bucket, prefix],
        { encoding: 'utf8', maxBuffer: 1 << 30 });
      return JSON.parse(stdout);
    },
    async close() { await stopChild(child); rmSync(root, { recursive: true, force: true }); },
  };
}

/** An RSA service-account key as Google issues it, for `tokenUri`. */
export function serviceAccountKey(tokenUri) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    key: {
      type: 'service_account',
      project_id: 'trailsift-test',
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: 'shipper@trailsift-test.iam.gserviceaccount.com',
      client_id: '1',
      token_uri: tokenUri,
    },
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }),
  };
}

/**
 * gcp-storage-emulator behind a proxy that lets through only requests with an OAuth token
 * issued by this token endpoint (`/token`), which verifies the JWT bearer assertion: RS256
 * signed by the service account's key, with its email as `iss`, the token URI as `aud`, the
 * storage scope and a live `exp`. Or, with `hmac`, requests signed `AWS4-HMAC-SHA256` with
 * that access id.
 */
export async function startGcs({ bucket }) {
  const emulatorPort = await freePort();
  const { child, log } = spawnServer('gcp-storage-emulator', ['start', '--host', '127.0.0.1',
    '--port', String(emulatorPort), '--in-memory', '--default-bucket', bucket]);
  const emulator = `http://127.0.0.1:${emulatorPort}`;
  await waitFor(emulator, child, log);
  const issued = new Set();
  const assertions = [];
  const refused = [];
  const uploads = [];
  const gcs = { account: null, hmacId: null };
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const deny = (status, why) => { refused.push({ url: req.url, why }); res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify({ error: why })); };
    if (req.url === '/token') {
      const form = new URLSearchParams(raw.toString('utf8'));
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return deny(400, 'unsupported_grant_type');
      const parts = (form.get('assertion') ?? '').split('.');
      if (parts.length !== 3) return deny(400, 'invalid_grant: not a JWT');
      const [h, c, s] = parts;
      const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
      const now = Date.now() / 1000;
      const account = gcs.account;
      if (header.alg !== 'RS256' || !account) return deny(400, 'invalid_grant: alg');
      const good = createVerify('RSA-SHA256').update(`${h}.${c}`).verify(account.publicKey, Buffer.from(s, 'base64url'));
      if (!good) return deny(400, 'invalid_grant: Invalid JWT Signature.');
      if (header.kid !== account.key.private_key_id) return deny(400, 'invalid_grant: kid');
      if (claims.iss !== account.key.client_email || claims.aud !== account.key.token_uri) return deny(400, 'invalid_grant: iss/aud');
      if (!String(claims.scope).split(' ').includes('https://www.googleapis.com/auth/devstorage.read_write')) return deny(400, 'invalid_scope');
      if (!(claims.exp > now && claims.iat <= now + 60 && claims.exp - claims.iat <= 3600)) return deny(400, 'invalid_grant: time');
      assertions.push(claims);
      const token = `ya29.${randomBytes(24).toString('hex')}`;
      issued.add(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }));
      return;
    }
    const auth = req.headers.authorization ?? '';
    const bearer = auth.startsWith('Bearer ') && issued.has(auth.slice(7));
    const hmac = gcs.hmacId && auth.startsWith(`AWS4-HMAC-SHA256 Credential=${gcs.hmacId}/`) && /\/auto\/s3\/aws4_request,/.test(auth);
    if (!bearer && !hmac) return deny(401, 'no valid credentials');
    const headers = { ...req.headers, host: `127.0.0.1:${emulatorPort}` };
    uploads.push({ url: req.url, contentType: req.headers['content-type'] });
    // The emulator reads a media upload typed application/json as metadata (and fails on a
    // JSON array); real GCS stores it as the object. It gets the bytes as they are.
    if (req.url.includes('uploadType=media')) headers['content-type'] = 'application/octet-stream';
    const fwd = httpRequest(`${emulator}${req.url}`, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => deny(502, 'emulator down'));
    fwd.end(raw);
  });
  const port = await listen(server);
  const base = `http://127.0.0.1:${port}`;
  return {
    base, bucket, assertions, refused, uploads,
    tokenUri: `${base}/token`,
    /** Makes a service-account key this endpoint accepts. */
    newServiceAccount() { gcs.account = serviceAccountKey(`${base}/token`); return gcs.account.key; },
    /** Accepts XML API requests signed with this HMAC access id. */
    acceptHmac(id) { gcs.hmacId = id; },
    /** [{name, events}] of the objects under `prefix`, read through the emulator's JSON API. */
    async objects(prefix = '') {
      const list = await (await fetch(`${emulator}/storage/v1/b/${bucket}/o?prefix=${encodeURIComponent(prefix)}`)).json();
      const out = [];
      for (const item of list.items ?? []) {
        const r = await fetch(`${emulator}/download/storage/v1/b/${bucket}/o/${encodeURIComponent(item.name)}?alt=media`);
        const raw = Buffer.from(await r.arrayBuffer());
        out.push({ name: item.name, ...parseObject(item.name, raw) });
      }
      return out;
    },
    async close() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
      await stopChild(child);
    },
  };
}

/** The events of a stream file by its name (formats.md section 3). */
export function parseObject(name, raw) {
  const gzip = name.endsWith('.gz');
  const text = (gzip ? gunzipSync(raw) : raw).toString('utf8');
  const events = name.replace(/\.gz$/, '').endsWith('.json')
    ? JSON.parse(text)
    : text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  return { gzip, events };
}

export const newSecret = () => randomBytes(24).toString('hex');
export const uuid = () => randomUUID();
