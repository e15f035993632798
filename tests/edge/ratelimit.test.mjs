// Per-account rate limiting: RATE_LIMIT_REQUESTS_PER_MINUTE=5 gives each account a bucket
// of 5 requests refilled at one every 12 s; the account's Durable Object keeps it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, makeTokens, event, call } from './harness.mjs';

const json = { 'content-type': 'application/json' };

test('an account over its limit gets 429 and stores nothing; other accounts are unaffected', { timeout: 900_000 }, async () => {
  const { tokens: T, config } = makeTokens();
  const w = await startWorker({ tokensConfig: config, vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '5' } });
  try {
    const ingest = (token, evs) => call(`${w.url}/v1/events`, token, { method: 'POST', body: JSON.stringify(evs), headers: json });

    // Requests 1-5 of acct_a (two of its tokens share the account's budget).
    const first = await ingest(T.aAll, [event('acct_a', 1)]);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.accepted, 1);
    for (const token of [T.aRead, T.aAll, T.aRead, T.aAll]) {
      const r = await call(`${w.url}/v1/events/acct_a-ev-1`, token);
      assert.equal(r.status, 200, r.text);
    }

    // The 6th request, an ingest, is refused before any work.
    const over = await ingest(T.aAll, [event('acct_a', 2)]);
    assert.equal(over.status, 429, over.text);
    assert.match(over.headers.get('content-type'), /application\/json/);
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 12, `Retry-After: ${over.headers.get('retry-after')}`);
    assert.equal(over.json.error.code, 'rate_limited');
    assert.equal(typeof over.json.error.message, 'string');
    assert.ok(over.json.error.message.length > 0);
    assert.deepEqual(over.json.error.details, { retryAfterSeconds: retry });

    // Another token of the same account is limited too: the limit is per account.
    const other = await call(`${w.url}/v1/events`, T.aRead);
    assert.equal(other.status, 429, other.text);
    assert.ok(Number(other.headers.get('retry-after')) >= 1);

    // acct_b still has its whole budget.
    const b1 = await ingest(T.bAll, [event('acct_b', 1)]);
    assert.equal(b1.status, 200, b1.text);
    assert.equal(b1.json.accepted, 1);
    const b2 = await call(`${w.url}/v1/events?from=now-30d`, T.bAll);
    assert.equal(b2.status, 200, b2.text);
    assert.deepEqual(b2.json.events.map((e) => e.auditEventId), ['acct_b-ev-1']);

    // Health and the API description are not account requests.
    assert.equal((await call(`${w.url}/v1/health`)).status, 200);

    // Once the bucket has a token again, acct_a is served, and the refused ingest stored
    // nothing.
    await new Promise((r) => setTimeout(r, (retry + 1) * 1000));
    const after = await call(`${w.url}/v1/events?from=now-30d`, T.aRead);
    assert.equal(after.status, 200, after.text);
    assert.deepEqual(after.json.events.map((e) => e.auditEventId), ['acct_a-ev-1']);
  } finally {
    await w.stop();
    w.cleanup();
  }
});

test('a limit of 0 disables rate limiting', { timeout: 900_000 }, async () => {
  const { tokens: T, config } = makeTokens();
  const w = await startWorker({ tokensConfig: config, vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '0' } });
  try {
    for (let i = 0; i < 30; i++) {
      const r = await call(`${w.url}/v1/events`, T.aRead);
      assert.equal(r.status, 200, `request ${i + 1}: ${r.text}`);
    }
  } finally {
    await w.stop();
    w.cleanup();
  }
});

test('a managed token spends its account\'s budget like any other', { timeout: 900_000 }, async () => {
  const { tokens: T, config } = makeTokens();
  const w = await startWorker({ tokensConfig: config, vars: { RATE_LIMIT_REQUESTS_PER_MINUTE: '4' } });
  try {
    // 1: the token is made; 2-3: it is used; 4: a bootstrap token of the account.
    const made = await call(`${w.url}/v1/tokens`, T.aAll, { method: 'POST', body: JSON.stringify({ name: 'n', scopes: ['read'] }), headers: json });
    assert.equal(made.status, 201, made.text);
    for (let i = 0; i < 2; i++) assert.equal((await call(`${w.url}/v1/events`, made.json.token)).status, 200);
    assert.equal((await call(`${w.url}/v1/events`, T.aRead)).status, 200);
    const over = await call(`${w.url}/v1/events`, made.json.token);
    assert.equal(over.status, 429, over.text);
    assert.equal(over.json.error.code, 'rate_limited');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    assert.equal((await call(`${w.url}/v1/events`, T.aRead)).status, 429);
    // A wrong token is still 401, not a spent budget.
    assert.equal((await call(`${w.url}/v1/events`, `ts_acct_a_${'B'.repeat(43)}`)).status, 401);
  } finally {
    await w.stop();
    w.cleanup();
  }
});
