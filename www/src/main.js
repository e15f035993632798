// The page: wires the form, the query bar, the views and the engine worker together. Event
// data is only ever written with textContent.

import { Engine } from './engine-client.js';
import { VirtualTable } from './table.js';
import { Histogram } from './histogram.js';
import { Facets, setText } from './facets.js';
import { readForm, writeForm, isEmpty, splitList, customTimes, showTimeErrors } from './form.js';
import { QueryBar } from './querybar.js';
import { downloadExport } from './api.js';
import { SavedFilters } from './saved.js';
import { TokensPanel } from './tokens.js';
import { setupExportDialog } from './export-dialog.js';
import { fmtCount, fmtBytes } from './format.js';
import { LiveTail } from './live.js';
import { setupDestinations } from './destinations.js';
import { setupVerifyDialog } from './verify.js';

const $ = (id) => document.getElementById(id);

// Test and benchmark hooks: counters that move when a load or a filter run has finished;
// `partialViews` counts the views shown while a file was still being read; `loadTiming`
// says where the last load's time went.
window.__trailsift = { seq: 0, runs: 0, loadedMs: 0, events: 0, lastRunMs: 0, partialViews: 0 };

const state = {
  mode: 'local',
  loaded: false,
  conn: null,
  extraQuery: '',
  applied: '',
  busy: 0,
  engineReady: false,
  catalog: null,
  loadingFile: null, // the file being read, while its partial views come in
};

const progressBar = $('progress');
const statusBox = $('status');
const engine = new Engine((p) => {
  progressBar.hidden = false;
  progressBar.max = p.total || 1;
  progressBar.value = p.done;
  progressBar.setAttribute('aria-valuetext', `read ${fmtBytes(p.done)} of ${fmtBytes(p.total)}`);
  setStatus(`Reading… ${fmtBytes(p.done)} of ${fmtBytes(p.total)}`);
}, (v) => {
  // The rows read so far, shown while the rest of the file is read.
  if (!state.loadingFile) return;
  window.__trailsift.partialViews++;
  showView(v, true);
});

function setStatus(text, isError = false) {
  statusBox.textContent = text;
  statusBox.classList.toggle('error', isError);
}

function setBusy(on) {
  state.busy += on ? 1 : -1;
  document.body.classList.toggle('busy', state.busy > 0);
  document.body.setAttribute('aria-busy', state.busy > 0 ? 'true' : 'false');
  if (!state.busy) progressBar.hidden = true;
}

// --- views ---------------------------------------------------------------------------------

const form = $('filter-form');
const table = new VirtualTable({
  root: $('results'),
  viewport: $('viewport'),
  spacer: $('spacer'),
  fetchRows: (start, end) => engine.call('rows', { start, end }),
  onOpen: (row) => openDetail(row),
  onEnd: () => { if (state.hasMore && !state.loadingMore) loadMore(); },
  onSort: async (column, dir) => {
    const v = await engine.call('sort', { column, dir });
    table.setSort(v.sort);
    table.reset(state.mode === 'online' ? v.count : v.count);
  },
});

const queryBar = new QueryBar({
  input: $('query'),
  mirror: $('query-mirror'),
  list: $('completions'),
  errorBox: $('query-error'),
  onApply: () => applyTypedQuery(),
});

const histogram = new Histogram($('histogram'), $('histogram-caption'), (start, end) => pickTime(start, end));
const facets = new Facets($('facets'), (formKey, value) => pickFacet(formKey, value));

function showView(v, keepScroll = false) {
  const count = v.count;
  const rc = $('result-count');
  setText(rc, `${count} ${count === 1 ? 'event' : 'events'}`);
  rc.dataset.count = String(count);
  const extra = [];
  if (v.online) extra.push(`${fmtCount(v.loaded)} loaded from the server`);
  else if (v.loading) extra.push(`of ${fmtCount(v.total)} read so far`);
  else extra.push(`of ${fmtCount(v.total)} in the file`);
  if (v.ms !== undefined) extra.push(`filtered in ${Math.round(v.ms)} ms`);
  setText($('result-extra'), extra.join(' · '));
  histogram.show(v.histogram);
  facets.show(v.facets);
  table.setSort(v.sort);
  table.reset(v.online ? v.loaded : count, keepScroll, v.page);
  $('load-more').hidden = !v.hasMore;
  state.hasMore = !!v.hasMore;
  for (const f of ['csv', 'json', 'ndjson', 'options']) $(`export-${f}`).disabled = !state.loaded || !!v.loading;
}

