// Evidence sidecars of S3 and GCS destinations (integrity.md): each object gets
// `<object name>.evidence.json`, read back here with boto3 (S3 from s3s-fs; GCS, written
// with OAuth, through its XML API with HMAC keys) and checked with the real CLI, `trailsift verify SIDECAR --events
// OBJECT --key KEY`; a tampered object fails, located. A sidecar that cannot be written
// fails its batch, and the retry writes the same bytes even after the log has grown and
// newer checkpoints were signed. Destinations where a sidecar cannot prove the object are
// refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { startWorker, makeTokens, call, packageVerifier, ROOT } from './harness.mjs';
import { api, until, events, openapiChecker } from './destinations.mjs';
import { startS3, startGcs, newSecret } from './receivers.mjs';

const CLI = process.env.TRAILSIFT_BIN
  || join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'native', 'trailsift');

// Downloads objects as they are stored, with boto3: every object under a prefix (`list:P`),
// or the keys named. Prints the keys written into OUTDIR (named by their last path part).
const DOWNLOAD = `
import json, os, sys
import boto3
from botocore.config import Config
endpoint, access, secret, region, bucket, outdir = sys.argv[1:7]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                  region_name=region, config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
keys = sys.argv[7:]
if len(keys) == 1 and keys[0].startswith("list:"):
    prefix = keys[0][5:]
    keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in p.get("Contents", [])]
for key in keys:
    with open(os.path.join(outdir, key.rsplit("/", 1)[-1]), "wb") as f:
        f.write(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
json.dump(keys, sys.stdout)
`;

const { tokens: T, config } = makeTokens();
const check = openapiChecker();
let w;
let A;
let s3;
let gcs;
let proxy;
let key;
const S3_SECRET = newSecret();
const tmp = mkdtempSync(join(tmpdir(), 'trailsift-evidence-'));

/**
 * A proxy in front of s3s-fs that passes requests on as they are (the SigV4 `Host` they
 * were signed for included), records every PUT, and answers `fail` (a function of the
 * request) with a 503 after the store took the object: an answer lost on the way back.
 */
async function startProxy(target) {
  const puts = [];
  const state = { fail: () => false };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const failing = req.method === 'PUT' && state.fail(req);
      if (req.method === 'PUT') puts.push({ url: req.url, body, failed: failing });
      const up = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        const parts = [];
        answer.on('data', (c) => parts.push(c));
        answer.on('end', () => {
          if (failing) {
            res.writeHead(503, { 'retry-after': '3', 'content-type': 'application/xml' });
            res.end('<Error><Code>SlowDown</Code></Error>');
            return;
          }
          res.writeHead(answer.statusCode, answer.headers);
          res.end(Buffer.concat(parts));
        });
      });
      up.on('error', () => { res.writeHead(502); res.end(); });
      up.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    puts,
    state,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

before(async () => {
  if (!existsSync(CLI)) {
    const built = spawnSync('cargo', ['build', '--profile', 'native', '--features', 'cli'], { cwd: ROOT, stdio: 'inherit' });
    assert.equal(built.status, 0, 'the CLI builds');
  }
  [w, s3, gcs] = await Promise.all([
    startWorker({ tokensConfig: config, vars: { LOG_ORIGIN: 'evidence.test', LOG_CHECKPOINT_INTERVAL_SECONDS: '0' } }),
    startS3({ bucket: 'audit', secretKey: S3_SECRET }),
    startGcs({ bucket: 'audit-gcs' }),
  ]);
  proxy = await startProxy(s3.base);
  A = api(w, T.aAll);
  [key] = (await call(`${w.url}/v1/log/keys`)).json.keys;
  assert.ok(key, 'the Worker has a verifier key');
}, { timeout: 600_000 });

