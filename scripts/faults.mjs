#!/usr/bin/env node
// Fault injection against the Worker in `wrangler dev` (the build in build/, `make worker`):
// `wrangler dev` killed with SIGKILL in the middle of sustained ingestion from concurrent
// clients and of delivery to a destination, restarted on the same --persist-to state, and
// receivers that answer 429/500/503 with Retry-After, drop the connection mid-body or hang
// past DESTINATION_TIMEOUT_SECONDS. At the end: every acknowledged event stored exactly
// once, every stored event at every receiver (repeats only as re-sends of one batch key),
// and the evidence bundle verifying with the CLI. Prints one line per fault; exits 1 on any
// loss or broken promise.
//
//   node scripts/faults.mjs [--short]
//   FAULT_KILLS     SIGKILLs of wrangler dev (default 3; --short: 1)
//   FAULT_CLIENTS   concurrent ingesting clients (default 4)
//   FAULT_EVENTS    events each client sends, in batches of 25 (default 2000; --short: 600)
//   FAULT_ROUNDS    rounds of the failing receiver's plan (default 3; --short: 1)
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startWorker, makeTokens, newCredentialsKey, newLogSigningKey, event, call, ROOT,
} from '../tests/edge/harness.mjs';

const short = process.argv.includes('--short');
const num = (name, long, brief) => Number(process.env[name] ?? (short ? brief : long));
const KILLS = num('FAULT_KILLS', 3, 1);
const CLIENTS = num('FAULT_CLIENTS', 4, 4);
const PER_CLIENT = num('FAULT_EVENTS', 2000, 600);
const ROUNDS = num('FAULT_ROUNDS', 3, 1);
const BATCH = 25;
const TIMEOUT_SECONDS = 2;
const CLI = process.env.TRAILSIFT_BIN
  || join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'native', 'trailsift');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const failures = [];
const expect = (ok, what) => { if (!ok) failures.push(what); return ok; };

/**
 * A webhook receiver that records what it took in by batch key. `delayMs` holds each
 * successful answer back (so that a batch is in flight when the Worker is killed); `plan`
 * holds failures for the next requests: `{status, retryAfter}`, 'drop' (the connection
 * destroyed at the first piece of the body) or 'hang' (never answered).
 */
function receiver({ delayMs = 0 } = {}) {
  const state = { plan: [], requests: [], ok: [], pending: new Set(), hung: [] };
  const server = createServer((req, res) => {
    const action = state.plan.shift() ?? 'ok';
    const key = req.headers['x-trailsift-batch'] ?? '';
    const record = { key, action, at: Date.now() };
    state.requests.push(record);
    const chunks = [];
    if (action === 'drop') {
      req.once('data', (c) => {
        record.midBody = c.length < Number(req.headers['content-length'] ?? Infinity);
        req.socket.destroy();
      });
      return;
    }
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (action === 'hang') { state.hung.push(res); return; }
      if (action !== 'ok') {
        res.writeHead(action.status, { 'retry-after': String(action.retryAfter), 'content-type': 'application/json' });
        res.end('{"error":"planned"}');
        return;
      }
      let body = Buffer.concat(chunks);
      if ((req.headers['content-encoding'] ?? '') === 'gzip') body = gunzipSync(body);
      const text = body.toString('utf8');
      const events = text.trimStart().startsWith('[')
        ? JSON.parse(text)
        : text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
      state.ok.push({ key, ids: events.map((e) => e.auditEventId) });
      const answer = () => { state.pending.delete(res); res.writeHead(200); res.end('{"ok":true}'); };
      if (delayMs) { state.pending.add(res); setTimeout(answer, delayMs); } else answer();
    });
    req.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    state,
    url: `http://127.0.0.1:${server.address().port}/hook`,
    close() {
      for (const res of state.hung) res.socket?.destroy();
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  })));
}

/** Received ids (with repeats), and repeats that are not re-sends of one batch key. */
function deliveries(rx) {
  const ids = rx.state.ok.flatMap((b) => b.ids);
  const keysOf = new Map();
  for (const b of rx.state.ok) {
    for (const id of b.ids) {
      if (keysOf.has(id)) keysOf.get(id).push(b.key);
      else keysOf.set(id, [b.key]);
    }
  }
  let repeats = 0;
  let stray = 0;
  for (const keys of keysOf.values()) {
    if (keys.length < 2) continue;
    repeats += keys.length - 1;
    if (new Set(keys).size !== 1) stray += 1;
  }
  return { ids: new Set(ids), repeats, stray };
}

/**
 * One ingesting client: sends its events in batches and resends a batch until it is
 * acknowledged (a 200 whose accepted + duplicates cover the batch). Acknowledged ids go to
 * `acked`; `stats` counts resends and what failed.
 */