async function openDetail(row) {
  const d = await engine.call('detail', { index: row.index });
  $('detail-json').textContent = d.json;
  $('detail').hidden = false;
  $('detail-title').textContent = `Event ${row.action || ''} ${row.resource || ''}`.trim();
}
$('detail-close').addEventListener('click', () => { $('detail').hidden = true; $('viewport').focus(); });
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !$('detail').hidden && !e.target.closest('.query-box')) { $('detail').hidden = true; $('viewport').focus(); }
});

// --- filtering -----------------------------------------------------------------------------

function timeParams(s) {
  if (state.mode !== 'online') return {};
  return { from: s.from || 'now-730d', to: s.to || 'now' };
}

// Runs `query` and shows the result; a filter error is shown under the query bar.
// `started`: the engine's answer when it was asked already.
async function runQuery(query, structured, started = null, t0 = performance.now()) {
  if (!state.loaded) { window.__trailsift.runs++; return false; }
  setBusy(true);
  // A live view stops while the server's answer replaces the rows, and starts again with
  // the new filter.
  const wasLive = live.on;
  if (wasLive) live.stop();
  try {
    const v = await (started || engine.call('applyFilter', { query, now: Date.now(), ...timeParams(structured || readForm(form, '')) }));
    state.applied = query;
    queryBar.clearError();
    showView(v);
    if (wasLive) startLive();
    return true;
  } catch (e) {
    if (e.data && e.data.filterError) queryBar.showError(e.data.filterError);
    else setStatus(e.message, true);
    return false;
  } finally {
    setBusy(false);
    window.__trailsift.lastRunMs = performance.now() - t0;
    window.__trailsift.runs++;
  }
}

// The custom time range as the filter reads times; false (and the fields marked) when a
// time is not one the filter takes.
async function timesOk() {
  const times = customTimes(form);
  if (!Object.keys(times).length) { showTimeErrors(form, {}); return true; }
  const read = await engine.call('parseTimes', { times, now: Date.now() });
  const errors = Object.fromEntries(Object.entries(read).filter(([, r]) => r.error).map(([k, r]) => [k, r.error]));
  showTimeErrors(form, errors);
  return !Object.keys(errors).length;
}

// The query text of the form's filter (its structured filter compiled by the package).
async function formQuery(s) {
  return isEmpty(s) ? '' : (await engine.call('structuredToQuery', { structured: s, now: Date.now() })).query;
}

// The form changed: it becomes a structured filter, whose query text fills the query bar.
async function applyForm() {
  if (!(await timesOk())) { window.__trailsift.runs++; return; }
  const s = readForm(form, state.extraQuery);
  let query = '';
  try {
    query = await formQuery(s);
  } catch (e) {
    if (e.data && e.data.filterError) queryBar.showError(e.data.filterError);
    else setStatus(e.message, true);
    window.__trailsift.runs++;
    return;
  }
  queryBar.value = query;
  await runQuery(query, s);
}

// Enter in the query bar: the query is applied and the form shows it when it can.
async function applyTypedQuery() {
  const t0 = performance.now();
  const query = queryBar.value;
  // A file's filter does not depend on the form: it runs at once, and its answer brings the
  // form's fields too (one compile, one round trip to the engine).
  const started = state.loaded && state.mode === 'local' ? engine.call('applyFilter', { query, now: Date.now(), structured: true }) : null;
  if (started) started.catch(() => {});
  let structured = null;
  if (query.trim()) {
    try {
      structured = (await (started || engine.call('queryToStructured', { query, now: Date.now() }))).structured;
    } catch (e) {
      if (e.data && e.data.filterError) { queryBar.showError(e.data.filterError); window.__trailsift.runs++; return; }
    }
  } else {
    structured = {};
  }
  const note = $('form-note');
  // The form shows what it can; the rest of the query (`query` of the structured filter) stays
  // beside it so that editing the form never drops it.
  const { query: rest, ...shown } = structured || {};
  if (structured && !rest) {
    writeForm(form, structured);
    state.extraQuery = '';
    note.hidden = true;
  } else {
    const range = form.elements.range.value;
    writeForm(form, shown);
    if (state.mode === 'online' && !shown.from && !shown.to) form.elements.range.value = range;
    state.extraQuery = structured ? rest : query;
    note.textContent = 'The query holds more than the form can show; the form adds to it.';
    note.hidden = false;
  }
  toggleCustom();
  await runQuery(query, structured && (!rest || shown.from || shown.to) ? shown : readForm(form, ''), started, t0);
}

