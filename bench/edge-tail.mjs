// The live tail in `wrangler dev` on loopback (make worker first):
//  1. latency of the event at each subscriber (1 and 100 WebSocket subscribers, and 1 SSE
//     subscriber), p50/p99 over ROUNDS single-event commits, from the ingest answer (negative
//     when the event arrives first: the object sends before it answers) and from sending
//     the ingest request;
//  2. ingest throughput of one account with no subscriber, with 100 idle subscribers that
//     share one query, and with 100 idle subscribers with 100 different queries: the three
//     in turns, THROUGHPUT_ROUNDS rounds (each round in another order), medians of events/s
//     and of the workerd CPU per event. With BEFORE=DIR, a copy of the repository holding
//     an older build/ (and no [build] in its wrangler.toml), its Worker runs beside this one
//     and takes its turns in the same rounds;
//  3. RSS of workerd with 1,000 WebSocket subscribers, connected and then hibernated (the
//     runtime that holds the object, and wrangler's proxy in front of it, apart).
//   node bench/edge-tail.mjs     (PARTS=latency,throughput,memory picks parts; ROUNDS,
//                                 EVENTS, THROUGHPUT_ROUNDS, SUBSCRIBERS override the sizes)
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import * as harness from '../tests/edge/harness.mjs';
import { wsTail, sseTail } from '../tests/edge/tail-clients.mjs';
import { groupCpu, groupRss } from './workerd-cpu.mjs';

const { newToken, sha256, event } = harness;
const ROUNDS = Number(process.env.ROUNDS ?? 300);
const EVENTS = Number(process.env.EVENTS ?? 60_000);
const THROUGHPUT_ROUNDS = Number(process.env.THROUGHPUT_ROUNDS ?? 3);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const PARTS = new Set((process.env.PARTS ?? 'latency,throughput,memory').split(','));
const BEFORE = process.env.BEFORE;
const BATCH = 1000;
const CONCURRENCY = 4;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One account per part (and per throughput case), so that none meets another's
// subscribers or rows.
const NAMES = ['lat', 'mem', 'none', 'one', 'many'];
const accounts = Object.fromEntries(NAMES.map((name) => [name, { token: newToken(), account: `tail_${name}` }]));
const config = JSON.stringify(Object.values(accounts).map(({ token, account }) => ({
  sha256: sha256(token), account, scopes: ['ingest', 'read'], owner: 'bench',
})));
const { lat: LAT, mem: MEM } = accounts;