async function client(url, token, k, acked, stats) {
  const now = Date.now();
  for (let b = 0; b * BATCH < PER_CLIENT; b++) {
    const evs = Array.from({ length: BATCH }, (_, i) => event('acct_a', i, {
      auditEventId: `fault-c${k}-${b * BATCH + i}`,
      auditEventTime: String(now - 1000 + b),
      // Padding, so that every delivered batch is larger than one read of the socket and a
      // receiver can drop the connection in the middle of it.
      auditEventMetadata: { note: 'x'.repeat(3000) },
    }));
    const body = evs.map((e) => JSON.stringify(e)).join('\n');
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) { stats.resends += 1; await sleep(200); }
      try {
        const r = await fetch(`${url()}/v1/events`, {
          method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        });
        const text = await r.text();
        if (r.status !== 200) { stats.refused[r.status] = (stats.refused[r.status] ?? 0) + 1; continue; }
        const j = JSON.parse(text);
        if (j.accepted + j.duplicates !== BATCH || j.rejected.length) throw new Error(`ingest answer ${text}`);
        stats.duplicates += j.duplicates;
        for (const e of evs) acked.add(e.auditEventId);
        break;
      } catch (e) {
        if (e.message.startsWith('ingest answer')) throw e;
        stats.connectionErrors += 1;
      }
    }
  }
}

