// The page's engine, run in a Web Worker. It is the ONLY module that calls the trailsift
// package, so adapting to the package's exports is a change to this file alone. It reads a
// file through the package (`Input`: gzip, format and lines are the core's business), keeps
// its rows in the package's `Table` (lines plus columns; filters are decided there), and
// builds the views (store.js) so that the main thread never parses, filters or sorts.
//
// The same module also runs as a shard (a worker named `trailsift-shard`, one per core):
// it reads the columns of blocks of lines (`readBlock`, the costly part of loading) for
// the engine, which appends them in file order.

import { Store } from './store.js';
import { fetchEventsPage, fetchStats } from './api.js';
import { verifyEvidence } from './verify-engine.js';

const SHARD = self.name === 'trailsift-shard';
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

if (SHARD) {
  self.onmessage = async ({ data: { load, seq, block, firstLine } }) => {
    await ready;
    let columns = null;
    try { columns = pkg.readBlock(new Uint8Array(block), firstLine); } catch { /* the engine reads the block itself */ }
    postMessage({ load, seq, block, firstLine, columns }, columns ? [block, columns.buffer] : [block]);
  };
}

function needPackage() {
  if (!pkg) throw engineError('engine_missing', `the trailsift package is not loaded (${pkgError || 'unknown'}); build the page with "make www"`);
}

function engineError(code, message, extra = {}) {
  const e = new Error(message);
  e.data = { code, message, ...extra };
  return e;
}

