// The Worker's V8 isolate seen through wrangler dev's DevTools inspector: how much of the
// JS heap is in use, and a forced garbage collection. Tells a leak (memory that stays after
// a full GC) from garbage V8 has not collected yet (a high-water mark). Used by the soak.
import WebSocket from 'ws';

// Far from the ids wrangler's inspector proxy gives its own messages to the runtime.
const FIRST_ID = 1_000_000;

/** Runs DevTools `methods` in order on the Worker's isolate; answers their results (or
 * fails after `timeoutMs`). */
export async function inspect(inspectorPort, methods, timeoutMs = 60_000) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error('no inspector target');
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  try {
    const results = [];
    for (const [i, method] of methods.entries()) {
      const answer = new Promise((resolve, reject) => {
        setTimeout(() => reject(new Error(`${method}: no answer in ${timeoutMs} ms`)), timeoutMs).unref();
        const onMessage = (data) => {
          const msg = JSON.parse(data.toString());
          if (msg.id !== FIRST_ID + i) return;
          ws.off('message', onMessage);
          if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
          else resolve(msg.result);
        };
        ws.on('message', onMessage);
      });
      ws.send(JSON.stringify({ id: FIRST_ID + i, method }));
      results.push(await answer);
    }
    return results;
  } finally {
    ws.close();
  }
}

/** The JS heap in use and allocated (MB), before and after a forced full GC. */
export async function heapAroundGc(inspectorPort) {
  const [before, , after] = await inspect(inspectorPort,
    ['Runtime.getHeapUsage', 'HeapProfiler.collectGarbage', 'Runtime.getHeapUsage']);
  const mb = (u) => ({ used: u.usedSize / 2 ** 20, total: u.totalSize / 2 ** 20 });
  return { before: mb(before), after: mb(after) };
}

/** Keeps a DevTools session open on wrangler's inspector, reading and dropping what it
 * sends. wrangler 4.86's inspector proxy keeps every message of the runtime (console, network
 * and script events) in a buffer that only an attached DevTools session drains: with none,
 * the proxy workerd's memory grows with the Worker's activity (RELIABILITY.md, Soak). Answers
 * {messages, bytes, close}. */
export async function drainDevtools(inspectorPort, { network = true } = {}) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error('no inspector target');
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let nextId = FIRST_ID;
  const waiting = new Map();
  const seen = {
    messages: 0,
    bytes: 0,
    methods: {},
    close: () => ws.close(),
    /** The isolate's V8 heap now (MB in use and allocated), without a GC; NaN on no answer. */
    heap: () => new Promise((resolve) => {
      const id = ++nextId;
      const timer = setTimeout(() => { waiting.delete(id); resolve({ used: NaN, total: NaN }); }, 10_000);
      waiting.set(id, (result) => {
        clearTimeout(timer);
        resolve({ used: result.usedSize / 2 ** 20, total: result.totalSize / 2 ** 20 });
      });
      ws.send(JSON.stringify({ id, method: 'Runtime.getHeapUsage' }));
    }),
  };
  ws.on('message', (data) => {
    seen.messages += 1;
    seen.bytes += data.length;
    const head = data.toString('utf8', 0, Math.min(200, data.length));
    const method = /"method":"([^"]+)"/.exec(head)?.[1] ?? 'answer';
    const m = (seen.methods[method] ??= { messages: 0, bytes: 0 });
    m.messages += 1;
    m.bytes += data.length;
    const id = Number(/^\{"id":(\d+)/.exec(head)?.[1]);
    if (waiting.has(id)) {
      const done = waiting.get(id);
      waiting.delete(id);
      done(JSON.parse(data.toString()).result ?? { usedSize: NaN, totalSize: NaN });
    }
  });
  if (!network) ws.send(JSON.stringify({ id: FIRST_ID, method: 'Network.disable' }));
  return seen;
}