/** Polls `fn` until truthy, failing after `ms` with `what` (and what `diagnose` says). */
async function until(what, fn, ms = 180_000, diagnose = async () => '') {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${await diagnose()}`);
    await sleep(250);
  }
}

const started = Date.now();
const progress = (what) => console.error(`faults: ${((Date.now() - started) / 1000).toFixed(0)} s: ${what}`);

/** Every stored event id of the account's export (with repeats, if any). */
async function exported(url, token) {
  const ids = [];
  let cursor = null;
  do {
    const r = await call(`${url}/v1/events?from=now-2d&limit=1000${cursor ? `&cursor=${cursor}` : ''}`, token);
    if (r.status !== 200) throw new Error(`export: ${r.status} ${r.text}`);
    ids.push(...r.json.events.map((e) => e.auditEventId));
    cursor = r.json.cursor;
  } while (cursor);
  return ids;
}

async function main() {
  const { tokens: T, config } = makeTokens();
  const credentialsKey = newCredentialsKey();
  const logSigningKey = newLogSigningKey();
  const vars = {
    DESTINATION_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS), LOG_CHECKPOINT_INTERVAL_SECONDS: '0',
    RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
  };
  const start = (persist, port) => startWorker({ tokensConfig: config, credentialsKey, logSigningKey, vars, persist, port });
  const slow = await receiver({ delayMs: 300 });
  const flaky = await receiver();
  const t0 = Date.now();
  let w = await start();
  const { dir, port } = w;
  const tmp = mkdtempSync(join(tmpdir(), 'trailsift-faults-'));
  try {
    const retry = { maxAttempts: 30, baseSeconds: 0.2, maxSeconds: 1 };
    const secret = 'whsec-faults-0123456789abcdef';
    const ids = [];
    for (const [name, rx, maxEvents] of [['Slow', slow, 100], ['Flaky', flaky, 200]]) {
      const made = await call(`${w.url}/v1/destinations`, T.aAll, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, type: 'webhook', config: { url: rx.url }, credentials: { secret },
          batch: { maxEvents, intervalSeconds: 1 }, retry }),
      });
      if (made.status !== 201) throw new Error(`destination: ${made.status} ${made.text}`);
      const on = await call(`${w.url}/v1/destinations/${made.json.id}`, T.aAll, {
        method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'active' }),
      });
      if (on.status !== 200) throw new Error(`activate: ${on.status} ${on.text}`);
      ids.push(made.json.id);
    }
    progress('wrangler dev up, two destinations active');
    const receiverFaults = [{ status: 429, retryAfter: 1 }, { status: 500, retryAfter: 1 },
      { status: 503, retryAfter: 1 }, 'drop', 'hang'];
    for (let i = 0; i < ROUNDS; i++) flaky.state.plan.push(...receiverFaults);

    const acked = new Set();
    const stats = { resends: 0, duplicates: 0, connectionErrors: 0, refused: {} };
    const url = () => w.url;
    const clients = Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(url, T.aIngest, k, acked, stats)));
    const total = CLIENTS * PER_CLIENT;
    const kills = { ingest: 0, delivery: 0 };
    for (let n = 1; n <= KILLS; n++) {
      // Mid-ingestion (clients still sending) and, when the slow receiver holds an
      // unanswered batch, mid-delivery too.
      await until(`${n}/${KILLS + 1} of the events acknowledged`, () => acked.size >= (total * n) / (KILLS + 1));
      await until('a batch in flight to the slow receiver', () => slow.state.pending.size > 0, 10_000).catch(() => {});
      if (acked.size < total) kills.ingest += 1;
      if (slow.state.pending.size > 0) kills.delivery += 1;
      progress(`SIGKILL ${n} with ${acked.size} events acknowledged, ${slow.state.pending.size} batch(es) in flight`);
      await w.kill();
      w = await start(dir, port);
      progress('restarted on the same state');
    }
    await clients;
    progress(`clients done: ${acked.size} acknowledged`);

    const stored = await exported(w.url, T.aRead);
    const storedSet = new Set(stored);
    progress(`${stored.length} events stored; waiting for delivery`);
    await until('every stored event at both receivers', () =>
      [slow, flaky].every((rx) => {
        const got = deliveries(rx).ids;
        return [...storedSet].every((id) => got.has(id));
      }), 180_000,
    async () => JSON.stringify({
      slow: deliveries(slow).ids.size, flaky: deliveries(flaky).ids.size, stored: storedSet.size,
      flakyRequests: flaky.state.requests.slice(-8).map((r) => [r.key, r.action]),
      status: await Promise.all(ids.map(async (id) => (await call(`${w.url}/v1/destinations/${id}/status`, T.aAll)).json)),
    }));

    const lostStored = [...acked].filter((id) => !storedSet.has(id)).length;
    expect(lostStored === 0, `${lostStored} acknowledged events are not stored`);
    expect(stored.length === storedSet.size, `${stored.length - storedSet.size} events stored twice`);
    expect(storedSet.size === acked.size, `${storedSet.size} stored, ${acked.size} acknowledged`);
    const got = { slow: deliveries(slow), flaky: deliveries(flaky) };
    for (const [name, d] of Object.entries(got)) {
      const missing = [...storedSet].filter((id) => !d.ids.has(id)).length;
      expect(missing === 0, `${missing} stored events never reached the ${name} receiver`);
      expect(d.stray === 0, `${d.stray} events at the ${name} receiver repeated under different batch keys`);
    }

    // Retry-After honoured: the retry of a batch answered with one came at least ~1 s later.
    const reqs = flaky.state.requests;
    for (let i = 0; i < reqs.length; i++) {
      if (typeof reqs[i].action !== 'object') continue;
      const next = reqs.slice(i + 1).find((r) => r.key === reqs[i].key);
      expect(next && next.at - reqs[i].at >= 900, `the retry after a ${reqs[i].action.status} with Retry-After: 1 came early`);
    }
    const drops = reqs.filter((r) => r.action === 'drop');
    expect(drops.every((r) => r.midBody), 'a drop came after the whole body (not mid-body)');

    // The evidence bundle verifies against the signed checkpoint after the restarts.
    const key = (await call(`${w.url}/v1/log/keys`)).json.keys[0];
    const verified = await until('a checkpoint covering every stored event', async () => {
      const ev = await call(`${w.url}/v1/evidence?from=now-2d&limit=10000`, T.aRead);
      if (ev.status !== 200) throw new Error(`evidence: ${ev.status} ${ev.text}`);
      const path = join(tmp, 'bundle.json');
      writeFileSync(path, ev.text);
      const out = spawnSync(CLI, ['verify', path, '--key', key], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`trailsift verify failed: ${out.stdout}${out.stderr}`);
      const n = Number(/verified (\d+) events/.exec(out.stdout)?.[1]);
      return n === storedSet.size && n;
    }, 30_000);

    const delivered = Math.min(got.slow.ids.size, got.flaky.ids.size);
    const lost = lostStored + [...storedSet].filter((id) => !got.slow.ids.has(id) || !got.flaky.ids.has(id)).length;
    const line = (fault, injected, extra = '') => console.log(
      `fault ${fault.padEnd(36)} injected ${String(injected).padStart(2)}  acked ${acked.size}  stored ${storedSet.size}  delivered ${delivered}  lost ${lost}${extra}`);
    line('SIGKILL mid-ingestion', kills.ingest,
      `  (client resends ${stats.resends}, answered as duplicates ${stats.duplicates})`);
    line('SIGKILL mid-delivery', kills.delivery, `  (repeats at the receiver ${got.slow.repeats}, all re-sends of one batch key)`);
    for (const f of receiverFaults) {
      const n = reqs.filter((r) => r.action === f).length;
      const name = typeof f === 'object' ? `receiver ${f.status} + Retry-After: 1` : f === 'drop'
        ? 'receiver drops mid-body' : `receiver hangs past ${TIMEOUT_SECONDS} s timeout`;
      line(name, n, typeof f === 'object' ? '' : `  (repeats ${got.flaky.repeats})`);
    }
    line('checkpoint after restarts', KILLS, `  (trailsift verify: ${verified} events)`);
    console.log(`faults: ${KILLS} SIGKILLs + ${reqs.filter((r) => r.action !== 'ok').length} receiver faults, ` +
      `${CLIENTS} clients, ${((Date.now() - t0) / 1000).toFixed(0)} s, connection errors ${stats.connectionErrors}, ` +
      `refused ${JSON.stringify(stats.refused)}`);
  } finally {
    await w.stop();
    w.cleanup();
    await Promise.all([slow.close(), flaky.close()]);
    rmSync(tmp, { recursive: true, force: true });
  }
  if (failures.length) {
    for (const f of failures) console.error(`faults: FAILED: ${f}`);
    process.exit(1);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
