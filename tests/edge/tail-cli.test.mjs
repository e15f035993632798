// `trailsift tail` (the built CLI, target/native/trailsift or $TRAILSIFT_BIN) against the
// Worker: NDJSON of the matching events as they are committed, across a restart of the
// Worker (the CLI resumes after the last event it printed: no gap, no repeat).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startWorker, makeTokens, event, call, ROOT } from './harness.mjs';

const CLI = process.env.TRAILSIFT_BIN
  || join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'native', 'trailsift');

/** Runs `trailsift tail`; resolves {code, lines, stderr} when it exits. */
function runTail(args, token) {
  const child = spawn(CLI, ['tail', ...args], { env: { ...process.env, TRAILSIFT_TOKEN: token } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const done = new Promise((resolve) => child.on('exit', (code) => resolve({
    code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr: err,
  })));
  return { child, done, printed: () => out.split('\n').filter(Boolean).length };
}

async function subscribed(url, token, n) {
  for (let i = 0; i < 300; i++) {
    const r = await call(`${url}/v1/stats`, token);
    if (r.json?.subscribers === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never ${n} subscribers`);
}

function batch(account, from, n) {
  return Array.from({ length: n }, (_, i) => event(account, from + i, { auditEventId: `cli-${from + i}` }));
}

async function ingest(url, token, evs) {
  const r = await call(`${url}/v1/events`, token, {
    method: 'POST', body: evs.map((e) => JSON.stringify(e)).join('\n'), headers: { 'content-type': 'application/x-ndjson' },
  });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const creates = (evs) => evs.filter((e) => e.auditAction === 'CREATE').map((e) => e.auditEventId);

test('trailsift tail prints the matching events and resumes across a restart of the Worker', { timeout: 900_000 }, async () => {
  const { tokens: T, config } = makeTokens();
  let w = await startWorker({ tokensConfig: config });
  const { port, dir } = w;
  try {
    // Refusals exit 2 with the Worker's code.
    const bad = await runTail([w.url, '-q', 'acton:create'], T.aRead).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /HTTP 400 bad_filter/);
    const forbidden = await runTail([w.url], T.aIngest).done;
    assert.equal(forbidden.code, 2);
    assert.match(forbidden.stderr, /HTTP 403 forbidden/);

    const one = batch('acct_a', 0, 40);
    const two = batch('acct_a', 100, 40);
    const want = [...creates(one), ...creates(two)];
    const tail = runTail([w.url, '-q', 'action:create', '--limit', String(want.length)], T.aRead);
    await subscribed(w.url, T.aRead, 1);
    await ingest(w.url, T.aAll, one);
    while (tail.printed() < creates(one).length && tail.child.exitCode === null) await new Promise((r) => setTimeout(r, 100));

    await w.stop();
    w = await startWorker({ tokensConfig: config, persist: dir, port });
    // Committed while the CLI is still reconnecting: it reads them from storage.
    await ingest(w.url, T.aAll, two);
    const result = await tail.done;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.lines.map((e) => e.auditEventId), want);
    assert.deepEqual(result.lines[0], one.find((e) => e.auditAction === 'CREATE'));
  } finally {
    await w.stop();
    w.cleanup();
  }
});
