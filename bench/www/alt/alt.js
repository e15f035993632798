// The two baselines of bench/www/bench.mjs, run in the same browser as the page: what an
// analyst could write instead of trailsift's page for the same view (count, newest 100 rows,
// top 10 of four fields, a time histogram).
//   ?engine=plain   stream + JSON.parse on the main thread, events kept as objects
//   ?engine=duckdb  the same parse, fields into Arrow columns, queried by DuckDB-wasm
// (DuckDB's own JSON reader is an extension downloaded at run time, which fails offline.)
// Answers: window.__alt = { readyMs, firstRowsMs, events, run(name) -> { ms, count } }.

import * as duckdb from '@duckdb/duckdb-wasm';
import { tableFromArrays } from 'apache-arrow';

const engine = new URLSearchParams(location.search).get('engine') || 'plain';
const LOGIN = ['LOGIN', 'LOGIN2FA', 'UNSUCCESSFUL_LOGIN'];
const $ = (id) => document.getElementById(id);
window.__alt = { engine };

const timeOf = (t) => (typeof t === 'number' ? t : /^\d+$/.test(t) ? Number(t) : Date.parse(t));

// Every line of the file, parsed as it streams in.
async function eachEvent(file, f) {
  const reader = file.stream().pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = rest + value;
    const lines = text.split('\n');
    rest = lines.pop();
    for (const line of lines) if (line.trim()) f(JSON.parse(line));
  }
  if (rest.trim()) f(JSON.parse(rest));
}

const STEPS = [1e3, 5e3, 15e3, 60e3, 3e5, 9e5, 36e5, 108e5, 216e5, 432e5, 864e5, 6048e5, 2592e6, 7862.4e6, 31536e6];
const bucketOf = (span) => STEPS.find((s) => span / s < 120) || Math.ceil(span / 120);

function render(count, rows, facets, histogram) {
  $('count').textContent = `${count} events`;
  $('facets').textContent = facets.map((f) => f.map(([v, n]) => `${v} ${n}`).join('\n')).join('\n\n');
  $('histogram').textContent = histogram.map(([t, n]) => `${t} ${n}`).join('\n');
  const table = $('rows');
  table.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement('tr');
    for (const v of [r.time, r.user, r.action, r.rtype, r.rid, r.org, r.project, r.module]) {
      const td = document.createElement('td');
      td.textContent = v ?? '';
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }
}

// --- plain JS --------------------------------------------------------------------------------

function plain() {
  let events = [];
  const flat = (ev) => {
    const p = (ev.auditEventAuthor && ev.auditEventAuthor.principal) || {};
    const r = ev.auditResource || {};
    const s = ev.auditResourceScope || {};
    return { time: timeOf(ev.auditEventTime), user: p.email || p.identifier, action: ev.auditAction, rtype: r.type, rid: r.identifier, org: s.orgIdentifier, project: s.projectIdentifier, module: ev.auditModule };
  };
  const preds = {
    all: () => true,
    broad: (ev) => !LOGIN.includes(ev.auditAction),
    selective: (ev) => typeof ev.auditAction === 'string' && ev.auditAction.toLowerCase() === 'force_push',
  };
  function view(name) {
    const p = preds[name];
    const m = events.filter(p);
    const top = (key) => {
      const c = new Map();
      for (const ev of m) { const r = flat(ev); c.set(r[key], (c.get(r[key]) || 0) + 1); }
      return [...c].sort((a, b) => b[1] - a[1]).slice(0, 10);
    };
    const times = m.map((ev) => timeOf(ev.auditEventTime));
    const order = times.map((_, i) => i).sort((a, b) => times[b] - times[a]);
    let min = Infinity, max = -Infinity;
    for (const t of times) { if (t < min) min = t; if (t > max) max = t; }
    const b = bucketOf(max - min);
    const h = new Map();
    for (const t of times) { const k = Math.floor(t / b) * b; h.set(k, (h.get(k) || 0) + 1); }
    render(m.length, order.slice(0, 100).map((i) => flat(m[i])), ['user', 'action', 'rtype', 'module'].map(top), [...h].sort((x, y) => x[0] - y[0]));
    return m.length;
  }
  return {
    async load(file) { events = []; await eachEvent(file, (ev) => events.push(ev)); return events.length; },
    view,
  };
}

