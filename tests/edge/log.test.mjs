// The verifiable log of the Worker (integrity.md): checkpoints, inclusion and consistency
// proofs and evidence bundles, checked by an independent reference written here with Node's
// crypto (RFC 6962 hashing, Ed25519 signed notes) and by the real `trailsift` CLI, also
// after a restart of wrangler dev on the same state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startWorker, makeTokens, newLogSigningKey, event, call, ROOT } from './harness.mjs';
import { openapiChecker } from './destinations.mjs';

// The CLI that `make cli` builds (a dependency of make test-edge), or $TRAILSIFT_BIN.
const CLI = process.env.TRAILSIFT_BIN
  || join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'native', 'trailsift');

// ---- the reference verifier --------------------------------------------------------------

const sha = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (bytes) => sha(Buffer.from([0]), Buffer.from(bytes));
const nodeHash = (l, r) => sha(Buffer.from([1]), l, r);

/** RFC 8785 for the JSON our events hold (objects, arrays, strings, numbers, literals). */
function jcs(v) {
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** RFC 9162 2.1.3.2. */
function verifyInclusion(leaf, index, size, proof, root) {
  if (index >= size) return false;
  let fn = index; let sn = size - 1; let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2. */
function verifyConsistency(first, second, proof, firstRoot, secondRoot) {
  if (first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1; let sn = second - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0]; let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr); sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

/** A verifier key `<name>+<id hex>+<base64(0x01 || key)>` (base64 may hold '+'), its id
 * checked. */
function parseKey(text) {
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  const [name, id, b64] = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  const raw = Buffer.from(b64, 'base64');
  assert.equal(raw[0], 1, 'an Ed25519 key');
  const pub = raw.subarray(1);
  const want = sha(Buffer.from(name), Buffer.from([0x0a, 0x01]), pub).subarray(0, 4).toString('hex');
  assert.equal(id, want, 'the key id is SHA-256(name || 0x0A || 0x01 || key)[0:4]');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  return { name, id, key };
}

/** Opens a signed checkpoint with `key`: its origin, size and root. */
function openCheckpoint(note, key) {
  const [text, sigs] = note.split('\n\n');
  const body = `${text}\n`;
  const lines = body.split('\n');
  assert.equal(lines.length, 4, 'three lines of checkpoint text');
  const line = sigs.split('\n').find((l) => l.startsWith(`\u2014 ${key.name} `));
  assert.ok(line, 'a signature line of the key');
  const sig = Buffer.from(line.split(' ')[2], 'base64');
  assert.equal(sig.subarray(0, 4).toString('hex'), key.id);
  assert.ok(edVerify(null, Buffer.from(body), key.key, sig.subarray(4)), 'the signature verifies');
  return { origin: lines[0], size: Number(lines[1]), root: Buffer.from(lines[2], 'base64') };
}

// ---- helpers ------------------------------------------------------------------------------

const ndjson = (events) => events.map((e) => JSON.stringify(e)).join('\n');

async function ingest(w, token, events) {
  const r = await call(`${w.url}/v1/events`, token, { method: 'POST', body: ndjson(events),
    headers: { 'content-type': 'application/x-ndjson' } });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const check = openapiChecker();

/** A GET answered with `status`; a JSON answer must match the OpenAPI document. */
async function get(w, token, path, status = 200) {
  const r = await call(`${w.url}${path}`, token);
  assert.equal(r.status, status, `${path}: ${r.text}`);
  if (r.json !== undefined) check('GET', path.split('?')[0], r);
  return r;
}

/** Every leaf from 1 to the checkpoint's size proves against it (asked one by one). */
async function checkEveryInclusion(w, token, cp, bySeq) {
  for (let seq = 1; seq <= cp.size; seq++) {
    const { json } = await get(w, token, `/v1/log/proof/inclusion?seq=${seq}&treeSize=${cp.size}`);
    assert.equal(json.leafIndex, seq - 1);
    assert.equal(json.treeSize, cp.size);
    const proof = json.proof.map((p) => Buffer.from(p, 'base64'));
    const leaf = leafHash(Buffer.from(jcs(bySeq.get(seq))));
    assert.ok(verifyInclusion(leaf, seq - 1, cp.size, proof, cp.root), `seq ${seq} proves`);
  }
}

function cli(...args) {
  return spawnSync(CLI, args, { encoding: 'utf8' });
}

// The npm package's verifier (`trailsift/verify`, its own .wasm), built like the CLI when missing.
async function packageVerifier() {
  const entry = join(ROOT, 'pkg', 'verify-node.mjs');
  if (!existsSync(entry)) {
    const built = spawnSync(join(ROOT, 'scripts', 'build-pkg.sh'), [], { cwd: ROOT, stdio: 'inherit' });
    assert.equal(built.status, 0, 'the package builds');
  }
  return import(pathToFileURL(entry).href);
}

test('the log: checkpoints, proofs and evidence verify, by reference, CLI and npm package, across a restart', { timeout: 900_000 }, async () => {
  if (!existsSync(CLI)) {
    const built = spawnSync('cargo', ['build', '--profile', 'native', '--features', 'cli'], { cwd: ROOT, stdio: 'inherit' });
    assert.equal(built.status, 0, 'the CLI builds');
  }
  const { tokens: T, config } = makeTokens();
  const logSigningKey = newLogSigningKey();
  const vars = { LOG_ORIGIN: 'log.test', LOG_CHECKPOINT_INTERVAL_SECONDS: '0' };
  const tmp = mkdtempSync(join(tmpdir(), 'trailsift-log-'));
  let w = await startWorker({ tokensConfig: config, logSigningKey, vars });
  const dir = w.dir;
  try {
    // The verifier key, without a token.
    const keys = (await get(w, undefined, '/v1/log/keys')).json.keys;
    assert.equal(keys.length, 1);
    const key = parseKey(keys[0]);
    assert.equal(key.name, 'log.test');

    // Nothing stored yet: no checkpoint.
    await get(w, T.aAll, '/v1/log/checkpoint', 404);

    // Several ingests, with resends within and across batches: sequence numbers stay
    // without gaps, so leaf i is seq i + 1.
    const first = Array.from({ length: 40 }, (_, i) => event('acct_a', i));
    const a = await ingest(w, T.aAll, first);
    assert.deepEqual([a.firstSeq, a.lastSeq], [1, 40]);
    const second = [...first.slice(0, 10), ...Array.from({ length: 30 }, (_, i) => event('acct_a', 40 + i)), first[3]];
    const b = await ingest(w, T.aIngest, second);
    assert.deepEqual([b.firstSeq, b.lastSeq], [41, 70]);
    await ingest(w, T.bAll, [event('acct_b', 1)]);

    const r1 = await get(w, T.aRead, '/v1/log/checkpoint');
    assert.match(r1.headers.get('content-type'), /^text\/plain/);
    const note1 = r1.text;
    const cp1 = openCheckpoint(note1, key);
    assert.deepEqual([cp1.origin, cp1.size], ['log.test/acct_a', 70]);

    // The evidence bundle of every event of acct_a gives seq ↔ event; its proofs verify.
    const ev = await get(w, T.aRead, '/v1/evidence?from=now-2d');
    assert.equal(ev.json.checkpoint, note1, 'proved against the latest signed checkpoint');
    assert.equal(ev.json.entries.length, 70);
    const bySeq = new Map();
    for (const e of ev.json.entries) {
      bySeq.set(e.seq, e.event);
      const leaf = leafHash(Buffer.from(jcs(e.event)));
      assert.ok(verifyInclusion(leaf, e.seq - 1, cp1.size, e.proof.map((p) => Buffer.from(p, 'base64')), cp1.root),
        `bundle entry seq ${e.seq}`);
    }
    assert.deepEqual([...bySeq.keys()].sort((x, y) => x - y), Array.from({ length: 70 }, (_, i) => i + 1));
    assert.equal(bySeq.get(4).auditEventId, 'acct_a-ev-3');
    await checkEveryInclusion(w, T.aRead, cp1, bySeq);

    // The CLI verifies the bundle; one byte changed in one event is caught and located.
    const bundlePath = join(tmp, 'bundle.json');
    writeFileSync(bundlePath, ev.text);
    let out = cli('verify', bundlePath, '--key', keys[0]);
    assert.equal(out.status, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /verified 70 events against log\.test\/acct_a at size 70/);
    const tampered = structuredClone(ev.json);
    const at = 5;
    tampered.entries[at].event.auditResource.identifier = tampered.entries[at].event.auditResource.identifier.replace(/.$/, 'X');
    writeFileSync(join(tmp, 'tampered.json'), JSON.stringify(tampered));
    out = cli('verify', join(tmp, 'tampered.json'), '--key', keys[0]);
    assert.equal(out.status, 1, out.stdout + out.stderr);
    assert.match(out.stdout, new RegExp(`entry ${at}, seq ${tampered.entries[at].seq}: bad_proof`));
    assert.equal(out.stdout.trim().split('\n').length, 1, 'only the changed entry fails');
    // The package's verifier says the same of both.
    const pkg = await packageVerifier();
    const good = pkg.verifyEvidence(ev.text, { keys });
    assert.deepEqual([good.ok, good.verified, good.checkpoint.origin, good.checkpoint.size], [true, 70, 'log.test/acct_a', 70]);
    const bad = pkg.verifyEvidence(JSON.stringify(tampered), { keys });
    assert.deepEqual(bad.failures.map((f) => [f.index, f.seq, f.code]), [[at, tampered.entries[at].seq, 'bad_proof']]);

    // Parameters out of range are clear 400s; the paths take only GET.
    for (const [path, code] of [
      ['/v1/log/proof/inclusion?seq=0&treeSize=70', 'seq_out_of_range'],
      ['/v1/log/proof/inclusion?seq=71&treeSize=70', 'seq_out_of_range'],
      ['/v1/log/proof/inclusion?seq=1&treeSize=71', 'tree_size_out_of_range'],
      ['/v1/log/proof/inclusion?seq=x&treeSize=5', 'bad_parameter'],
      ['/v1/log/proof/inclusion?treeSize=5', 'bad_parameter'],
      ['/v1/log/proof/consistency?first=9&second=8', 'bad_range'],
      ['/v1/log/proof/consistency?first=1&second=71', 'tree_size_out_of_range'],
      ['/v1/evidence?limit=0', 'bad_parameter'],
    ]) {
      assert.equal((await get(w, T.aRead, path, 400)).json.error.code, code, path);
    }
    const post = await call(`${w.url}/v1/log/checkpoint`, T.aAll, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
    // Reading the log takes `read`; the keys take no token.
    assert.equal((await get(w, T.aIngest, '/v1/evidence', 403)).json.error.code, 'forbidden');
    await get(w, T.aIngest, '/v1/log/checkpoint', 403);
    await get(w, undefined, '/v1/log/checkpoint', 401);

    // More events, a restart on the same state, more events: every checkpoint verifies and
    // each is consistent with the ones before.
    await ingest(w, T.aAll, Array.from({ length: 17 }, (_, i) => event('acct_a', 70 + i)));
    const note2 = (await get(w, T.aRead, '/v1/log/checkpoint')).text;
    const cp2 = openCheckpoint(note2, key);
    assert.equal(cp2.size, 87);
    await w.stop();
    w = await startWorker({ tokensConfig: config, logSigningKey, vars, persist: dir });
    assert.deepEqual((await get(w, undefined, '/v1/log/keys')).json.keys, keys);
    assert.equal((await get(w, T.aRead, '/v1/log/checkpoint')).text, note2, 'the same checkpoint after the restart');
    await ingest(w, T.aAll, [...Array.from({ length: 9 }, (_, i) => event('acct_a', 87 + i)), first[0]]);
    const note3 = (await get(w, T.aRead, '/v1/log/checkpoint')).text;
    const cp3 = openCheckpoint(note3, key);
    assert.equal(cp3.size, 96);

    // The list holds these three (and any the alarm signed meanwhile), each verifying.
    const list = (await get(w, T.aRead, '/v1/log/checkpoints')).json.checkpoints;
    const sizes = list.map((c) => c.treeSize);
    assert.deepEqual(sizes, [...sizes].sort((x, y) => x - y));
    for (const [note, cp] of [[note1, cp1], [note2, cp2], [note3, cp3]]) {
      assert.equal(list.find((c) => c.treeSize === cp.size)?.checkpoint, note);
    }
    for (const c of list) assert.equal(openCheckpoint(c.checkpoint, key).size, c.treeSize);
    assert.deepEqual((await get(w, T.aRead, '/v1/log/checkpoints?from=87&to=87')).json.checkpoints.map((c) => c.treeSize), [87]);

    const cps = [[note1, cp1], [note2, cp2], [note3, cp3]];
    for (let i = 0; i < cps.length; i++) {
      for (let j = i + 1; j < cps.length; j++) {
        const [oldNote, old] = cps[i]; const [newNote, neu] = cps[j];
        const r = await get(w, T.aRead, `/v1/log/proof/consistency?first=${old.size}&second=${neu.size}`);
        const proof = r.json.proof.map((p) => Buffer.from(p, 'base64'));
        assert.ok(verifyConsistency(old.size, neu.size, proof, old.root, neu.root), `${old.size} → ${neu.size}`);
        writeFileSync(join(tmp, 'old'), oldNote);
        writeFileSync(join(tmp, 'new'), newNote);
        writeFileSync(join(tmp, 'proof.json'), r.text);
        out = cli('verify-consistency', join(tmp, 'old'), join(tmp, 'new'), '--proof', join(tmp, 'proof.json'), '--key', keys[0]);
        assert.equal(out.status, 0, out.stdout + out.stderr);
        assert.ok((await packageVerifier()).verifyConsistency(oldNote, newNote, r.text, { keys }).ok, `package: ${old.size} → ${neu.size}`);
      }
    }
    // A proof between other sizes does not pass for these checkpoints.
    const wrong = await get(w, T.aRead, '/v1/log/proof/consistency?first=69&second=96');
    writeFileSync(join(tmp, 'old'), note1);
    writeFileSync(join(tmp, 'proof.json'), wrong.text);
    out = cli('verify-consistency', join(tmp, 'old'), join(tmp, 'new'), '--proof', join(tmp, 'proof.json'), '--key', keys[0]);
    assert.notEqual(out.status, 0, out.stdout + out.stderr);

    // Events stored before the restart still prove against the newest checkpoint.
    const after = await get(w, T.aRead, '/v1/evidence?from=now-2d&q=action:CREATE');
    assert.ok(after.json.entries.length > 0);
    assert.equal(after.json.checkpoint, note3);
    const all = (await get(w, T.aRead, '/v1/evidence?from=now-2d')).json;
    for (const e of all.entries) bySeq.set(e.seq, e.event);
    await checkEveryInclusion(w, T.aRead, cp3, bySeq);
    writeFileSync(bundlePath, after.text);
    out = cli('verify', bundlePath, '--key', keys[0]);
    assert.equal(out.status, 0, out.stdout + out.stderr);

    // The other account has its own log and origin.
    const other = openCheckpoint((await get(w, T.bAll, '/v1/log/checkpoint')).text, key);
    assert.deepEqual([other.origin, other.size], ['log.test/acct_b', 1]);
  } finally {
    await w.stop();
    w.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
});
