// The page's engine, run in a Web Worker. It is the ONLY module that calls the trailsift
// package, so adapting to the package's exports is a change to this file alone. It holds the
// loaded events (the NDJSON bytes, 1× the input, plus a few typed columns per event) so the
// main thread never parses, filters or sorts anything.

import { Store } from './store.js';
import { fetchEventsPage, fetchStats } from './api.js';

let pkg = null; // the trailsift package module, once loaded
let pkgError = null;
let wasmExports = null; // for the memory figure of the benchmark

async function loadPackage() {
  try {
    const mod = await import('../pkg/web.js');
    if (typeof mod.default === 'function') wasmExports = await mod.default();
    pkg = mod;
  } catch (e) {
    pkgError = String(e && e.message ? e.message : e);
  }
}
const ready = loadPackage();

function needPackage() {
  if (!pkg) throw engineError('engine_missing', `the trailsift package is not loaded (${pkgError || 'unknown'}); build the page with "make www"`);
}

function engineError(code, message, extra = {}) {
  const e = new Error(message);
  e.data = { code, message, ...extra };
  return e;
}

// A FilterError from the package becomes plain data the main thread can render.
function filterErrorData(e) {
  if (e && typeof e === 'object' && ('span' in e || 'rendered' in e || 'code' in e)) {
    let span = e.span;
    if (span && !Array.isArray(span) && typeof span === 'object') span = [span.start, span.end];
    return {
      code: String(e.code ?? 'filter_error'),
      message: String(e.message ?? e),
      rendered: e.rendered != null ? String(e.rendered) : String(e.message ?? e),
      span: Array.isArray(span) ? [Number(span[0]), Number(span[1])] : null,
      line: e.line ?? null,
      column: e.column ?? null,
    };
  }
  return { code: 'filter_error', message: String(e && e.message ? e.message : e), rendered: String(e && e.message ? e.message : e), span: null };
}

function compile(query, now) {
  needPackage();
  try {
    return pkg.compileFilter(query, { now });
  } catch (e) {
    throw engineError('filter_error', 'invalid filter', { filterError: filterErrorData(e) });
  }
}

const store = new Store();
let mode = 'local'; // 'local' | 'online'
let online = null; // {url, token, query, from, to, cursor, stats}
let lastQuery = '';
let lastNow = 0; // the "now" of the applied filter, reused by exports
let fileName = 'events';

function progress(phase, done, total) {
  postMessage({ type: 'progress', phase, done, total });
}

// --- reading files -------------------------------------------------------------------------