after(async () => {
  if (process.env.SHOW_LOG) console.log(w?.log().slice(-20000));
  await Promise.all([w?.stop(), s3?.close(), gcs?.close(), proxy?.close()]);
  w?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const s3Config = (endpoint, prefix) => ({ endpoint, region: 'us-east-1', bucket: 'audit', prefix, pathStyle: true });
const s3Credentials = () => ({ accessKeyId: s3.accessKey, secretAccessKey: S3_SECRET });

/** Downloads objects with boto3 into a fresh folder: `{dir, keys}`. Asynchronous: the GCS
 * proxy answers in this process. */
async function download(endpoint, access, secret, region, bucket, keys) {
  const dir = mkdtempSync(join(tmp, 'objects-'));
  const { stdout } = await promisify(execFile)('python3', ['-c', DOWNLOAD, endpoint, access, secret, region, bucket, dir, ...keys],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { dir, keys: JSON.parse(stdout) };
}

const verify = (sidecar, object) => spawnSync(CLI, ['verify', sidecar, '--events', object, '--key', key], { encoding: 'utf8' });

/** The object's events (JSON or NDJSON, plain or gzip). */
function objectEvents(path) {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return /\.json(\.gz)?$/.test(path) ? JSON.parse(text) : text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** Writes events back in the object's own format and compression. */
function writeObject(path, evs) {
  const text = /\.json(\.gz)?$/.test(path) ? JSON.stringify(evs) : evs.map((e) => `${JSON.stringify(e)}\n`).join('');
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(text) : text);
}

/**
 * Checks every object of a download with its sidecar: the CLI and the npm package's
 * verifier `pkg` verify it, and the sidecar's entries carry no events and name the object's
 * events in order (`seqOf` gives each event's seq); answers the events verified.
 */
function verifyAll({ dir, keys }, seqOf, pkg) {
  const objects = keys.filter((k) => !k.endsWith('.evidence.json'));
  assert.ok(objects.length > 0, 'objects were written');
  assert.equal(keys.length, 2 * objects.length, `one sidecar per object: ${keys.join(', ')}`);
  let total = 0;
  for (const k of objects) {
    const name = k.split('/').pop();
    const [object, sidecar] = [join(dir, name), join(dir, `${name}.evidence.json`)];
    const evs = objectEvents(object);
    const bundle = JSON.parse(readFileSync(sidecar, 'utf8'));
    assert.deepEqual(bundle.entries.map((e) => e.seq), evs.map(seqOf), `${k}: the entries pair with the events in order`);
    assert.ok(bundle.entries.every((e) => !('event' in e) && Array.isArray(e.proof)), 'sidecar entries leave out the event');
    const out = verify(sidecar, object);
    assert.equal(out.status, 0, `${k}: ${out.stdout}${out.stderr}`);
    // The npm package's verifier gives the same answer on the same files.
    const npm = pkg.verifyEvidence(readFileSync(sidecar), { keys: [key], events: readFileSync(object) });
    assert.deepEqual([npm.ok, npm.verified, npm.failures], [true, evs.length, []], `${k}: package`);
    assert.match(out.stdout, new RegExp(`verified ${evs.length} events against evidence\\.test/acct_a at size \\d+`));
    total += evs.length;
  }
  return total;
}

test('evidence is refused where a sidecar cannot prove the object', async () => {
  const hook = await A.create({ name: 'hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/hook' },
    credentials: { secret: 's' }, evidence: true });
  assert.equal(hook.status, 400, hook.text);
  check('POST', '/v1/destinations', hook);
  assert.equal(hook.json.error.code, 'bad_destination');
  assert.equal(hook.json.error.details.field, 'evidence');
  assert.match(hook.json.error.message, /s3 and gcs/);

  const transformed = await A.create({ name: 'tr', type: 's3', config: s3Config(s3.base, 'tr/'), credentials: s3Credentials(),
    transform: { exclude: ['auditEventMetadata'] }, evidence: true });
  assert.equal(transformed.status, 400, transformed.text);
  assert.equal(transformed.json.error.details.field, 'evidence');
  assert.match(transformed.json.error.message, /transform/);

  // Off by default; on with PATCH; a transform added later is refused while it is on.
  const made = await A.create({ name: 'plain', type: 's3', config: s3Config(s3.base, 'plain/'), credentials: s3Credentials() });
  assert.equal(made.status, 201, made.text);
  check('POST', '/v1/destinations', made);
  assert.equal(made.json.evidence, false);
  const on = await A.patch(made.json.id, { evidence: true });
  assert.equal(on.status, 200, on.text);
  check('PATCH', '/v1/destinations/{id}', on);
  assert.equal(on.json.evidence, true);
  const both = await A.patch(made.json.id, { transform: { exclude: ['auditEventMetadata'] } });
  assert.equal(both.status, 400, both.text);
  assert.equal(both.json.error.details.field, 'evidence');
  const notBool = await A.patch(made.json.id, { evidence: 'yes' });
  assert.equal(notBool.status, 400, notBool.text);
  assert.equal((await A.delete(made.json.id)).status, 200);
});

test('S3: a sidecar beside each object verifies with the CLI; a lost sidecar answer is retried with the same bytes', async () => {
  // The first sidecar PUT is stored but answered 503 (Retry-After: 3): the batch fails and
  // its retry writes object and sidecar again.
  let failed = false;
  proxy.state.fail = (req) => {
    if (failed || !req.url.endsWith('.evidence.json')) return false;
    failed = true;
    return true;
  };
  const id = await A.activeDestination({ name: 'S3 evidence', type: 's3', config: s3Config(proxy.base, 'ev/'),
    credentials: s3Credentials(), format: 'ndjson', compression: 'gzip', filter: 'action:CREATE or action:DELETE',
    evidence: true, batch: { maxEvents: 15, intervalSeconds: 1 }, retry: { maxAttempts: 10, baseSeconds: 0.2, maxSeconds: 1 } });
  const evs = events('acct_a', 100, 80);
  const { firstSeq, lastSeq } = await A.ingest(evs);
  const seqById = new Map(evs.map((e, i) => [e.auditEventId, firstSeq + i]));

  // While the retry waits, the log grows and newer checkpoints are signed.
  await until('the failed sidecar', () => failed);
  const more = events('acct_a', 500, 5, { auditAction: 'LOGIN' });
  const later = await A.ingest(more);
  more.forEach((e, i) => seqById.set(e.auditEventId, later.firstSeq + i));
  const cp = await call(`${w.url}/v1/log/checkpoint`, T.aRead);
  assert.equal(cp.status, 200, cp.text);
  assert.match(cp.text, new RegExp(`^evidence\\.test/acct_a\\n${later.lastSeq}\\n`));

  const matching = evs.filter((e) => ['CREATE', 'DELETE'].includes(e.auditAction));
  const st = await until('the cursor past every event', async () => {
    const s = (await A.status(id)).json;
    return s.cursor >= lastSeq && !s.inFlight && s;
  }, { diagnose: async () => (await A.status(id)).json });
  assert.equal(st.deliveredEvents, matching.length);
  assert.deepEqual(st.deadLetters, []);
  assert.match(st.lastError.message, /evidence sidecar/);

  // The retried batch: its object and sidecar were written twice, byte for byte the same.
  const sidecarPuts = proxy.puts.filter((p) => p.url.endsWith('.evidence.json'));
  const retried = sidecarPuts.filter((p) => p.url === sidecarPuts[0].url);
  assert.equal(retried.length, 2, 'the failed sidecar was written again');
  assert.ok(retried[0].body.equals(retried[1].body), 'the retry wrote the same sidecar bytes');
  const objectUrl = sidecarPuts[0].url.replace(/\.evidence\.json$/, '');
  const objectPuts = proxy.puts.filter((p) => p.url === objectUrl);
  assert.equal(objectPuts.length, 2);
  assert.ok(objectPuts[0].body.equals(objectPuts[1].body), 'the retry wrote the same object bytes');
  // Each object is written before its sidecar.
  for (const [i, p] of proxy.puts.entries()) {
    if (p.url.endsWith('.evidence.json')) {
      assert.equal(proxy.puts[i - 1]?.url, p.url.replace(/\.evidence\.json$/, ''), `the object before ${p.url}`);
    }
  }

  const got = await download(s3.base, s3.accessKey, S3_SECRET, 'us-east-1', 'audit', ['list:ev/']);
  const verified = verifyAll(got, (e) => seqById.get(e.auditEventId), await packageVerifier());
  assert.equal(verified, matching.length, 'every matching event is in an object and proved');
  const firstSidecar = got.keys.find((k) => `/audit/${k}` === sidecarPuts[0].url);
  assert.ok(readFileSync(join(got.dir, firstSidecar.split('/').pop())).equals(retried[1].body), 'stored as written');
  // The sidecar of the retried batch is proved against the checkpoint signed for it at the
  // first attempt, not the newer one.
  const retriedBundle = JSON.parse(retried[1].body.toString('utf8'));
  assert.notEqual(retriedBundle.checkpoint, cp.text);

  // Tampering with an object (the largest) is caught and located.
  const name = got.keys.filter((k) => !k.endsWith('.evidence.json')).map((k) => k.split('/').pop())
    .sort((a, b) => objectEvents(join(got.dir, b)).length - objectEvents(join(got.dir, a)).length)[0];
  const [object, sidecar] = [join(got.dir, name), join(got.dir, `${name}.evidence.json`)];
  const original = objectEvents(object);
  const seqs = JSON.parse(readFileSync(sidecar, 'utf8')).entries.map((e) => e.seq);
  const tamper = (what, change, expect) => {
    const copy = join(got.dir, `tampered-${what}-${name}`);
    writeObject(copy, change(structuredClone(original)));
    const out = verify(sidecar, copy);
    assert.equal(out.status, 1, `${what}: ${out.stdout}${out.stderr}`);
    for (const line of expect) assert.match(out.stdout, line, what);
  };
  tamper('one byte', (e) => { e[2].auditResource.identifier += 'x'; return e; }, [new RegExp(`entry 2, seq ${seqs[2]}: bad_proof`)]);
  tamper('swapped', (e) => { [e[0], e[1]] = [e[1], e[0]]; return e; },
    [new RegExp(`entry 0, seq ${seqs[0]}: bad_proof`), new RegExp(`entry 1, seq ${seqs[1]}: bad_proof`)]);
  tamper('removed', (e) => e.slice(0, -1), [new RegExp(`entry ${seqs.length - 1}, seq ${seqs.at(-1)}: count_mismatch`)]);
  tamper('inserted', (e) => [...e.slice(0, 1), evs[0], ...e.slice(1)], [/bad_proof/, /count_mismatch/]);
  assert.equal((await A.patch(id, { status: 'inactive' })).status, 200);
});

test('GCS: sidecars beside JSON objects (OAuth from a service-account key), verified with the CLI', async () => {
  const account = gcs.newServiceAccount();
  const id = await A.activeDestination({ name: 'GCS evidence', type: 'gcs', config: { bucket: 'audit-gcs', prefix: 'ev/', endpoint: gcs.base },
    credentials: { serviceAccountKey: account }, evidence: true, batch: { maxEvents: 12, intervalSeconds: 1 } });
  const evs = events('acct_a', 2000, 30);
  const { firstSeq, lastSeq } = await A.ingest(evs);
  const seqById = new Map(evs.map((e, i) => [e.auditEventId, firstSeq + i]));
  await until('the cursor at the last event', async () => {
    const s = (await A.status(id)).json; return s.cursor === lastSeq && !s.inFlight && s;
  }, { diagnose: async () => (await A.status(id)).json });
  const names = (await gcs.objects('ev/')).map((o) => o.name);
  assert.ok(names.some((n) => /^ev\/\d+_\d+_\d+\.json$/.test(n)), names.join(', '));
  // Read as stored, with boto3 through GCS's XML API and HMAC keys.
  const hmacId = 'GOOG1EVIDENCEREADER';
  gcs.acceptHmac(hmacId);
  const got = await download(gcs.base, hmacId, newSecret(), 'auto', 'audit-gcs', names);
  assert.equal(verifyAll(got, (e) => seqById.get(e.auditEventId), await packageVerifier()), 30);
  // An object changed by one byte fails.
  const name = names.find((n) => n.endsWith('.json') && !n.endsWith('.evidence.json')).split('/').pop();
  const object = join(got.dir, name);
  writeFileSync(object, readFileSync(object, 'utf8').replace('"auditAction":"', '"auditAction":"X'));
  const out = verify(join(got.dir, `${name}.evidence.json`), object);
  assert.equal(out.status, 1, out.stdout + out.stderr);
  assert.match(out.stdout, /entry 0, seq \d+: bad_proof/);
  assert.equal((await A.patch(id, { status: 'inactive' })).status, 200);
});