// --- DuckDB-wasm over Arrow columns ------------------------------------------------------------

async function duck() {
  const base = new URL('./duckdb/', location.href).href;
  const bundle = await duckdb.selectBundle({
    mvp: { mainModule: `${base}duckdb-mvp.wasm`, mainWorker: `${base}duckdb-browser-mvp.worker.js` },
    eh: { mainModule: `${base}duckdb-eh.wasm`, mainWorker: `${base}duckdb-browser-eh.worker.js` },
  });
  const worker = new Worker(bundle.mainWorker);
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(bundle.mainModule);
  const conn = await db.connect();
  const where = {
    all: 'true',
    broad: `coalesce(action, '') NOT IN (${LOGIN.map((a) => `'${a}'`).join(', ')})`,
    selective: `lower(action) = 'force_push'`,
  };
  let bucket = 1;
  async function view(name) {
    const w = where[name];
    const q = (sql) => conn.query(sql).then((t) => t.toArray().map((r) => r.toJSON()));
    const [count, rows, ...rest] = await Promise.all([
      q(`SELECT count(*)::INTEGER AS n FROM events WHERE ${w}`),
      q(`SELECT * FROM events WHERE ${w} ORDER BY time DESC LIMIT 100`),
      ...['user', 'action', 'rtype', 'module'].map((c) => q(`SELECT ${c} AS v, count(*)::INTEGER AS n FROM events WHERE ${w} GROUP BY 1 ORDER BY 2 DESC LIMIT 10`)),
      q(`SELECT floor(time / ${bucket}) * ${bucket} AS t, count(*)::INTEGER AS n FROM events WHERE ${w} GROUP BY 1 ORDER BY 1`),
    ]);
    const hist = rest.pop();
    render(count[0].n, rows, rest.map((f) => f.map((r) => [r.v, r.n])), hist.map((r) => [r.t, r.n]));
    return count[0].n;
  }
  return {
    async load(file) {
      const cols = { time: [], user: [], action: [], rtype: [], rid: [], org: [], project: [], module: [] };
      await eachEvent(file, (ev) => {
        const p = (ev.auditEventAuthor && ev.auditEventAuthor.principal) || {};
        const r = ev.auditResource || {};
        const s = ev.auditResourceScope || {};
        cols.time.push(timeOf(ev.auditEventTime));
        cols.user.push(p.email || p.identifier || null);
        cols.action.push(ev.auditAction ?? null);
        cols.rtype.push(r.type ?? null);
        cols.rid.push(r.identifier ?? null);
        cols.org.push(s.orgIdentifier ?? null);
        cols.project.push(s.projectIdentifier ?? null);
        cols.module.push(ev.auditModule ?? null);
      });
      let min = Infinity, max = -Infinity;
      for (const t of cols.time) { if (t < min) min = t; if (t > max) max = t; }
      bucket = bucketOf(max - min);
      const n = cols.time.length;
      await conn.insertArrowTable(tableFromArrays({ ...cols, time: Float64Array.from(cols.time) }), { name: 'events' });
      return n;
    },
    view,
  };
}

const ready = engine === 'duckdb' ? duck() : Promise.resolve(plain());
ready.then((impl) => {
  window.__alt.started = true;
  $('file').addEventListener('change', async (e) => {
    const t0 = performance.now();
    window.__alt.events = await impl.load(e.target.files[0]);
    window.__alt.readyMs = performance.now() - t0;
    await impl.view('all');
    window.__alt.firstRowsMs = performance.now() - t0;
  });
  window.__alt.run = async (name) => {
    const t0 = performance.now();
    const count = await impl.view(name);
    return { ms: performance.now() - t0, count };
  };
}).catch((e) => { window.__alt.error = String(e && e.stack ? e.stack : e); });