$('query-form').addEventListener('submit', (e) => { e.preventDefault(); applyTypedQuery(); });
let formTimer = 0;
form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(formTimer); applyForm(); });
form.addEventListener('input', (e) => {
  if (e.target.type === 'text' || e.target.tagName === 'INPUT' && !e.target.type.match(/checkbox|radio/)) {
    clearTimeout(formTimer);
    formTimer = setTimeout(applyForm, 400);
  }
});
form.addEventListener('change', (e) => {
  if (e.target.id === 'f-range') toggleCustom();
  if (e.target.type === 'checkbox' || e.target.tagName === 'SELECT') {
    clearTimeout(formTimer);
    applyForm();
  }
});
$('clear-form').addEventListener('click', () => {
  writeForm(form, state.mode === 'online' ? { from: 'now-7d' } : {});
  state.extraQuery = '';
  $('form-note').hidden = true;
  toggleCustom();
  applyForm();
});

function toggleCustom() {
  $('custom-range').hidden = form.elements.range.value !== 'custom';
}

function pickFacet(formKey, value) {
  const input = form.elements[formKey];
  const list = splitList(input.value);
  if (!list.includes(value)) list.push(value);
  input.value = list.join(', ');
  applyForm();
}

function pickTime(start, end) {
  form.elements.range.value = 'custom';
  form.elements.from.value = new Date(start).toISOString();
  form.elements.to.value = new Date(end).toISOString();
  toggleCustom();
  applyForm();
}

// --- loading -------------------------------------------------------------------------------

async function openFile(file) {
  if (!file) return;
  setBusy(true);
  const t0 = performance.now();
  setStatus(`Opening ${file.name}…`);
  state.loadingFile = file;
  try {
    // The file's first rows are shown with the form's filter while the rest is read.
    const query = (await timesOk()) ? await formQuery(readForm(form, state.extraQuery)) : '';
    queryBar.value = query;
    state.applied = query;
    const info = await engine.call('loadFile', { file, query, now: Date.now() });
    state.loadingFile = null;
    state.loaded = true;
    state.mode = 'local';
    showOnlineTools(false);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    let msg = `${file.name}: ${fmtCount(info.events)} events (${info.format}${info.gzip ? ', gzip' : ''}, ${fmtBytes(file.size)}) read in ${secs} s`;
    if (info.rejectedCount) msg += `; ${fmtCount(info.rejectedCount)} lines skipped (first at line ${info.rejected[0].line}: ${info.rejected[0].message})`;
    setStatus(msg);
    document.title = `${file.name} — trailsift`;
    showView(info.view);
    window.__trailsift.loadedMs = performance.now() - t0;
    window.__trailsift.events = info.events;
    window.__trailsift.loadTiming = info.timing;
    refreshVocab();
  } catch (e) {
    if (e.data && e.data.code === 'cancelled') return;
    if (e.data && e.data.filterError) queryBar.showError(e.data.filterError);
    setStatus(`Could not open ${file.name}: ${e.message}`, true);
  } finally {
    if (state.loadingFile === file) state.loadingFile = null;
    setBusy(false);
    window.__trailsift.seq++;
  }
}

// Known values for the query bar's completion and the form's lists: the file's values
// (most frequent first) and the catalog's vocabulary, by field path.
async function refreshVocab() {
  const fileValues = await engine.call('vocab');
  const { vocabulary, formLists } = state.catalog;
  const merged = {};
  for (const { key, path } of formLists) {
    merged[path] = [...new Set([...(fileValues[path] || []), ...(vocabulary[key] || [])])];
    const dl = $(`dl-${key}`);
    if (!dl) continue;
    dl.replaceChildren();
    for (const val of merged[path].slice(0, 200)) {
      const o = document.createElement('option');
      o.value = val;
      dl.appendChild(o);
    }
  }
  for (const [path, values] of Object.entries(fileValues)) if (!merged[path]) merged[path] = values;
  queryBar.setVocab(merged);
}