function sniffFormat(head, name) {
  const lower = name.toLowerCase().replace(/\.gz$/, '');
  if (pkg && typeof pkg.detectFormat === 'function') {
    try {
      const f = pkg.detectFormat(head, name);
      const s = typeof f === 'string' ? f : f && (f.format || f.name);
      if (s) return s;
    } catch { /* fall back to the name and the first bytes */ }
  }
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  const text = new TextDecoder().decode(head.subarray(0, 4096)).trimStart();
  if (text.startsWith('[')) return 'json';
  if (text.startsWith('{')) {
    if (/^\{\s*"event"\s*:\s*"Harness-Audit-Event-/.test(text)) return 'sumo';
    if (/^\{\s*"time"\s*:/.test(text) && /"event"\s*:\s*\{/.test(text)) return 'splunk_hec';
    return 'ndjson';
  }
  return 'csv';
}

async function* chunksOf(readable) {
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (value && value.length) yield typeof value === 'string' ? new TextEncoder().encode(value) : value;
  }
}

async function loadFile(file) {
  await ready;
  mode = 'local';
  online = null;
  fileName = file.name || 'events';
  store.reset();
  const total = file.size;
  let read = 0;
  let lastPost = 0;
  const counted = file.stream().pipeThrough(new TransformStream({
    transform(chunk, ctl) {
      read += chunk.length;
      const t = performance.now();
      if (t - lastPost > 80) { lastPost = t; progress('read', read, total); }
      ctl.enqueue(chunk);
    },
  }));
  // Peek at the first bytes for gzip and the format.
  const [peekSide, mainSide] = counted.tee();
  const peekReader = peekSide.getReader();
  const first = await peekReader.read();
  peekReader.cancel().catch(() => {});
  let head = first.value || new Uint8Array(0);
  let stream = mainSide;
  const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (gz) {
    stream = stream.pipeThrough(new DecompressionStream('gzip'));
    const [p2, m2] = stream.tee();
    const r2 = p2.getReader();
    const f2 = await r2.read();
    r2.cancel().catch(() => {});
    head = f2.value || new Uint8Array(0);
    stream = m2;
  }
  const format = sniffFormat(head, fileName);
  if (format !== 'ndjson') {
    stream = await toNdjson(stream, format);
  }
  for await (const chunk of chunksOf(stream)) store.push(chunk);
  store.finish();
  progress('read', total, total);
  return { ...store.summary(), format, gzip: gz, fileName };
}

// Non-NDJSON inputs become NDJSON through the package's converter, streaming when it can.
async function toNdjson(stream, format) {
  needPackage();
  if (typeof pkg.createConvertStream === 'function') {
    return stream.pipeThrough(pkg.createConvertStream({ from: format, to: 'ndjson' }));
  }
  const parts = [];
  for await (const c of chunksOf(stream)) parts.push(c);
  const all = concat(parts);
  const out = pkg.convert(all, { from: format, to: 'ndjson' });
  const bytes = typeof out === 'string' ? new TextEncoder().encode(out) : out;
  return new Blob([bytes]).stream();
}

function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// --- filtering -----------------------------------------------------------------------------

async function applyFilter({ query, now, from, to }) {
  await ready;
  lastQuery = query || '';
  lastNow = now;
  if (mode === 'online') return onlineQuery({ query: lastQuery, from: from ?? online.from, to: to ?? online.to });
  const t0 = performance.now();
  // Without the package only the empty filter can run; with it, even the empty filter goes
  // through the package so that events it rejects are left out exactly as the CLI does.
  if (!lastQuery.trim() && !pkg) {
    store.matchAll();
  } else {
    const f = compile(lastQuery, now);
    try {
      store.matchWith((block) => f.filterNdjson(block), (i, n) => progress('filter', i, n));
    } finally {
      if (typeof f.free === 'function') f.free();
    }
  }
  store.sortMatches();
  return { ...store.view(), ms: performance.now() - t0 };
}

// The query text that a structured (form) filter compiles to, and back: the package maps a
// filter to the form's fields (the rest in `query`), or gives null when the form shows none of it.
async function structuredToQuery({ structured, now }) {
  await ready;
  const f = compile(structured, now);
  try {
    return { query: f.toQuery() };
  } finally {
    if (typeof f.free === 'function') f.free();
  }
}

async function queryToStructured({ query, now }) {
  await ready;
  const f = compile(query, now);
  try {
    return { structured: f.toStructured() };
  } finally {
    if (typeof f.free === 'function') f.free();
  }
}

async function exportView({ format }) {
  await ready;
  needPackage();
  const base = fileName.replace(/\.gz$/i, '').replace(/\.(json|ndjson|jsonl|csv)$/i, '');
  let ndjsonParts;
  if (mode === 'online') {
    throw engineError('online_export', 'online exports are downloaded from the server');
  }
  {
    const f = compile(lastQuery, lastNow || Date.now());
    try {
      ndjsonParts = store.blocks.map((b) => asBytes(f.filterNdjson(b)));
    } finally {
      if (typeof f.free === 'function') f.free();
    }
  }
  const ndjson = concat(ndjsonParts);
  let out;
  if (format === 'ndjson') out = ndjson;
  else out = asBytes(pkg.convert(ndjson, { from: 'ndjson', to: format }));
  const ext = format === 'ndjson' ? 'ndjson' : format;
  return { bytes: out, fileName: `${base}-filtered.${ext}`, mime: format === 'csv' ? 'text/csv' : format === 'json' ? 'application/json' : 'application/x-ndjson' };
}

function asBytes(x) {
  return typeof x === 'string' ? new TextEncoder().encode(x) : x;
}

// --- online mode ---------------------------------------------------------------------------

const PAGE = 500;

async function connect({ url, token, query, from, to }) {
  mode = 'online';
  online = { url: url.replace(/\/+$/, ''), token, query: query || '', from, to, cursor: null };
  fileName = 'trailsift-export';
  return onlineQuery(online);
}

async function onlineQuery({ query, from, to }) {
  online.query = query || '';
  if (from !== undefined) online.from = from;
  if (to !== undefined) online.to = to;
  lastQuery = online.query;
  store.reset();
  const params = { q: online.query, from: online.from, to: online.to };
  const [page, byUser, byAction, byType, byModule, byTime] = await Promise.all([
    fetchEventsPage(online, { ...params, limit: PAGE }),
    fetchStats(online, { ...params, by: 'user' }),
    fetchStats(online, { ...params, by: 'action' }),
    fetchStats(online, { ...params, by: 'resource.type' }),
    fetchStats(online, { ...params, by: 'module' }),
    fetchStats(online, { ...params, by: bucketOf(params.from, params.to) }),
  ]);
  online.cursor = page.cursor || null;
  store.pushEvents(page.events || []);
  store.matchAll();
  store.sortMatches();
  const total = typeof byAction.total === 'number' ? byAction.total : sumCounts(byAction);
  online.stats = {
    total,
    facets: { user: topOf(byUser), action: topOf(byAction), resourceType: topOf(byType), module: topOf(byModule) },
    histogram: histogramOf(byTime),
  };
  return onlineView();
}

async function more() {
  if (mode !== 'online' || !online || !online.cursor) return onlineView();
  const page = await fetchEventsPage(online, { q: online.query, from: online.from, to: online.to, limit: PAGE, cursor: online.cursor });
  online.cursor = page.cursor || null;
  store.pushEvents(page.events || []);
  store.matchAll();
  store.sortMatches();
  return onlineView();
}

function onlineView() {
  const v = store.view();
  return { ...v, total: online.stats.total, count: online.stats.total, loaded: v.count, facets: online.stats.facets, histogram: online.stats.histogram, hasMore: !!online.cursor, online: true };
}

function statRows(stats) {
  const rows = stats && (stats.buckets || stats.counts || stats.values || stats.rows || stats);
  if (Array.isArray(rows)) return rows.map((r) => ({ key: String(r.key ?? r.value ?? r.bucket ?? r.name ?? r.time ?? ''), count: Number(r.count ?? r.n ?? 0), start: typeof r.value === 'number' ? r.value : (r.start ?? r.time ?? r.key) }));
  if (rows && typeof rows === 'object') return Object.entries(rows).map(([key, count]) => ({ key, count: Number(count), start: key }));
  return [];
}
function sumCounts(stats) { return statRows(stats).reduce((a, r) => a + r.count, 0); }
function topOf(stats) { return statRows(stats).sort((a, b) => b.count - a.count).slice(0, 10).map((r) => ({ value: r.key, count: r.count })); }
// Hour buckets up to two weeks, day buckets beyond (the server's `by=hour|day`).
function bucketOf(from, to) {
  const now = Date.now();
  const at = (t) => {
    if (!t || t === 'now') return now;
    const m = /^now-(\d+)([smhdw])$/.exec(t);
    if (m) return now - Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[m[2]];
    const v = /^\d+$/.test(t) ? Number(t) : Date.parse(t);
    return Number.isFinite(v) ? v : now;
  };
  return at(to) - at(from) > 14 * 86400e3 ? 'day' : 'hour';
}

function histogramOf(stats) {
  const width = stats && stats.by === 'day' ? 86400e3 : 3600e3;
  const rows = statRows(stats).map((r) => ({ t: typeof r.start === 'number' ? r.start : Date.parse(r.start) || Number(r.start), count: r.count })).filter((r) => Number.isFinite(r.t)).sort((a, b) => a.t - b.t);
  return { bucketMs: width, buckets: rows.map((r) => ({ start: r.t, end: r.t + width, count: r.count })) };
}

// --- dispatch ------------------------------------------------------------------------------

const ops = {
  async init() {
    await ready;
    return { engine: !!pkg, error: pkgError, exports: pkg ? Object.keys(pkg).sort() : [] };
  },
  loadFile: ({ file }) => loadFile(file),
  applyFilter,
  structuredToQuery,
  queryToStructured,
  rows: ({ start, end }) => store.rows(start, end),
  detail: ({ index }) => store.detail(index),
  sort: ({ column, dir }) => { store.setSort(column, dir); store.sortMatches(); return store.view(); },
  vocab: () => store.vocab(),
  // Memory held by the engine: the stored events and the wasm memory. With Chromium's
  // --js-flags=--expose-gc (the benchmark), garbage is collected first.
  memory: () => {
    if (typeof self.gc === 'function') self.gc();
    return {
      storeBytes: store.heldBytes(),
      wasmBytes: wasmExports && wasmExports.memory ? wasmExports.memory.buffer.byteLength : 0,
    };
  },
  exportView,
  // The server's JSON answer is a page object, so a JSON export is its NDJSON export
  // converted here, as `trailsift convert --to json` would.
  ndjsonToJson: async ({ bytes }) => {
    await ready;
    needPackage();
    return { bytes: asBytes(pkg.convert(bytes, { from: 'ndjson', to: 'json' })) };
  },
  connect,
  more,
};

self.onmessage = async (msg) => {
  const { id, op, args } = msg.data;
  try {
    const fn = ops[op];
    if (!fn) throw engineError('unknown_op', `unknown engine operation ${op}`);
    const result = await fn(args || {});
    const transfer = result && result.bytes instanceof Uint8Array ? [result.bytes.buffer] : [];
    postMessage({ id, ok: true, result }, transfer);
  } catch (e) {
    postMessage({ id, ok: false, error: e && e.data ? e.data : { code: 'error', message: String(e && e.message ? e.message : e) } });
  }
};
