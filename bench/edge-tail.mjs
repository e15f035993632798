// The live tail in `wrangler dev` on loopback (make worker first):
//  1. latency of the event at each subscriber (1 and 100 WebSocket subscribers, and 1 SSE
//     subscriber), p50/p99 over ROUNDS single-event commits, from the ingest answer (negative
//     when the event arrives first: the object sends before it answers) and from sending
//     the ingest request;
//  2. ingest throughput of one account with no subscriber, with 100 idle subscribers that
//     share one query, and with 100 idle subscribers with 100 different queries;
//  3. RSS of workerd with 1,000 WebSocket subscribers, connected and then hibernated (the
//     runtime that holds the object, and wrangler's proxy in front of it, apart).
//   node bench/edge-tail.mjs     (ROUNDS, EVENTS, SUBSCRIBERS override the sizes)
import { loadavg } from 'node:os';
import { startWorker, newToken, sha256, event } from '../tests/edge/harness.mjs';
import { wsTail, sseTail } from '../tests/edge/tail-clients.mjs';
import { groupRss } from './workerd-cpu.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 300);
const EVENTS = Number(process.env.EVENTS ?? 60_000);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const BATCH = 1000;
const CONCURRENCY = 4;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tokens = Array.from({ length: 4 }, () => newToken());
const config = JSON.stringify(tokens.map((t, i) => ({
  sha256: sha256(t), account: `tail_${i}`, scopes: ['ingest', 'read'], owner: 'bench',
})));
// One account per part, so that no part meets another's subscribers or rows.
const [LAT, THR, MEM, THR_DISTINCT] = tokens.map((token, i) => ({ token, account: `tail_${i}` }));

const w = await startWorker({
  tokensConfig: config,
  vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '0' },
});
let serial = 0;
const ev = (account, over = {}) => {
  const i = serial++;
  return event(account, i, { auditEventId: `${account}-${i}`, ...over });
};
const post = (a, evs) => fetch(`${w.url}/v1/events`, {
  method: 'POST',
  body: evs.map((e) => JSON.stringify(e)).join('\n'),
  headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/x-ndjson' },
}).then(async (r) => {
  if (r.status !== 200) throw new Error(`ingest ${r.status}: ${await r.text()}`);
  return r.json();
});
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (x) => x.toFixed(2);

async function latency(label, subs) {
  const fromAnswer = [];
  const fromSend = [];
  for (let r = 0; r < ROUNDS; r++) {
    const e = ev(LAT.account, { auditAction: 'CREATE', auditModule: 'LAT' });
    const before = subs.map((s) => s.inbox.events.length);
    const sent = performance.now();
    await post(LAT, [e]);
    const answered = performance.now();
    await Promise.all(subs.map((s, i) => s.inbox.until((x) => x.events.length > before[i], 'the event', 30_000)));
    for (const [i, s] of subs.entries()) {
      fromAnswer.push(s.inbox.arrivals[before[i]] - answered);
      fromSend.push(s.inbox.arrivals[before[i]] - sent);
    }
  }
  return {
    label,
    answer: { p50: pct(fromAnswer, 50), p99: pct(fromAnswer, 99) },
    send: { p50: pct(fromSend, 50), p99: pct(fromSend, 99) },
  };
}

