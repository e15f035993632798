// npm `convert` NDJSON → NDJSON with each transform (formats.md section 4) against none, on
// the 100 MB input of bench/js; best CPU time of RUNS, the cases taking turns run by run.
//   node --expose-gc bench/js/transform.mjs [PKG_DIR]     (default: pkg/)
// The transforms are those of benches/transform.rs, so the native and npm tables compare.
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FILE = join(ROOT, 'bench', 'data', 'events-100mb.ndjson');
const RUNS = Number(process.env.RUNS ?? 3);
const MB = 1 << 20;
const KEY = 'bench-key';

const SPEC_EXAMPLE = {
  include: ['auditEventId', 'auditEventTime', 'auditAction', 'auditResource'],
  exclude: ['auditEventMetadata'],
  redact: ['auditHttpRequestInfo.clientIP'],
  redactPatterns: ['(?i)bearer [a-z0-9._~+/-]+=*'],
  pseudonymize: ['auditEventAuthor.principal.email', 'auditEventAuthor.principal.identifier'],
  truncateIp: { v4: 24, v6: 48 },
  sample: 0.25,
  timeFormat: 'epoch_ms',
};
const EVERYTHING = {
  include: ['auditEventId', 'auditEventTime', 'auditEventAuthor', 'auditModule', 'auditResource',
    'auditResourceScope', 'auditAction', 'auditHttpRequestInfo', 'auditEventMetadata'],
  exclude: ['auditEventMetadata.batchId'],
  redact: ['auditResource.identifier'],
  redactPatterns: ['(?i)bearer [a-z0-9._~+/-]+=*'],
  pseudonymize: ['auditEventAuthor.principal.email', 'auditEventAuthor.principal.identifier'],
  truncateIp: { v4: 24, v6: 48 },
  timeFormat: 'rfc3339',
};
const CASES = [
  ['none', null],
  ['`sample: 0.25`', { sample: 0.25 }],
  ['`include` (4 fields, as the spec\'s example)', { include: SPEC_EXAMPLE.include }],
  ['`redact` (clientIP)', { redact: ['auditHttpRequestInfo.clientIP'] }],
  ['`redactPatterns` (the spec\'s bearer pattern)', { redactPatterns: SPEC_EXAMPLE.redactPatterns }],
  ['`pseudonymize` (email, identifier)', { pseudonymize: SPEC_EXAMPLE.pseudonymize }],
  ['`truncateIp` (v4 24, v6 48)', { truncateIp: SPEC_EXAMPLE.truncateIp }],
  ['`timeFormat: rfc3339`', { timeFormat: 'rfc3339' }],
  ['the spec\'s example (all keys, `sample: 0.25`)', SPEC_EXAMPLE],
  ['every key, no sampling, all fields kept', EVERYTHING],
];

if (!existsSync(FILE)) throw new Error(`no ${FILE}: run make bench-js once to make it`);
const dir = resolve(process.argv[2] ?? join(ROOT, 'pkg'));
const ts = await import(pathToFileURL(join(dir, 'node.mjs')).href);
const bytes = readFileSync(FILE);
const best = CASES.map(() => Infinity);
const outBytes = CASES.map(() => 0);
for (let i = 0; i <= RUNS; i++) {
  CASES.forEach(([, transform], k) => {
    const opts = { from: 'ndjson', to: 'ndjson' };
    if (transform) Object.assign(opts, { transform, pseudonymizeKey: KEY });
    globalThis.gc?.();
    const u = process.cpuUsage();
    const out = ts.convert(bytes, opts);
    const d = process.cpuUsage(u);
    outBytes[k] = out.length;
    if (i > 0) best[k] = Math.min(best[k], (d.user + d.system) / 1000);
  });
}
const mbps = (ms) => (bytes.length / MB / (ms / 1000)).toFixed(0);
console.log(`${(bytes.length / MB).toFixed(1)} MB of NDJSON, npm convert to NDJSON, best CPU time of ${RUNS} runs`);
console.log('');
console.log('| transform | MB/s | CPU ms | × no transform | output MB |');
console.log('|---|---:|---:|---:|---:|');
CASES.forEach(([name], k) => {
  console.log(`| ${name} | ${mbps(best[k])} | ${best[k].toFixed(0)} | ${(best[k] / best[0]).toFixed(2)} | ${(outBytes[k] / MB).toFixed(1)} |`);
});
