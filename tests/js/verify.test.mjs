// `trailsift/verify` (the verifier's own .wasm) on every evidence case of the Rust tests
// (tests/fixtures/evidence/, written and kept current by tests/evidence_fixtures.rs): the
// package must report each case's failures (entry index, seq, code) as the fixture says,
// and the same failures and sentences as `trailsift verify` on the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FIXTURES, PKG, ROOT } from './helpers.mjs';
import { verifyEvidence, verifyConsistency, TrailsiftError } from '../../pkg/verify-node.mjs';

const EVIDENCE = join(FIXTURES, 'evidence');
const CLI = process.env.TRAILSIFT_BIN || join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'native', 'trailsift');

const cases = (kind) => readdirSync(join(EVIDENCE, kind)).sort().map((name) => join(EVIDENCE, kind, name));
const read = (dir, file) => readFileSync(join(dir, file));
const has = (dir, file) => existsSync(join(dir, file));
const located = (failures) => failures.map(({ index, seq, code }) => ({ index, seq, code }));

// `trailsift verify`'s answer: exit code and, per failure line, index, seq, code and sentence.
function cliVerify(args) {
  let status = 0;
  let out;
  try {
    out = execFileSync(CLI, args, { encoding: 'utf8' });
  } catch (e) {
    if (e.status !== 1) throw e;
    ({ status, stdout: out } = e);
  }
  const failures = status === 0 ? [] : out.trimEnd().split('\n').map((line) => {
    const m = /^(?:entry (\d+)(?:, seq (\d+))?: )?([a-z_]+): (.*) \((.*)\)$/.exec(line);
    assert.ok(m, `a CLI failure line: ${line}`);
    return { index: m[1] === undefined ? null : Number(m[1]), seq: m[2] === undefined ? null : Number(m[2]), code: m[3], explanation: m[4] };
  });
  return { status, out, failures };
}

test('the fixtures are there (tests/evidence_fixtures.rs writes them)', () => {
  assert.ok(cases('bundles').length >= 20, 'bundle cases');
  assert.ok(cases('consistency').length >= 8, 'consistency cases');
});

test('every bundle case: the package reports the fixture failures, as the CLI does', () => {
  const log = JSON.parse(readFileSync(join(EVIDENCE, 'log.json'), 'utf8'));
  for (const dir of cases('bundles')) {
    const expect = JSON.parse(read(dir, 'expect.json'));
    const keys = read(dir, 'keys.txt').toString();
    const events = has(dir, 'object.ndjson') ? read(dir, 'object.ndjson') : undefined;
    const result = verifyEvidence(read(dir, 'bundle.json'), { keys, events });
    assert.equal(result.ok, expect.ok, `${expect.name}: ${JSON.stringify(result.failures)}`);
    assert.deepEqual(located(result.failures), expect.failures, expect.name);
    if (expect.ok) assert.equal(result.verified, expect.verified, expect.name);
    for (const f of result.failures) assert.ok(f.explanation.length > 20 && f.message.length > 0, `${expect.name}: ${f.code} explained`);
    if (result.failures.every((f) => f.index !== null)) {
      assert.deepEqual(
        { origin: result.checkpoint.origin, size: result.checkpoint.size },
        { origin: log.origin, size: log.size },
        expect.name,
      );
      assert.match(result.checkpoint.rootHash, /^[A-Za-z0-9+/]{43}=$/);
      assert.match(result.checkpoint.key, /^trailsift\.local\+[0-9a-f]{8}$/);
    }

    const args = ['verify', join(dir, 'bundle.json'), '--key', join(dir, 'keys.txt')];
    if (events) args.push('--events', join(dir, 'object.ndjson'));
    const cli = cliVerify(args);
    assert.equal(cli.status, result.ok ? 0 : 1, expect.name);
    assert.deepEqual(cli.failures, result.failures.map(({ index, seq, code, explanation }) => ({ index, seq, code, explanation })), expect.name);
    if (result.ok) assert.equal(cli.out, `verified ${result.verified} events against ${result.checkpoint.origin} at size ${result.checkpoint.size}\n`);
  }
});