$('file').addEventListener('change', (e) => openFile(e.target.files[0]));
let dragDepth = 0;
document.addEventListener('dragenter', (e) => { e.preventDefault(); dragDepth++; $('drop-overlay').hidden = false; });
document.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; $('drop-overlay').hidden = true; } });
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  $('drop-overlay').hidden = true;
  const f = e.dataTransfer && e.dataTransfer.files[0];
  // Files dropped on the verify dialog are its own (verify.js).
  if (f && !$('verify-dialog').open) { selectTab('local'); openFile(f); }
});

// --- export --------------------------------------------------------------------------------

// Exports the filtered events as `format`, shaped by `transform` (formats.md section 4,
// applied by the package) with the pseudonymisation `key` when given. Throws what the
// engine refused.
async function exportView({ format, transform, key }) {
  setBusy(true);
  try {
    if (state.mode === 'online') {
      const s = readForm(form, state.extraQuery);
      // The server's JSON answer is a page object, and a transform's key must not leave the
      // page: such exports are fetched as NDJSON and converted by the package here.
      const direct = format !== 'json' && !transform;
      const wire = direct ? format : 'ndjson';
      const { blob, fileName } = await downloadExport(state.conn, { q: state.applied, ...timeParams(s), format: wire });
      if (direct) {
        save(blob, fileName);
        return;
      }
      const r = await engine.call('convertExport', { bytes: new Uint8Array(await blob.arrayBuffer()), format, transform, key });
      save(new Blob([r.bytes], { type: r.mime }), `${fileName.replace(/\.ndjson$/, '')}.${format}`);
    } else {
      const r = await engine.call('exportView', { format, transform, key });
      save(new Blob([r.bytes], { type: r.mime }), r.fileName);
    }
  } finally {
    setBusy(false);
  }
}

async function exportAs(format) {
  try {
    await exportView({ format });
  } catch (e) {
    setStatus(`Export failed: ${e.message}`, true);
  }
}

function save(blob, fileName) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

for (const f of ['csv', 'json', 'ndjson']) $(`export-${f}`).addEventListener('click', () => exportAs(f));
setupExportDialog({
  opener: $('export-options'),
  dialog: $('export-dialog'),
  paths: () => (state.catalog ? state.catalog.fields.map((f) => f.path) : []),
  run: exportView,
});

// --- online mode ---------------------------------------------------------------------------

function selectTab(which) {
  for (const w of ['local', 'online']) {
    $(`tab-${w}`).setAttribute('aria-selected', String(w === which));
    $(`src-${w}`).hidden = w !== which;
  }
  form.elements.range.options[0].textContent = which === 'online' ? 'Last 2 years' : 'Whole file';
}
$('tab-local').addEventListener('click', () => selectTab('local'));
$('tab-online').addEventListener('click', () => selectTab('online'));
for (const t of ['tab-local', 'tab-online']) {
  $(t).addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const other = t === 'tab-local' ? 'online' : 'local';
      selectTab(other);
      $(`tab-${other}`).focus();
    }
  });
}

// Served by the Worker, the page's own origin is the API.
if (location.protocol.startsWith('http')) $('api-url').value = sessionStorage.getItem('trailsift.url') || location.origin;

$('connect-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const url = $('api-url').value.trim().replace(/\/+$/, '');
  const token = $('api-token').value;
  sessionStorage.setItem('trailsift.url', url);
  state.conn = { url, token };
  showOnlineTools(false);
  writeForm(form, { from: 'now-7d' });
  toggleCustom();
  const s = readForm(form, '');
  setBusy(true);
  try {
    let query = '';
    try { query = (await engine.call('structuredToQuery', { structured: s, now: Date.now() })).query; } catch { query = ''; }
    queryBar.value = query;
    const v = await engine.call('connect', { url, token, query, ...{ from: s.from, to: s.to || 'now' } });
    state.mode = 'online';
    state.loaded = true;
    state.applied = query;
    setStatus(`Connected to ${url}`);
    showView(v);
    showOnlineTools(true);
    refreshVocab();
    saved.refresh();
    tokensPanel.show();
  } catch (err) {
    setStatus(`Could not connect: ${err.message}`, true);
  } finally {
    setBusy(false);
    window.__trailsift.runs++;
  }
});

