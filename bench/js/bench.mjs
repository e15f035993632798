// Benchmarks of the npm package (one Node process), printed as the "npm package" section
// of BENCHMARKS.md:
//   (a) Filter.count / filterNdjson vs an idiomatic JS baseline (split, JSON.parse, predicate)
//   (b) validate vs JSON.parse + an ajv-compiled JSON Schema of the event
//   (c) the wasm filter vs the native CLI (`trailsift filter --count`)
//   (d) createFilterStream over a 1 GB file: peak memory
//   (e) the module's memory after the in-memory runs
// Data: 100 MB of `trailsift gen` NDJSON in bench/data/ (generated once, not committed).
// Run with `make bench-js` (builds pkg/ and the native CLI first).
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, statSync, openSync, closeSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import Ajv from 'ajv';
import * as ts from '../../pkg/node.mjs';
import { SCHEMA, ajvValidate } from './ajv-schema.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = join(ROOT, 'bench', 'data');
const NATIVE = join(ROOT, 'target', 'native', 'trailsift');
const FILE = join(DATA, 'events-100mb.ndjson');
const BIG = join(DATA, 'events-1gb.ndjson');
const MB = 1 << 20;
const RUNS = Number(process.env.RUNS ?? 5);
const NOW = Date.parse('2026-11-08T00:00:00Z');

function ensureData() {
  if (!existsSync(NATIVE)) throw new Error(`no ${NATIVE}: run make cli`);
  mkdirSync(DATA, { recursive: true });
  if (!existsSync(FILE)) {
    const sample = execFileSync(NATIVE, ['gen', '--count', '2000', '--seed', '7'], { maxBuffer: 1 << 30 });
    const count = Math.ceil((100 * MB) / (sample.length / 2000));
    const fd = openSync(FILE, 'w');
    const run = spawnSync(NATIVE, ['gen', '--count', String(count), '--seed', '7'], { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    if (run.status !== 0) throw new Error('trailsift gen failed');
  }
  if (!existsSync(BIG)) {
    const chunk = readFileSync(FILE);
    const fd = openSync(BIG, 'w');
    for (let i = 0; i < 10; i++) writeSync(fd, chunk);
    closeSync(fd);
  }
}

// The machine is shared: CPU time of this process (one thread) is the figure compared;
// wall time is kept beside it. One warm-up run first (V8 tiers wasm up while it runs).
// Garbage is collected before each run (`--expose-gc`), so that no run pays for the
// garbage of the one before (the JS baselines make ~190,000 objects per run).
function best(fn) {
  let ms = Infinity;
  let wall = Infinity;
  let result = fn();
  for (let i = 0; i < RUNS; i++) {
    globalThis.gc?.();
    const t = performance.now();
    const u = process.cpuUsage();
    result = fn();
    const d = process.cpuUsage(u);
    ms = Math.min(ms, (d.user + d.system) / 1000);
    wall = Math.min(wall, performance.now() - t);
  }
  return { ms, wall, result };
}

// The native CLI's CPU time (user + system) from GNU time, and its output.
function native(args, runs = RUNS) {
  let ms = Infinity;
  let result;
  for (let i = 0; i < runs; i++) {
    const run = spawnSync('/usr/bin/time', ['-f', '%U %S', NATIVE, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (run.status !== 0) throw new Error(`native ${args.join(' ')}: ${run.stderr}`);
    const [user, sys] = run.stderr.trim().split('\n').pop().split(' ').map(Number);
    ms = Math.min(ms, (user + sys) * 1000);
    result = run.stdout.trim();
  }
  return { ms, result };
}

// ---- JS baselines -------------------------------------------------------------------

const lower = (v) => (typeof v === 'string' ? v.toLowerCase() : undefined);
const timeMs = (t) => (typeof t === 'number' ? t : /^\d+$/.test(t ?? '') ? Number(t) : Date.parse(t));
function anyText(v, needle) {
  if (typeof v === 'string') return v.toLowerCase().includes(needle);
  if (v && typeof v === 'object') {
    for (const k in v) if (anyText(v[k], needle)) return true;
  }
  return false;
}

const QUERIES = [
  {
    name: 'qualifier, one field',
    query: 'action:DELETE',
    js: (e) => lower(e.auditAction) === 'delete',
  },
  {
    name: 'AND of equality and negated preset',
    query: 'resource.type == "SECRET" and -is:system',
    js: (e) => e.auditResource?.type === 'SECRET' && e.auditEventAuthor?.principal?.type !== 'SYSTEM',
  },
  {
    name: 'time range and any-of',
    query: 'time >= 2026-11-05 and action:CREATE,UPDATE',
    js: (e) => timeMs(e.auditEventTime) >= Date.parse('2026-11-05T00:00:00Z') && ['create', 'update'].includes(lower(e.auditAction)),
  },
  {
    name: 'free text',
    query: '"password"',
    js: (e) => anyText(e, 'password'),
  },
];

function jsCount(text, predicate) {
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (predicate(e)) n++;
  }
  return n;
}

function jsFilter(text, predicate) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue;
    }
    if (predicate(e)) out.push(line);
  }
  return out.join('\n') + (out.length ? '\n' : '');
}