async function throughput(a, label) {
  let sent = 0;
  const t0 = performance.now();
  const loop = async () => {
    while (sent < EVENTS) {
      sent += BATCH;
      await post(a, Array.from({ length: BATCH }, () => ev(a.account, { auditModule: 'THR' })));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const s = (performance.now() - t0) / 1000;
  return { label, events: sent, seconds: s, perSecond: sent / s };
}

try {
  const results = { loadavg: loadavg(), latency: [], throughput: [], memory: {} };
  // 1. Latency.
  const one = [await wsTail(w.url, { token: LAT.token, q: 'module:LAT' })];
  await post(LAT, [ev(LAT.account)]); // warm the object
  results.latency.push(await latency('1 WebSocket subscriber', one));
  await one[0].close();
  const sse = [await sseTail(w.url, { token: LAT.token, q: 'module:LAT' })];
  results.latency.push(await latency('1 SSE subscriber', sse));
  sse[0].close();
  const hundred = [];
  for (let i = 0; i < 100; i++) hundred.push(await wsTail(w.url, { token: LAT.token, q: 'module:LAT' }));
  results.latency.push(await latency('100 WebSocket subscribers', hundred));
  for (const s of hundred) await s.close();

  // 2. Throughput: none, 100 idle with one query, 100 idle with different queries.
  await post(THR, [ev(THR.account)]);
  results.throughput.push(await throughput(THR, 'no subscriber'));
  const idle = [];
  for (let i = 0; i < 100; i++) idle.push(await wsTail(w.url, { token: THR.token, q: 'module:NOTHING' }));
  results.throughput.push(await throughput(THR, '100 idle subscribers, one query'));
  for (const s of idle) await s.close();
  await post(THR_DISTINCT, [ev(THR_DISTINCT.account)]);
  results.throughput.push(await throughput(THR_DISTINCT, 'no subscriber (second account)'));
  const distinct = [];
  for (let i = 0; i < 100; i++) distinct.push(await wsTail(w.url, { token: THR_DISTINCT.token, q: `module:NOTHING${i}` }));
  results.throughput.push(await throughput(THR_DISTINCT, '100 idle subscribers, 100 queries'));
  for (const s of distinct) await s.close();

  // 3. Memory: a fresh object, then SUBSCRIBERS sockets, then hibernated.
  await post(MEM, [ev(MEM.account)]);
  await sleep(15_000);
  results.memory.before = groupRss(w.pgid);
  const many = [];
  for (let i = 0; i < SUBSCRIBERS; i++) many.push(await wsTail(w.url, { token: MEM.token, q: `action:create and module:M${i % 10}` }));
  results.memory.connected = groupRss(w.pgid);
  await sleep(30_000); // idle past the eviction (about 10 s in wrangler dev)
  results.memory.hibernated = groupRss(w.pgid);
  // Do they still work? One commit wakes the object; every subscriber of module M0 gets it.
  await post(MEM, [ev(MEM.account, { auditAction: 'CREATE', auditModule: 'M0' })]);
  const m0 = many.filter((_, i) => i % 10 === 0);
  await Promise.all(m0.map((s) => s.inbox.until((x) => x.events.length === 1, 'the wake-up event')));
  results.memory.afterWake = groupRss(w.pgid);
  results.memory.subscribers = SUBSCRIBERS;
  results.memory.woken = m0.length;
  for (const s of many) await s.close();

  results.loadavgAfter = loadavg();
  console.log(JSON.stringify(results, null, 1));
  console.log('\n| subscribers | from the ingest answer p50 / p99 (ms) | from sending the ingest p50 / p99 (ms) |\n|---|---|---|');
  for (const l of results.latency) console.log(`| ${l.label} | ${fmt(l.answer.p50)} / ${fmt(l.answer.p99)} | ${fmt(l.send.p50)} / ${fmt(l.send.p99)} |`);
  console.log('\n| ingest | events | seconds | events/s |\n|---|---|---|---|');
  for (const t of results.throughput) console.log(`| ${t.label} | ${t.events} | ${fmt(t.seconds)} | ${Math.round(t.perSecond)} |`);
  const m = results.memory;
  const kb = (x) => `runtime ${x.runtime} kB, proxy ${x.proxy} kB`;
  console.log(`\nworkerd RSS: before: ${kb(m.before)}; ${m.subscribers} connected: ${kb(m.connected)}; hibernated: ${kb(m.hibernated)}; after one commit woke it: ${kb(m.afterWake)}`);
} finally {
  await w.stop();
  w.cleanup();
}