// Online: the next page of the server's answer, when asked or when the table reaches its end.
async function loadMore() {
  state.loadingMore = true;
  try {
    const top = $('viewport').scrollTop;
    const v = await engine.call('more');
    showView(v, true);
    $('viewport').scrollTop = top;
  } catch (e) {
    setStatus(`Could not load more events: ${e.message}`, true);
  } finally {
    state.loadingMore = false;
  }
}
$('load-more').addEventListener('click', loadMore);

// --- live view and destinations (online mode) ---------------------------------------------

const liveToggle = $('live-toggle');
const liveState = $('live-state');
const LIVE_TEXT = { off: '', connecting: 'Connecting…', live: 'Live: new events appear at the top', reconnecting: 'Connection lost; resuming…', failed: 'Live view failed' };
const live = new LiveTail({
  conn: () => state.conn,
  onEvents: async (texts) => {
    try {
      const v = await engine.call('appendEvents', { texts });
      showView(v, true);
      window.__trailsift.liveRows += v.added;
      if (v.skipped.length) setStatus(`Live: ${v.skipped.length} events could not be read (${v.skipped[0].message})`, true);
    } catch (e) {
      setStatus(`Live: ${e.message}`, true);
    }
  },
  onDropped: (n) => {
    $('live-banner-text').textContent = `The server dropped ${fmtCount(n)} live ${n === 1 ? 'event' : 'events'} because the page fell behind; they are being read again from the last event shown.`;
    $('live-banner').hidden = false;
  },
  onState: (st, message) => {
    liveState.dataset.state = st;
    liveState.textContent = message ? `${LIVE_TEXT[st]} (${message})` : LIVE_TEXT[st];
    liveToggle.setAttribute('aria-pressed', String(st !== 'off' && st !== 'failed'));
  },
});
window.__trailsift.liveRows = 0;
window.__trailsift.live = live.stats;

function startLive() {
  live.start(state.applied);
}
liveToggle.addEventListener('click', () => {
  if (live.on) live.stop();
  else startLive();
});
$('live-banner-close').addEventListener('click', () => { $('live-banner').hidden = true; liveToggle.focus(); });

function showOnlineTools(on) {
  if (!on) live.stop();
  $('online-tools').hidden = !on;
}

setupDestinations({
  opener: $('open-destinations'),
  dialog: $('destinations-dialog'),
  conn: () => state.conn,
});

// --- saved filters -------------------------------------------------------------------------

const saved = new SavedFilters({
  list: $('saved-list'),
  conn: () => (state.mode === 'online' ? state.conn : null),
  onApply: (f) => {
    queryBar.value = f.query || '';
    applyTypedQuery();
  },
  onError: (msg) => setStatus(msg, true),
});
$('save-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('save-name').value.trim();
  const visibility = e.target.elements.visibility.value;
  if (!name) return;
  await saved.save({ name, query: queryBar.value, structured: readForm(form, state.extraQuery), visibility });
  $('save-name').value = '';
});
saved.refresh();

// --- API tokens (online mode) -------------------------------------------------------------

const tokensPanel = new TokensPanel({
  root: $('tokens'),
  conn: () => (state.mode === 'online' ? state.conn : null),
  onError: (msg) => setStatus(msg, true),
});

// --- start ---------------------------------------------------------------------------------

// --- verify evidence -----------------------------------------------------------------------

setupVerifyDialog({
  opener: $('verify-open'),
  dialog: $('verify-dialog'),
  run: (inputs) => engine.call('verifyEvidence', inputs),
  workerUrl: () => (state.conn ? state.conn.url : ''),
});

// For the benchmark: memory the engine holds (see engine-worker.js `memory`).
window.__trailsift.memory = () => engine.call('memory');

// `?shards=N` sets how many workers read the columns of a file (benchmarks compare counts).
const shardsParam = new URLSearchParams(location.search).get('shards');
engine.call('init', { shards: shardsParam === null ? undefined : Number(shardsParam) }).then((info) => {
  state.engineReady = info.engine;
  if (info.engine) {
    state.catalog = info.catalog;
    queryBar.setCatalog(info.catalog);
    refreshVocab();
  }
  document.body.dataset.engine = info.engine ? 'ready' : 'missing';
  if (!info.engine) setStatus(`The filter engine is not available: ${info.error}`, true);
}).catch((e) => setStatus(`The engine failed to start: ${e.message}`, true));