test('every consistency case: the package reports the fixture codes, as the CLI does', () => {
  for (const dir of cases('consistency')) {
    const expect = JSON.parse(read(dir, 'expect.json'));
    const keys = read(dir, 'keys.txt').toString().trim().split('\n');
    const result = verifyConsistency(read(dir, 'old.txt').toString(), read(dir, 'new.txt'), read(dir, 'proof.json'), { keys });
    assert.equal(result.ok, expect.ok, expect.name);
    assert.deepEqual(result.failures.map((f) => f.code), expect.codes, expect.name);
    const cli = cliVerify(['verify-consistency', join(dir, 'old.txt'), join(dir, 'new.txt'), '--proof', join(dir, 'proof.json'), '--key', join(dir, 'keys.txt')]);
    assert.equal(cli.status, expect.ok ? 0 : 1, expect.name);
    assert.deepEqual(cli.failures.map((f) => f.code), expect.codes, expect.name);
    if (result.ok) assert.ok(result.old.size < result.new.size);
  }
});

const sidecar = join(EVIDENCE, 'bundles', readdirSync(join(EVIDENCE, 'bundles')).find((d) => d.endsWith('a-valid-sidecar')));
const valid = join(EVIDENCE, 'bundles', readdirSync(join(EVIDENCE, 'bundles')).find((d) => d.endsWith('-valid')));

test('inputs as users hold them: text, bytes, parsed JSON, gzip objects, event arrays, key arrays', () => {
  const keysText = read(valid, 'keys.txt').toString();
  const keyList = keysText.trim().split('\n');
  const bundleText = read(valid, 'bundle.json').toString();
  for (const bundle of [bundleText, read(valid, 'bundle.json'), JSON.parse(bundleText), Uint8Array.from(read(valid, 'bundle.json')).buffer]) {
    for (const keys of [keysText, keyList, Buffer.from(keysText)]) {
      const r = verifyEvidence(bundle, { keys });
      assert.ok(r.ok && r.verified === 5, JSON.stringify(r));
    }
  }
  const object = read(sidecar, 'object.ndjson');
  const eventList = object.toString().trim().split('\n').map((l) => JSON.parse(l));
  for (const events of [object, object.toString(), gzipSync(object), eventList, JSON.stringify(eventList)]) {
    const r = verifyEvidence(read(sidecar, 'bundle.json'), { keys: keyList, events });
    assert.ok(r.ok && r.verified === 5, JSON.stringify(r));
  }
  // A gzip object with one event removed: count_mismatch on the entry past the object's end.
  const fewer = object.toString().split('\n').filter(Boolean).slice(0, 4).join('\n') + '\n';
  const r = verifyEvidence(read(sidecar, 'bundle.json'), { keys: keyList, events: gzipSync(fewer) });
  assert.deepEqual(located(r.failures), [{ index: 4, seq: 15, code: 'count_mismatch' }]);
});

test('malformed or missing keys throw TrailsiftError with code bad_key', () => {
  for (const keys of [undefined, '', 'not a key', ['trailsift.local+0000+AAAA']]) {
    assert.throws(() => verifyEvidence(read(valid, 'bundle.json'), { keys }), (e) => e instanceof TrailsiftError && e.code === 'bad_key', String(keys));
  }
  assert.throws(() => verifyEvidence(42, { keys: read(valid, 'keys.txt').toString() }), (e) => e instanceof TrailsiftError);
});

test('CommonJS require gives the same answers', () => {
  const require = createRequire(import.meta.url);
  const cjs = require(join(PKG, 'verify.cjs'));
  const dir = cases('bundles').find((d) => d.endsWith('two-events-swapped'));
  const keys = read(dir, 'keys.txt').toString();
  assert.deepEqual(cjs.verifyEvidence(read(dir, 'bundle.json'), { keys }), verifyEvidence(read(dir, 'bundle.json'), { keys }));
});

// The verifier's own budget: it is a second module so that the main one keeps its 250,000
// (install.test.mjs). Inside the main module it would cost ~26 kB; alone it carries its own
// JSON parser, inflate, event reader and formatting, 117,225 bytes (gzip -9) when measured
// (BENCHMARKS.md, "Verification").
test('the verifier .wasm is within its 125,000-byte gzip budget', () => {
  const gzipped = execFileSync('gzip', ['-9', '-c', join(PKG, 'trailsift_verify_bg.wasm')], { maxBuffer: 1 << 24 }).length;
  assert.ok(gzipped <= 125_000, `trailsift_verify_bg.wasm is ${gzipped} bytes gzipped (budget 125,000)`);
});

test('the main entry does not load the verifier', () => {
  const main = readFileSync(join(PKG, 'node.mjs'), 'utf8') + readFileSync(join(PKG, 'trailsift.js'), 'utf8');
  assert.ok(!/verify/i.test(main), 'node.mjs and trailsift.js never mention the verifier');
});