const start = (h) => h.startWorker({ tokensConfig: config, vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '0' } });
const w = await start(harness);
const workers = [{ label: 'this build', w }];
if (BEFORE) {
  const before = await import(join(resolve(BEFORE), 'tests', 'edge', 'harness.mjs'));
  workers.unshift({ label: 'before', w: await start(before) });
}
let serial = 0;
const ev = (account, over = {}) => {
  const i = serial++;
  return event(account, i, { auditEventId: `${account}-${i}`, ...over });
};
const post = (url, a, evs) => fetch(`${url}/v1/events`, {
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
const median = (xs) => pct(xs, 50);
const fmt = (x) => x.toFixed(2);

async function latency(label, subs) {
  const fromAnswer = [];
  const fromSend = [];
  for (let r = 0; r < ROUNDS; r++) {
    const e = ev(LAT.account, { auditAction: 'CREATE', auditModule: 'LAT' });
    const before = subs.map((s) => s.inbox.events.length);
    const sent = performance.now();
    await post(w.url, LAT, [e]);
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

/** EVENTS events into account `a` of worker `w`: events/s and workerd CPU µs per event. */
async function throughput(w, a) {
  let sent = 0;
  const cpu0 = groupCpu(w.pgid);
  const t0 = performance.now();
  const loop = async () => {
    while (sent < EVENTS) {
      sent += BATCH;
      await post(w.url, a, Array.from({ length: BATCH }, () => ev(a.account, { auditModule: 'THR' })));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const s = (performance.now() - t0) / 1000;
  return { perSecond: sent / s, cpuMicros: ((groupCpu(w.pgid) - cpu0) / sent) * 1e6 };
}

/** The three throughput cases of one worker, their idle subscribers connected. */
async function throughputCases({ label, w }) {
  const { none, one, many } = accounts;
  const cases = [
    { build: label, w, name: 'no subscriber', a: none, queries: [] },
    { build: label, w, name: '100 idle subscribers, one query', a: one, queries: Array(100).fill('module:NOTHING') },
    { build: label, w, name: '100 idle subscribers, 100 queries', a: many, queries: Array.from({ length: 100 }, (_, i) => `module:NOTHING${i}`) },
  ];
  for (const c of cases) {
    await post(w.url, c.a, [ev(c.a.account)]); // the object exists and is warm
    c.subs = [];
    for (const q of c.queries) c.subs.push(await wsTail(w.url, { token: c.a.token, q }));
    c.runs = [];
  }
  return cases;
}

try {
  const results = { loadavg: loadavg(), latency: [], throughput: [], memory: {} };
  if (PARTS.has('latency')) {
    const one = [await wsTail(w.url, { token: LAT.token, q: 'module:LAT' })];
    await post(w.url, LAT, [ev(LAT.account)]); // warm the object
    results.latency.push(await latency('1 WebSocket subscriber', one));
    await one[0].close();
    const sse = [await sseTail(w.url, { token: LAT.token, q: 'module:LAT' })];
    results.latency.push(await latency('1 SSE subscriber', sse));
    sse[0].close();
    const hundred = [];
    for (let i = 0; i < 100; i++) hundred.push(await wsTail(w.url, { token: LAT.token, q: 'module:LAT' }));
    results.latency.push(await latency('100 WebSocket subscribers', hundred));
    for (const s of hundred) await s.close();
  }

  if (PARTS.has('throughput')) {
    const cases = [];
    for (const worker of workers) cases.push(...await throughputCases(worker));
    for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
      // Each round in another order, so that no case always follows the same one.
      const order = cases.map((_, i) => cases[(i + r * 2) % cases.length]);
      for (const c of order) c.runs.push(await throughput(c.w, c.a));
    }
    for (const c of cases) {
      for (const s of c.subs) await s.close();
      const base = cases.find((b) => b.build === c.build && b.queries.length === 0);
      results.throughput.push({
        build: c.build,
        case: c.name,
        runs: c.runs,
        perSecond: median(c.runs.map((x) => x.perSecond)),
        cpuMicros: median(c.runs.map((x) => x.cpuMicros)),
        // Against no subscriber in the same round.
        change: median(c.runs.map((x, i) => x.perSecond / base.runs[i].perSecond - 1)),
      });
    }
  }

  if (PARTS.has('memory')) {
    // A fresh object, then SUBSCRIBERS sockets, then hibernated.
    await post(w.url, MEM, [ev(MEM.account)]);
    await sleep(15_000);
    results.memory.before = groupRss(w.pgid);
    const many = [];
    for (let i = 0; i < SUBSCRIBERS; i++) many.push(await wsTail(w.url, { token: MEM.token, q: `action:create and module:M${i % 10}` }));
    results.memory.connected = groupRss(w.pgid);
    await sleep(30_000); // idle past the eviction (about 10 s in wrangler dev)
    results.memory.hibernated = groupRss(w.pgid);
    // Do they still work? One commit wakes the object; every subscriber of module M0 gets it.
    await post(w.url, MEM, [ev(MEM.account, { auditAction: 'CREATE', auditModule: 'M0' })]);
    const m0 = many.filter((_, i) => i % 10 === 0);
    await Promise.all(m0.map((s) => s.inbox.until((x) => x.events.length === 1, 'the wake-up event')));
    results.memory.afterWake = groupRss(w.pgid);
    results.memory.subscribers = SUBSCRIBERS;
    results.memory.woken = m0.length;
    for (const s of many) await s.close();
  }

  results.loadavgAfter = loadavg();
  console.log(JSON.stringify(results, null, 1));
  if (results.latency.length) {
    console.log('\n| subscribers | from the ingest answer p50 / p99 (ms) | from sending the ingest p50 / p99 (ms) |\n|---|---|---|');
    for (const l of results.latency) console.log(`| ${l.label} | ${fmt(l.answer.p50)} / ${fmt(l.answer.p99)} | ${fmt(l.send.p50)} / ${fmt(l.send.p99)} |`);
  }
  if (results.throughput.length) {
    console.log(`\n${THROUGHPUT_ROUNDS} rounds of ${EVENTS} events each, medians\n| build | ingest | events/s | against none | workerd CPU µs/event |\n|---|---|---|---|---|`);
    for (const t of results.throughput) {
      const change = t.case === 'no subscriber' ? '' : `${(t.change * 100).toFixed(1)} %`;
      console.log(`| ${t.build} | ${t.case} | ${Math.round(t.perSecond)} | ${change} | ${t.cpuMicros.toFixed(1)} |`);
    }
  }
  if (results.memory.before) {
    const m = results.memory;
    const kb = (x) => `runtime ${x.runtime} kB, proxy ${x.proxy} kB`;
    console.log(`\nworkerd RSS: before: ${kb(m.before)}; ${m.subscribers} connected: ${kb(m.connected)}; hibernated: ${kb(m.hibernated)}; after one commit woke it: ${kb(m.afterWake)}`);
  }
  console.log(`\nload average: ${results.loadavg.map(fmt).join(' ')} at the start, ${results.loadavgAfter.map(fmt).join(' ')} at the end`);
} finally {
  for (const { w: x } of workers) {
    await x.stop();
    x.cleanup();
  }
}