// Any other error as plain data: the package's code and the fields that say where (a
// transform's key, entry, path or pattern).
function errorData(e) {
  const data = { code: 'error', message: String(e && e.message ? e.message : e) };
  if (e && typeof e === 'object') {
    for (const k of ['code', 'key', 'index', 'path', 'pattern']) if (e[k] !== undefined) data[k] = e[k];
  }
  return data;
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

let catalog = null;
let store = null;
let mode = 'local'; // 'local' | 'online'
let online = null; // {url, token, query, from, to, cursor, stats}
let fileName = 'events';
let loading = 0; // the load under way (a newer load or a connect ends it)
let wake = []; // resolvers of the load's waits for a shard

function progress(phase, done, total) {
  postMessage({ type: 'progress', phase, done, total });
}

// The columns the views read, named by what the form shows; the paths come from the
// package's field catalog (the structured filter's lists and the table's fields). The
// table's other fields are kept by path, for completion.
function viewColumns() {
  const path = Object.fromEntries(catalog.formLists.map((l) => [l.key, l.path]));
  const named = {
    time: catalog.tableFields[0], user: path.users, action: path.actions, rtype: path.resourceTypes,
    rid: path.resourceIdentifiers, org: path.organizations, project: path.projects, module: path.modules,
    ptype: path.principalTypes,
  };
  const taken = new Set(Object.values(named));
  for (const p of catalog.tableFields) if (!taken.has(p)) named[p] = p;
  return named;
}

// Replaces the view's filter (the store keeps the compiled filter until the next one).
function useFilter(query, now) {
  const f = query && query.trim() ? compile(query, now) : null;
  const old = store.filter;
  store.setFilter(f);
  if (old) old.free();
}

// --- reading files -------------------------------------------------------------------------

const SLICE = 1 << 20; // bytes of the file read at once
const PER_SHARD = 3; // blocks in flight per shard, which bounds the memory a load holds

let shards = [];
// One shard per core (at most 8), or `count` (the page's `?shards=N`, for benchmarks);
// with fewer than two the engine reads every block itself.
function startShards(count) {
  const n = Number.isInteger(count) ? Math.min(count, 8) : Math.min((self.navigator && navigator.hardwareConcurrency) || 1, 8);
  if (n < 2) return;
  for (let i = 0; i < n; i++) shards.push(new Worker(new URL(import.meta.url), { type: 'module', name: 'trailsift-shard' }));
}

// Posts a partial view while the file is read: the first as soon as there are rows, then
// at most every PARTIAL_MS (each counts the rows read so far; its first page is picked, not sorted: store.js firstByTime).
const PARTIAL_MS = 1000;

async function loadFile({ file, query, now }) {
  await ready;
  needPackage();
  const me = ++loading;
  // An earlier load still waiting for shards wakes up, sees it was replaced and stops.
  for (const w of wake.splice(0)) w();
  mode = 'local';
  online = null;
  fileName = file.name || 'events';
  store.reset();
  useFilter(query, now);
  const input = new pkg.Input(fileName);
  const total = file.size;
  const errors = [];
  let seq = 0, next = 0, inFlight = 0, lastView = 0, read = 0;
  const done = new Map(); // seq -> [block, firstLine, columns] read by a shard, not yet appended
  const stillMine = () => { if (me !== loading) throw engineError('cancelled', 'another file was opened'); };
  const slot = () => new Promise((r) => wake.push(r));

  // Where the load's time went, in ms (for the benchmark): appending blocks to the table,
  // the partial views, the final view.
  const timing = { append: 0, partialViews: 0, finalView: 0, total: 0, shards: shards.length };
  const started = performance.now();
  const append = (block, firstLine, columns) => {
    const t1 = performance.now();
    store.push(block, firstLine, columns);
    timing.append += performance.now() - t1;
    const t = performance.now();
    if (store.n && (!lastView || t - lastView > PARTIAL_MS)) {
      lastView = t;
      postMessage({ type: 'view', view: { ...store.view({ partial: true }), loading: true, read, size: total } });
      timing.partialViews += performance.now() - t;
    }
  };
  for (const s of shards) {
    s.onmessage = ({ data }) => {
      if (data.load !== me) return;
      inFlight--;
      done.set(data.seq, [new Uint8Array(data.block), data.firstLine, data.columns]);
      while (done.has(next)) {
        append(...done.get(next));
        done.delete(next++);
      }
      for (const w of wake.splice(0)) w();
    };
  }
  const dispatch = async (lines) => {
    if (!lines.length) return;
    const firstLine = input.firstLine;
    if (!shards.length) return append(lines, firstLine);
    while (inFlight >= shards.length * PER_SHARD) { await slot(); stillMine(); }
    inFlight++;
    const s = seq++;
    shards[s % shards.length].postMessage({ load: me, seq: s, block: lines.buffer, firstLine }, [lines.buffer]);
  };

  let format, gzip;
  try {
    let pending = total ? file.slice(0, SLICE).arrayBuffer() : null;
    for (let at = 0; at < total; at += SLICE) {
      const bytes = new Uint8Array(await pending);
      stillMine();
      pending = at + SLICE < total ? file.slice(at + SLICE, at + 2 * SLICE).arrayBuffer() : null;
      await dispatch(input.push(bytes));
      errors.push(...input.takeErrors());
      read = Math.min(total, at + SLICE);
      progress('read', read, total);
    }
    await dispatch(input.finish());
    errors.push(...input.takeErrors());
    while (inFlight > 0) { await slot(); stillMine(); }
    format = input.format || 'ndjson';
    gzip = !!input.gzip;
  } finally {
    input.free();
  }
  const t3 = performance.now();
  const view = store.view();
  timing.finalView = performance.now() - t3;
  timing.total = performance.now() - started;
  const unread = store.table.unread();
  const skipped = [...errors, ...unread].map((e) => ({ line: e.line, message: e.message })).sort((a, b) => a.line - b.line);
  return {
    events: store.n - unread.length,
    bytes: store.bytes,
    format,
    gzip,
    fileName,
    rejectedCount: skipped.length,
    rejected: skipped.slice(0, 20),
    view,
    timing,
  };
}

// --- filtering -----------------------------------------------------------------------------

// `structured`: the answer also carries the filter's structured form (as queryToStructured
// gives it), so that Enter in the query bar costs one compile and one round trip.
async function applyFilter({ query, now, from, to, structured }) {
  await ready;
  if (mode === 'online') return onlineQuery({ query: query || '', from: from ?? online.from, to: to ?? online.to });
  const t0 = performance.now();
  useFilter(query || '', now);
  const view = { ...store.view(), ms: performance.now() - t0 };
  if (structured) view.structured = store.filter ? store.filter.toStructured() : {};
  return view;
}

// The query text that a structured (form) filter compiles to, and back: the package maps a
// filter to the form's fields (the rest in `query`), or gives null when the form shows none of it.
async function structuredToQuery({ structured, now }) {
  await ready;
  const f = compile(structured, now);
  try {
    return { query: f.toQuery() };
  } finally {
    f.free();
  }
}

async function queryToStructured({ query, now }) {
  await ready;
  const f = compile(query, now);
  try {
    return { structured: f.toStructured() };
  } finally {
    f.free();
  }
}

// Times typed into the form, read as the filter reads them: `{ ok: ms }` or `{ error }`.
async function parseTimes({ times, now }) {
  await ready;
  needPackage();
  const out = {};
  for (const [key, { text, end }] of Object.entries(times)) {
    try {
      out[key] = { ok: pkg.parseTime(text, { now, end }) };
    } catch (e) {
      out[key] = { error: String(e && e.message ? e.message : e) };
    }
  }
  return out;
}

const MIME = { csv: 'text/csv', json: 'application/json', ndjson: 'application/x-ndjson' };

async function exportView({ format, transform, key }) {
  await ready;
  needPackage();
  if (mode === 'online') throw engineError('online_export', 'online exports are downloaded from the server');
  const base = fileName.replace(/\.gz$/i, '').replace(/\.(json|ndjson|jsonl|csv)$/i, '');
  const ndjson = store.lines();
  const out = format === 'ndjson' && !transform ? ndjson : convertNdjson(ndjson, format, transform, key);
  return { bytes: out, fileName: `${base}-filtered.${format}`, mime: MIME[format] };
}

// NDJSON to `format` by the package, shaped by `transform` (formats.md section 4) with the
// pseudonymisation `key`, which is used for this call only and kept nowhere.
function convertNdjson(bytes, format, transform, key) {
  const options = { from: 'ndjson', to: format };
  if (transform) Object.assign(options, { transform }, key ? { pseudonymizeKey: key } : {});
  return asBytes(pkg.convert(bytes, options));
}

function asBytes(x) {
  return typeof x === 'string' ? new TextEncoder().encode(x) : x;
}

// --- online mode ---------------------------------------------------------------------------

const PAGE = 500;
// The server's counts (`by` of GET /v1/stats) the online view's facets show.
const FACET_BY = { user: 'user', action: 'action', resourceType: 'resource.type', module: 'module' };

async function connect({ url, token, query, from, to }) {
  await ready;
  loading++;
  for (const w of wake.splice(0)) w();
  mode = 'online';
  online = { url: url.replace(/\/+$/, ''), token, query: query || '', from, to, cursor: null };
  fileName = 'trailsift-export';
  return onlineQuery(online);
}

// Server pages arrive as event objects; they become NDJSON lines of the table like a file's.
function pushEvents(events) {
  if (!events.length) return;
  store.push(new TextEncoder().encode(events.map((e) => JSON.stringify(e)).join('\n') + '\n'), 1);
}

async function onlineQuery({ query, from, to }) {
  online.query = query || '';
  if (from !== undefined) online.from = from;
  if (to !== undefined) online.to = to;
  store.reset();
  const params = { q: online.query, from: online.from, to: online.to };
  const facets = Object.entries(FACET_BY);
  const [page, byTime, ...byFacet] = await Promise.all([
    fetchEventsPage(online, { ...params, limit: PAGE }),
    fetchStats(online, { ...params, by: bucketOf(params.from, params.to) }),
    ...facets.map(([, by]) => fetchStats(online, { ...params, by })),
  ]);
  online.cursor = page.cursor || null;
  pushEvents(page.events || []);
  const byAction = byFacet[facets.findIndex(([facet]) => facet === 'action')];
  const total = typeof byAction.total === 'number' ? byAction.total : sumCounts(byAction);
  online.stats = {
    total,
    facets: Object.fromEntries(facets.map(([facet], i) => [facet, topOf(byFacet[i])])),
    histogram: histogramOf(byTime),
  };
  return onlineView();
}

async function more() {
  if (mode !== 'online' || !online || !online.cursor) return onlineView();
  const page = await fetchEventsPage(online, { q: online.query, from: online.from, to: online.to, limit: PAGE, cursor: online.cursor });
  online.cursor = page.cursor || null;
  pushEvents(page.events || []);
  return onlineView();
}

function onlineView() {
  const v = store.view();
  return { ...v, total: online.stats.total, count: online.stats.total, loaded: v.count, facets: online.stats.facets, histogram: online.stats.histogram, hasMore: !!online.cursor, online: true };
}

// Live events (the texts of the stream's messages, in commit order) join the rows: the
// package reads them as one JSON array into NDJSON lines, as it reads a file, and the
// view's count, facets and histogram take them in.
async function appendEvents({ texts }) {
  await ready;
  needPackage();
  if (mode !== 'online' || !online) throw engineError('not_online', 'live events need a connection to a Worker');
  const input = new pkg.Input('live.json');
  let lines, skipped;
  try {
    const head = input.push(new TextEncoder().encode(`[${texts.join(',')}]`));
    const tail = input.finish();
    lines = new Uint8Array(head.length + tail.length);
    lines.set(head);
    lines.set(tail, head.length);
    skipped = input.takeErrors().map((e) => ({ line: e.line, message: e.message }));
  } finally {
    input.free();
  }
  const from = store.n;
  if (lines.length) store.push(lines, 1);
  countLive(from);
  return { ...onlineView(), added: store.n - from, skipped };
}

// Adds rows `from`.. of the store to the server's counts the online view shows, each facet
// from the column of the field the server counts for it (the package's `countPath`: `user`
// counts the principal's identifier, not the email the table shows).
function countLive(from) {
  const s = online.stats;
  s.total += store.n - from;
  for (const [facet, by] of Object.entries(FACET_BY)) {
    const path = pkg.countPath(by);
    const column = Object.keys(store.names).find((c) => store.names[c] === path);
    if (!column) continue;
    const counts = new Map(s.facets[facet].map((f) => [f.value, f.count]));
    for (let i = from; i < store.n; i++) {
      const v = store.value(column, i);
      if (v) counts.set(v, (counts.get(v) || 0) + 1);
    }
    s.facets[facet] = [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count).slice(0, 10);
  }
  const h = s.histogram;
  for (let i = from; i < store.n; i++) {
    const t = store.times.a[i];
    if (!Number.isFinite(t)) continue;
    const start = Math.floor(t / h.bucketMs) * h.bucketMs;
    const b = h.buckets.find((x) => x.start === start);
    if (b) b.count++;
    else h.buckets.push({ start, end: start + h.bucketMs, count: 1 });
  }
  h.buckets.sort((a, b) => a.start - b.start);
}

function statRows(stats) {
  const rows = stats && (stats.buckets || stats.counts || stats.values || stats.rows || stats);
  if (Array.isArray(rows)) return rows.map((r) => ({ key: String(r.key ?? r.value ?? r.bucket ?? r.name ?? r.time ?? ''), count: Number(r.count ?? r.n ?? 0), start: typeof r.value === 'number' ? r.value : (r.start ?? r.time ?? r.key) }));
  if (rows && typeof rows === 'object') return Object.entries(rows).map(([key, count]) => ({ key, count: Number(count), start: key }));
  return [];
}
function sumCounts(stats) { return statRows(stats).reduce((a, r) => a + r.count, 0); }
function topOf(stats) { return statRows(stats).sort((a, b) => b.count - a.count).slice(0, 10).map((r) => ({ value: r.key, count: r.count })); }

// A time of the server's answer or of the form, read as the filter reads times; NaN if none.
function timeOf(t, now = Date.now(), end = false) {
  if (typeof t === 'number') return t;
  try { return pkg.parseTime(String(t), { now, end }); } catch { return NaN; }
}

// Hour buckets up to two weeks, day buckets beyond (the server's `by=hour|day`).
function bucketOf(from, to) {
  const now = Date.now();
  const span = timeOf(to || 'now', now, true) - timeOf(from || 'now', now);
  return span > 14 * 86400e3 ? 'day' : 'hour';
}

function histogramOf(stats) {
  const width = stats && stats.by === 'day' ? 86400e3 : 3600e3;
  const rows = statRows(stats).map((r) => ({ t: timeOf(r.start), count: r.count })).filter((r) => Number.isFinite(r.t)).sort((a, b) => a.t - b.t);
  return { bucketMs: width, buckets: rows.map((r) => ({ start: r.t, end: r.t + width, count: r.count })) };
}

// --- dispatch ------------------------------------------------------------------------------

const ops = {
  async init({ shards: count }) {
    await ready;
    if (pkg) {
      catalog = pkg.fieldCatalog();
      store = new Store(pkg, viewColumns());
      startShards(count);
    }
    return { engine: !!pkg, error: pkgError, catalog, shards: shards.length };
  },
  loadFile,
  applyFilter,
  structuredToQuery,
  queryToStructured,
  parseTimes,
  rows: ({ start, end }) => store.rows(start, end),
  detail: ({ index }) => store.detail(index),
  sort: ({ column, dir }) => { store.setSort(column, dir); return store.view(); },
  vocab: () => store.vocab(),
  // Memory held by the engine: the views' columns and the wasm memory (the lines and the
  // table). With Chromium's --js-flags=--expose-gc (the benchmark), garbage is collected first.
  memory: () => {
    if (typeof self.gc === 'function') self.gc();
    return {
      storeBytes: store.heldBytes(),
      wasmBytes: wasmExports && wasmExports.memory ? wasmExports.memory.buffer.byteLength : 0,
    };
  },
  exportView,
  // An online export fetched as NDJSON, converted (and transformed) here.
  convertExport: async ({ bytes, format, transform, key }) => {
    await ready;
    needPackage();
    return { bytes: convertNdjson(bytes, format, transform, key), mime: MIME[format] };
  },
  connect,
  more,
  appendEvents,
  verifyEvidence,
};

if (!SHARD) {
  self.onmessage = async (msg) => {
    const { id, op, args } = msg.data;
    try {
      const fn = ops[op];
      if (!fn) throw engineError('unknown_op', `unknown engine operation ${op}`);
      const result = await fn(args || {});
      const transfer = result && result.bytes instanceof Uint8Array ? [result.bytes.buffer] : [];
      postMessage({ id, ok: true, result }, transfer);
    } catch (e) {
      postMessage({ id, ok: false, error: e && e.data ? e.data : errorData(e) });
    }
  };
}