// ---- (d) stream memory first, while the process is small ------------------------------

async function streamMemory() {
  const filter = ts.compileFilter('action:DELETE');
  const wasmMemory = () => ts.initSync().memory.buffer.byteLength;
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  let bytesOut = 0;
  const t = performance.now();
  await Readable.toWeb(createReadStream(BIG, { highWaterMark: 256 * 1024 }))
    .pipeThrough(ts.createFilterStream(filter))
    .pipeTo(
      new WritableStream({
        write(chunk) {
          bytesOut += chunk.length;
          peak = Math.max(peak, process.memoryUsage().rss);
        },
      }),
    );
  clearInterval(timer);
  const ms = performance.now() - t;
  return { size: statSync(BIG).size, rssBefore, peak, wasm: wasmMemory(), ms, bytesOut };
}

// ---- main ---------------------------------------------------------------------------

ensureData();
const rows = [];
const fmt = (x, d = 0) => x.toFixed(d);
const wasmFile = join(ROOT, 'pkg', 'trailsift_bg.wasm');
const wasmRaw = statSync(wasmFile).size;
const wasmGz = gzipSync(readFileSync(wasmFile), { level: 9 }).length;
const gnuGz = spawnSync('gzip', ['-9', '-c', wasmFile], { maxBuffer: 1 << 26 }).stdout.length;

const mem = await streamMemory();

const bytes = readFileSync(FILE);
const text = bytes.toString('utf8');
const size = bytes.length;
const events = jsCount(text, () => true);
const mbps = (ms) => (size / MB / (ms / 1000)).toFixed(0);

console.error(`data: ${fmt(size / MB)} MB, ${events} events`);

// (a) + (c)
const filterRows = [];
for (const q of QUERIES) {
  const f = ts.compileFilter(q.query, { now: NOW });
  const wasmCount = best(() => f.count(bytes));
  const wasmFilter = best(() => f.filterNdjson(bytes));
  const wasmFilterText = best(() => f.filterNdjson(text));
  const jsC = best(() => jsCount(text, q.js));
  const jsF = best(() => jsFilter(text, q.js));
  if (wasmCount.result !== jsC.result) console.error(`warning: ${q.query}: wasm ${wasmCount.result} vs JS ${jsC.result}`);
  filterRows.push({ q, wasmCount, wasmFilter, wasmFilterText, jsC, jsF });
  f.free();
}

// (c) on the 1 GB file, so that the native CLI's run is long enough for GNU time's 10 ms
// resolution: the wasm counts the file's bytes in memory, the CLI reads it. The two take
// turns (one run each, RUNS times), so that a slow spell of the shared machine falls on
// both; the best of each is compared.
{
  const big = readFileSync(BIG);
  for (const r of filterRows) {
    const f = ts.compileFilter(r.q.query, { now: NOW });
    const args = ['filter', '--count', '--now', String(NOW), '-q', r.q.query, BIG];
    r.bigWasm = { ms: Infinity, result: f.count(big) };
    r.native = { ms: Infinity, result: NaN };
    for (let i = 0; i < RUNS; i++) {
      globalThis.gc?.();
      const u = process.cpuUsage();
      r.bigWasm.result = f.count(big);
      const d = process.cpuUsage(u);
      r.bigWasm.ms = Math.min(r.bigWasm.ms, (d.user + d.system) / 1000);
      const run = native(args, 1);
      r.native = { ms: Math.min(r.native.ms, run.ms), result: Number(run.result) };
    }
    f.free();
    if (r.native.result !== r.bigWasm.result) console.error(`warning: ${r.q.query}: native ${r.native.result} vs wasm ${r.bigWasm.result}`);
  }
}

// (b)
const ajv = new Ajv({ allErrors: true });
const check = ajv.compile(SCHEMA);
const wasmValidate = best(() => ts.validate(bytes));
const wasmValidateText = best(() => ts.validate(text));
const ajvRun = best(() => ajvValidate(text, check));
const nativeValidate = native(['validate', '--json', FILE]);
if (wasmValidate.result.valid !== ajvRun.result.valid) {
  console.error(`note: validate valid=${wasmValidate.result.valid}, ajv valid=${ajvRun.result.valid}`);
}

