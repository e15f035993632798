// The verifiable log of the Worker (integrity.md): checkpoints, inclusion and consistency
// proofs and evidence bundles, checked by an independent reference written here with Node's
// crypto (RFC 6962 hashing, Ed25519 signed notes) and by the real `trailsift` CLI, also
// after a restart of wrangler dev on the same state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, makeTokens, newLogSigningKey, event, call, packageVerifier, ROOT } from './harness.mjs';
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

    // Many ingests of every size around powers of two (with resends): each checkpoint
    // verifies, grows by exactly the new events and is consistent with the one before.
    let [prevNote, prev] = [note3, cp3];
    let serial = 1000;
    const many = [];
    for (const n of [1, 1, 2, 3, 5, 8, 13, 31, 32, 33, 63, 64, 65, 127, 1, 7, 128, 129, 255, 256, 257, 2, 511, 513]) {
      const batch = Array.from({ length: n }, () => event('acct_a', serial++, { auditEventTime: String(Date.now() - serial * 1000) }));
      await ingest(w, T.aAll, [...batch, first[1]]);
      const note = (await get(w, T.aRead, '/v1/log/checkpoint')).text;
      const cp = openCheckpoint(note, key);
      assert.equal(cp.size, prev.size + n, 'one leaf per new event');
      const r = await get(w, T.aRead, `/v1/log/proof/consistency?first=${prev.size}&second=${cp.size}`);
      assert.ok(verifyConsistency(prev.size, cp.size, r.json.proof.map((p) => Buffer.from(p, 'base64')), prev.root, cp.root),
        `${prev.size} → ${cp.size}`);
      many.push([note, cp]);
      [prevNote, prev] = [note, cp];
    }
    // The first checkpoint is a prefix of the last, by the CLI too.
    writeFileSync(join(tmp, 'old'), note1);
    writeFileSync(join(tmp, 'new'), prevNote);
    writeFileSync(join(tmp, 'proof.json'), (await get(w, T.aRead, `/v1/log/proof/consistency?first=${cp1.size}&second=${prev.size}`)).text);
    out = cli('verify-consistency', join(tmp, 'old'), join(tmp, 'new'), '--proof', join(tmp, 'proof.json'), '--key', keys[0]);
    assert.equal(out.status, 0, out.stdout + out.stderr);

    // After a second restart, every checkpoint signed so far is still listed and verifies.
    await w.stop();
    w = await startWorker({ tokensConfig: config, logSigningKey, vars, persist: dir });
    assert.equal((await get(w, T.aRead, '/v1/log/checkpoint')).text, prevNote, 'the same head after the restart');
    const kept = (await get(w, T.aRead, `/v1/log/checkpoints?from=${cp3.size + 1}`)).json.checkpoints;
    for (const [note, cp] of many) assert.equal(kept.find((c) => c.treeSize === cp.size)?.checkpoint, note);
    const whole = (await get(w, T.aRead, '/v1/evidence?from=now-7d')).json;
    assert.equal(whole.checkpoint, prevNote);
    assert.equal(whole.entries.length, prev.size);
    writeFileSync(bundlePath, JSON.stringify(whole));
    out = cli('verify', bundlePath, '--key', keys[0]);
    assert.equal(out.status, 0, out.stdout + out.stderr);
    assert.match(out.stdout, new RegExp(`verified ${prev.size} events against log\\.test/acct_a at size ${prev.size}`));

    // The other account has its own log and origin.
    const other = openCheckpoint((await get(w, T.bAll, '/v1/log/checkpoint')).text, key);
    assert.deepEqual([other.origin, other.size], ['log.test/acct_b', 1]);
  } finally {
    await w.stop();
    w.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
});

