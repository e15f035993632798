// Benchmark of evidence verification, printed for the "Verification" section of
// BENCHMARKS.md: npm `verifyEvidence` (trailsift/verify, its own .wasm) and the native
// `trailsift verify` on the same bundle, run interleaved (the machine is shared), medians;
// and the gzip -9 sizes of both .wasm modules.
//
// The bundle is made here, independently of the Rust code: `trailsift gen` events, their
// RFC 8785 leaves, the RFC 6962 tree, an inclusion proof for every event and a checkpoint
// signed with Node's Ed25519 (integrity.md), so a pass also cross-checks the formats.
// Run with `make pkg cli` first: node bench/js/verify.mjs [events] (default 50,000).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { verifyEvidence } from '../../pkg/verify-node.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NATIVE = process.env.TRAILSIFT_BIN || join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'native', 'trailsift');
const COUNT = Number(process.argv[2] ?? 50_000);
const RUNS = Number(process.env.RUNS ?? 5);
const NAME = 'bench.trailsift.local';

const sha256 = (...parts) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest(); };

// RFC 8785: JSON.stringify already writes strings and numbers as JCS does; keys sorted by
// UTF-16 code units (the default sort).
function jcs(v) {
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

// RFC 6962 hashes of [lo, hi), memoized: every range an inclusion proof needs is a
// complete subtree or a right edge.
function tree(leaves) {
  const memo = new Map();
  const split = (n) => 2 ** Math.floor(Math.log2(n - 1));
  const mth = (lo, hi) => {
    if (hi - lo === 1) return leaves[lo];
    const key = lo * 4294967296 + hi;
    let h = memo.get(key);
    if (!h) {
      const k = split(hi - lo);
      h = sha256(Buffer.from([1]), mth(lo, lo + k), mth(lo + k, hi));
      memo.set(key, h);
    }
    return h;
  };
  const path = (m, lo, hi) => {
    if (hi - lo === 1) return [];
    const k = split(hi - lo);
    return m < k ? [...path(m, lo, lo + k), mth(lo + k, hi)] : [...path(m - k, lo + k, hi), mth(lo, lo + k)];
  };
  return { root: mth(0, leaves.length), proof: (m) => path(m, 0, leaves.length) };
}

function makeBundle(dir) {
  const lines = execFileSync(NATIVE, ['gen', '--count', String(COUNT), '--seed', '11', '--accounts', 'acme'], { maxBuffer: 1 << 30 })
    .toString().split('\n').filter(Boolean);
  const events = lines.map((l) => JSON.parse(l));
  const leaves = events.map((e) => sha256(Buffer.from([0]), Buffer.from(jcs(e))));
  const t = tree(leaves);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const id = sha256(Buffer.from(`${NAME}\n`), Buffer.from([1]), pub).subarray(0, 4);
  const text = `${NAME}/acme\n${COUNT}\n${t.root.toString('base64')}\n`;
  const sig = sign(null, Buffer.from(text), privateKey);
  const checkpoint = `${text}\n\u2014 ${NAME} ${Buffer.concat([id, sig]).toString('base64')}\n`;
  const entries = events.map((event, i) => ({ seq: i + 1, event, proof: t.proof(i).map((h) => h.toString('base64')) }));
  const bundle = join(dir, 'bundle.json');
  writeFileSync(bundle, JSON.stringify({ checkpoint, entries }));
  const key = `${NAME}+${id.toString('hex')}+${Buffer.concat([Buffer.from([1]), pub]).toString('base64')}`;
  return { bundle, key };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const gz = (f) => execFileSync('gzip', ['-9', '-c', join(ROOT, 'pkg', f)], { maxBuffer: 1 << 26 }).length;

const dir = mkdtempSync(join(tmpdir(), 'trailsift-verify-bench-'));
try {
  const { bundle, key } = makeBundle(dir);
  const bytes = readFileSync(bundle);
  const load = [loadavg()[0]];
  // Warm-up, and both must accept the bundle.
  const first = verifyEvidence(bytes, { keys: key });
  if (!first.ok || first.verified !== COUNT) throw new Error(`npm: ${JSON.stringify(first.failures.slice(0, 3))}`);
  const cli = spawnSync(NATIVE, ['verify', bundle, '--key', key], { encoding: 'utf8' });
  if (cli.status !== 0) throw new Error(`native: ${cli.stdout}${cli.stderr}`);
  // CPU time is the figure to compare on a shared machine (the npm call's thread; the
  // native process's user + system from GNU time); wall time beside it.
  const npm = { cpu: [], wall: [] };
  const native = { cpu: [], wall: [] };
  for (let r = 0; r < RUNS; r++) {
    let t0 = performance.now();
    const u = process.cpuUsage();
    verifyEvidence(bytes, { keys: key });
    const d = process.cpuUsage(u);
    npm.wall.push(performance.now() - t0);
    npm.cpu.push((d.user + d.system) / 1000);
    t0 = performance.now();
    const run = spawnSync('/usr/bin/time', ['-f', '%U %S', NATIVE, 'verify', bundle, '--key', key], { encoding: 'utf8' });
    native.wall.push(performance.now() - t0);
    const [user, sys] = run.stderr.trim().split('\n').pop().split(' ').map(Number);
    native.cpu.push((user + sys) * 1000);
    load.push(loadavg()[0]);
  }
  const rate = (ms) => Math.round(COUNT / (ms / 1000)).toLocaleString('en');
  console.log(`bundle: ${COUNT} events, ${bytes.length.toLocaleString('en')} bytes; Node ${process.version}; ${RUNS} interleaved runs, medians`);
  console.log(`load average (1 min) during the runs: ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`);
  console.log('| verifier | CPU ms | events/s by CPU | wall ms | events/s by wall |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, t] of [['npm `verifyEvidence` (bytes in memory)', npm], ['native `trailsift verify` (whole process, file read)', native]]) {
    const [cpu, wall] = [median(t.cpu), median(t.wall)];
    console.log(`| ${name} | ${cpu.toFixed(0)} | ${rate(cpu)} | ${wall.toFixed(0)} | ${rate(wall)} |`);
  }
  console.log(`trailsift_verify_bg.wasm gzip -9: ${gz('trailsift_verify_bg.wasm')} bytes; trailsift_bg.wasm gzip -9: ${gz('trailsift_bg.wasm')} bytes`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