const out = [];
out.push(`Measured by \`make bench-js\` (bench/js/bench.mjs, Node ${process.version}, one process, best of ${RUNS} after a warm-up, garbage collected before each run) on`);
out.push(`${fmt(size / MB)} MB of \`trailsift gen\` NDJSON (${events} events), input already in memory. Times are CPU`);
out.push('time of the one thread doing the work (the machine is shared; wall time runs 1-3× higher).');
out.push('');
out.push(`Package size: \`trailsift_bg.wasm\` ${wasmRaw} bytes; gzipped ${gnuGz} bytes with \`gzip -9\` (${fmt(gnuGz / 1024, 1)} KiB), ${wasmGz} bytes with Node's zlib at level 9 (${fmt(wasmGz / 1024, 1)} KiB); budget 250 KB.`);
out.push('');
out.push('(a) filter, wasm vs idiomatic JS (split lines, JSON.parse, JS predicate). `filterNdjson` is');
out.push('given the file\'s bytes (a `Buffer`, as `readFileSync` or a `fetch` body gives them) and, separately,');
out.push('the decoded string (which V8 must encode to UTF-8 on the way in); the JS baseline gets the string.');
out.push('');
out.push('| query | matches | wasm filterNdjson (bytes) | wasm filterNdjson (string) | wasm count (bytes) | JS filter | JS count | filter speed-up, bytes / string | count speed-up |');
out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of filterRows) {
  out.push(
    `| \`${r.q.query}\` | ${r.wasmCount.result} | ${fmt(r.wasmFilter.ms)} ms (${mbps(r.wasmFilter.ms)} MB/s) | ${fmt(r.wasmFilterText.ms)} ms | ${fmt(r.wasmCount.ms)} ms | ${fmt(r.jsF.ms)} ms (${mbps(r.jsF.ms)} MB/s) | ${fmt(r.jsC.ms)} ms | ${(r.jsF.ms / r.wasmFilter.ms).toFixed(1)}× / ${(r.jsF.ms / r.wasmFilterText.ms).toFixed(1)}× | ${(r.jsC.ms / r.wasmCount.ms).toFixed(1)}× |`,
  );
}
out.push('');
out.push('(b) validation, wasm `validate(bytes)` (full report) vs JSON.parse + ajv (allErrors) per line:');
out.push('');
out.push('| | time | throughput | speed-up |');
out.push('|---|---:|---:|---:|');
out.push(`| wasm validate (bytes) | ${fmt(wasmValidate.ms)} ms | ${mbps(wasmValidate.ms)} MB/s | ${(ajvRun.ms / wasmValidate.ms).toFixed(2)}× |`);
out.push(`| wasm validate (string) | ${fmt(wasmValidateText.ms)} ms | ${mbps(wasmValidateText.ms)} MB/s | ${(ajvRun.ms / wasmValidateText.ms).toFixed(2)}× |`);
out.push(`| JSON.parse + ajv | ${fmt(ajvRun.ms)} ms | ${mbps(ajvRun.ms)} MB/s | 1× |`);
out.push(`| native \`trailsift validate --json\` (whole process) | ${fmt(nativeValidate.ms)} ms | ${mbps(nativeValidate.ms)} MB/s | ${(ajvRun.ms / nativeValidate.ms).toFixed(2)}× |`);
out.push('');
out.push(`(c) wasm \`Filter.count\` on the ${fmt(statSync(BIG).size / MB / 1024, 2)} GB file's bytes in memory vs the native CLI \`trailsift filter --count\` on the file (CPU of the whole process: start, file read, filter):`);
out.push('');
out.push('| query | wasm | native | wasm / native |');
out.push('|---|---:|---:|---:|');
for (const r of filterRows) {
  out.push(`| \`${r.q.query}\` | ${fmt(r.bigWasm.ms)} ms | ${fmt(r.native.ms)} ms | ${(r.bigWasm.ms / r.native.ms).toFixed(2)}× |`);
}
out.push('');
out.push(`(d) \`createFilterStream\` over a ${fmt(mem.size / MB / 1024, 2)} GB file (fs stream → Readable.toWeb → filter → sink): `
  + `${fmt(mem.ms / 1000, 1)} s (${fmt(mem.size / MB / (mem.ms / 1000))} MB/s); peak RSS ${fmt(mem.peak / MB)} MB `
  + `(${fmt(mem.rssBefore / MB)} MB before), wasm memory ${fmt(mem.wasm / MB, 1)} MB.`);
out.push('');
out.push(`(e) The module's memory after every run above (whole ${fmt(size / MB)} MB inputs as bytes and as a string, read in 1 MiB pieces): `
  + `${fmt(ts.initSync().memory.buffer.byteLength / MB, 1)} MB.`);
console.log(out.join('\n'));