/** The account objects' SQLite files of a `wrangler dev` state directory. */
function objectDatabases(dir) {
  const found = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.sqlite') && p.includes(`${join('v3', 'do')}`)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

/** Runs SQL statements on a stopped Worker's account databases (those with a log) with
 * Python's sqlite3; answers how many it changed. */
function sqlite(files, statements) {
  const script = [
    'import sqlite3, sys',
    'changed = 0',
    'for f in sys.argv[2:]:',
    '    c = sqlite3.connect(f)',
    '    if c.execute("SELECT 1 FROM sqlite_master WHERE name = \'log_nodes\'").fetchone():',
    '        c.executescript(sys.argv[1])',
    '        c.commit()',
    '        changed += 1',
    '    c.close()',
    'print(changed)',
  ].join('\n');
  const out = spawnSync('python3', ['-c', script, statements, ...files], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return Number(out.stdout.trim());
}

test('retention keeps the hashes; an object with events stored before its log builds the leaves in order', { timeout: 900_000 }, async () => {
  const { tokens: T, config } = makeTokens();
  const logSigningKey = newLogSigningKey();
  const vars = { LOG_ORIGIN: 'log.test', LOG_CHECKPOINT_INTERVAL_SECONDS: '0', RETENTION_DAYS: '2', RETENTION_INTERVAL_SECONDS: '1' };
  const tmp = mkdtempSync(join(tmpdir(), 'trailsift-backfill-'));
  let w = await startWorker({ tokensConfig: config, logSigningKey, vars });
  const dir = w.dir;
  try {
    const keyText = (await get(w, undefined, '/v1/log/keys')).json.keys[0];
    const key = parseKey(keyText);
    // 3000 events (more than one backfill step), the first ten older than the retention.
    const now = Date.now();
    const evs = Array.from({ length: 3000 }, (_, i) => event('acct_a', i, {
      auditEventTime: String(i < 10 ? now - 5 * 86_400_000 - i : now - (3000 - i) * 1000),
    }));
    const a = await ingest(w, T.aAll, evs);
    assert.deepEqual([a.firstSeq, a.lastSeq], [1, 3000]);
    const seqOf = new Map(evs.map((e, i) => [e.auditEventId, i + 1]));
    const cpA = openCheckpoint((await get(w, T.aRead, '/v1/log/checkpoint')).text, key);
    assert.equal(cpA.size, 3000);

    // Retention deletes the old events; their leaves stay, so their proofs still verify.
    for (let i = 0; i < 60; i++) {
      const r = await get(w, T.aRead, '/v1/events?from=now-30d&order=asc&limit=20');
      if (r.json.events[0]?.auditEventId === 'acct_a-ev-10') break;
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal((await get(w, T.aRead, '/v1/events?from=now-30d&order=asc&limit=1')).json.events[0].auditEventId, 'acct_a-ev-10');
    for (const seq of [1, 5, 10]) {
      const { json } = await get(w, T.aRead, `/v1/log/proof/inclusion?seq=${seq}&treeSize=3000`);
      const leaf = leafHash(Buffer.from(jcs(evs[seq - 1])));
      assert.ok(verifyInclusion(leaf, seq - 1, 3000, json.proof.map((p) => Buffer.from(p, 'base64')), cpA.root), `deleted seq ${seq} still proves`);
    }
    const recent = () => ({ auditEventTime: String(Date.now() - 1000) });
    await ingest(w, T.aAll, [event('acct_a', 5000, recent())]);
    const cpB = openCheckpoint((await get(w, T.aRead, '/v1/log/checkpoint')).text, key);
    const cons = await get(w, T.aRead, `/v1/log/proof/consistency?first=3000&second=${cpB.size}`);
    assert.ok(verifyConsistency(3000, cpB.size, cons.json.proof.map((p) => Buffer.from(p, 'base64')), cpA.root, cpB.root));

    // The object as an older version left it: events, but no log. Seq 1500 is missing too
    // (a number an older commit skipped).
    await w.stop();
    const dbs = objectDatabases(dir);
    const changed = sqlite(dbs, 'DELETE FROM log_nodes; DELETE FROM log_checkpoints; DELETE FROM log_origin; DELETE FROM events WHERE seq = 1500;');
    assert.equal(changed, 1, `the account's database among ${dbs.join(', ')}`);
    w = await startWorker({ tokensConfig: config, logSigningKey, vars, persist: dir });

    // The first request is a commit: its events get their leaves in order, after the others.
    const fresh = Array.from({ length: 40 }, (_, i) => event('acct_a', 6000 + i, recent()));
    const c = await ingest(w, T.aAll, fresh);
    assert.deepEqual([c.firstSeq, c.lastSeq], [3002, 3041]);
    fresh.forEach((e, i) => seqOf.set(e.auditEventId, 3002 + i));
    seqOf.set('acct_a-ev-5000', 3001);
    let cp;
    for (let i = 0; i < 60; i++) {
      cp = openCheckpoint((await get(w, T.aRead, '/v1/log/checkpoint')).text, key);
      if (cp.size === 3041) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal(cp.size, 3041, 'the tree caught up with every sequence number');

    // Every stored event proves at its own sequence number; the CLI agrees.
    const bundle = await get(w, T.aRead, '/v1/evidence?from=now-30d');
    assert.equal(bundle.json.entries.length, 3041 - 10 - 1);
    for (const e of bundle.json.entries) assert.equal(e.seq, seqOf.get(e.event.auditEventId), e.event.auditEventId);
    writeFileSync(join(tmp, 'bundle.json'), bundle.text);
    let out = spawnSync(CLI, ['verify', join(tmp, 'bundle.json'), '--key', keyText], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /verified 3030 events against log\.test\/acct_a at size 3041/);
    // Where no event was stored, the leaf is the hash of empty bytes.
    for (const seq of [1, 10, 1500]) {
      const { json } = await get(w, T.aRead, `/v1/log/proof/inclusion?seq=${seq}&treeSize=3041`);
      assert.ok(verifyInclusion(leafHash(Buffer.alloc(0)), seq - 1, 3041, json.proof.map((p) => Buffer.from(p, 'base64')), cp.root), `seq ${seq}`);
    }
    // The tree rebuilt over the stored events is the one signed before, but for the
    // sequence numbers whose events were gone: seq 11..1499 prove as before.
    const { json: p20 } = await get(w, T.aRead, '/v1/log/proof/inclusion?seq=20&treeSize=3041');
    assert.ok(verifyInclusion(leafHash(Buffer.from(jcs(evs[19]))), 19, 3041, p20.proof.map((p) => Buffer.from(p, 'base64')), cp.root));

    // Later commits append at once, consistent with the rebuilt head.
    const d = await ingest(w, T.aAll, [event('acct_a', 7000, recent()), event('acct_a', 7001, recent())]);
    assert.equal(d.lastSeq, 3043);
    const noteE = (await get(w, T.aRead, '/v1/log/checkpoint')).text;
    const cpE = openCheckpoint(noteE, key);
    assert.equal(cpE.size, 3043);
    const proof = await get(w, T.aRead, '/v1/log/proof/consistency?first=3041&second=3043');
    const list = (await get(w, T.aRead, '/v1/log/checkpoints?from=3041&to=3041')).json.checkpoints;
    writeFileSync(join(tmp, 'old'), list[0].checkpoint);
    writeFileSync(join(tmp, 'new'), noteE);
    writeFileSync(join(tmp, 'proof.json'), proof.text);
    out = spawnSync(CLI, ['verify-consistency', join(tmp, 'old'), join(tmp, 'new'), '--proof', join(tmp, 'proof.json'), '--key', keyText], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stdout + out.stderr);
  } finally {
    await w.stop();
    w.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
});
