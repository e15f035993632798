// Validation only ((b) of bench.mjs): wasm `validate(bytes)` vs JSON.parse + ajv, on the
// same data. `node bench/js/validate.mjs` after `make pkg` (and bench.mjs once, or
// `make cli`, for the data file).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import Ajv from 'ajv';
import * as ts from '../../pkg/node.mjs';
import { SCHEMA, ajvValidate } from './ajv-schema.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FILE = process.argv[2] ?? join(ROOT, 'bench', 'data', 'events-100mb.ndjson');
const RUNS = Number(process.env.RUNS ?? 3);
if (!existsSync(FILE)) throw new Error(`no ${FILE}: run make bench-js once, or pass a file`);

function best(fn) {
  let ms = Infinity;
  let result = fn();
  for (let i = 0; i < RUNS; i++) {
    const u = process.cpuUsage();
    result = fn();
    const d = process.cpuUsage(u);
    ms = Math.min(ms, (d.user + d.system) / 1000);
  }
  return { ms, result };
}

const bytes = readFileSync(FILE);
const text = bytes.toString('utf8');
const mbps = (ms) => (bytes.length / (1 << 20) / (ms / 1000)).toFixed(0);
const check = new Ajv({ allErrors: true }).compile(SCHEMA);
const opts = [
  ['', undefined],
  [', strict + vocabulary', { strict: true, vocabulary: true }],
];
const ajvRun = best(() => ajvValidate(text, check));
console.log(`${(bytes.length / (1 << 20)).toFixed(0)} MB, Node ${process.version}, CPU ms, best of ${RUNS} after a warm-up`);
console.log('');
console.log('| | time | throughput | speed-up |');
console.log('|---|---:|---:|---:|');
for (const [name, o] of opts) {
  const run = best(() => ts.validate(bytes, o));
  if (run.result.valid !== ajvRun.result.valid) console.error(`note: wasm valid=${run.result.valid}, ajv valid=${ajvRun.result.valid}`);
  console.log(`| wasm validate${name} | ${run.ms.toFixed(0)} ms | ${mbps(run.ms)} MB/s | ${(ajvRun.ms / run.ms).toFixed(2)}× |`);
}
console.log(`| JSON.parse + ajv | ${ajvRun.ms.toFixed(0)} ms | ${mbps(ajvRun.ms)} MB/s | 1× |`);
