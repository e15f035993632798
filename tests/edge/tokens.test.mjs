// API tokens managed per account: POST/GET /v1/tokens, DELETE /v1/tokens/{id}, against the
// Worker in wrangler dev. The tokens of TRAILSIFT_TOKENS are the bootstrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerPerFile, event, call } from './harness.mjs';

// Failed authentications are not limited here (tests/edge/security.test.mjs does that).
const W = workerPerFile({ vars: { AUTH_FAILURES_PER_MINUTE: '0' } });
const T = W.tokens;

const json = { 'content-type': 'application/json' };
const make = (token, body) => call(`${W.url}/v1/tokens`, token, { method: 'POST', body: JSON.stringify(body), headers: json });
const ingest = (token, evs) => call(`${W.url}/v1/events`, token, { method: 'POST', body: JSON.stringify(evs), headers: json });

test('an admin makes a token; its secret is shown once and works with its scopes only', async () => {
  const made = await make(T.aAll, { name: 'ci ingest', scopes: ['ingest'], owner: 'ci-bot', expiresAt: 'now+30d' });
  assert.equal(made.status, 201, made.text);
  const { token, id } = made.json;
  assert.match(token, /^ts_acct_a_[A-Za-z0-9_-]{43}$/);
  assert.match(id, /^tok_[0-9a-f]{16}$/);
  assert.equal(made.json.name, 'ci ingest');
  assert.equal(made.json.owner, 'ci-bot');
  assert.deepEqual(made.json.scopes, ['ingest']);
  assert.equal(made.json.lastUsedAt, null);
  const expires = Date.parse(made.json.expiresAt);
  assert.ok(Math.abs(expires - (Date.now() + 30 * 86_400_000)) < 600_000, made.json.expiresAt);
  assert.ok(Math.abs(Date.parse(made.json.createdAt) - Date.now()) < 600_000, made.json.createdAt);

  // It ingests into its account, and lacks read.
  const r = await ingest(token, [event('acct_a', 1)]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, 1);
  const q = await call(`${W.url}/v1/events`, token);
  assert.equal(q.status, 403, q.text);
  assert.equal(q.json.error.code, 'forbidden');
  // Events of another account are still refused: the token's account is acct_a.
  const wrong = await ingest(token, [event('acct_b', 2)]);
  assert.equal(wrong.json.accepted, 0, wrong.text);

  // Listed without its secret, with lastUsedAt set by that use.
  const list = await call(`${W.url}/v1/tokens`, T.aAll);
  assert.equal(list.status, 200, list.text);
  const mine = list.json.tokens.find((t) => t.id === id);
  assert.ok(mine, list.text);
  assert.deepEqual(Object.keys(mine).sort(), ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'owner', 'scopes']);
  assert.ok(Math.abs(Date.parse(mine.lastUsedAt) - Date.now()) < 600_000, mine.lastUsedAt);
  assert.ok(!list.text.includes(token.slice(10)), 'the secret is never listed');
});

test('a revoked token is 401 at once; revoking twice or another account\'s token is 404', async () => {
  const made = await make(T.aAll, { name: 'short-lived', scopes: ['read'] });
  assert.equal(made.status, 201, made.text);
  const { token, id } = made.json;
  assert.equal(made.json.owner, 'alice', 'the maker owns it by default');
  assert.equal((await call(`${W.url}/v1/events`, token)).status, 200);

  // acct_b's admin cannot see or revoke it, and learns nothing: the same 404 as an unknown id.
  const other = await call(`${W.url}/v1/tokens/${id}`, T.bAll, { method: 'DELETE' });
  const unknown = await call(`${W.url}/v1/tokens/tok_0000000000000000`, T.bAll, { method: 'DELETE' });
  assert.equal(other.status, 404, other.text);
  assert.deepEqual(other.json, unknown.json);
  assert.ok(!(await call(`${W.url}/v1/tokens`, T.bAll)).text.includes(id));

  const del = await call(`${W.url}/v1/tokens/${id}`, T.aAll, { method: 'DELETE' });
  assert.equal(del.status, 200, del.text);
  assert.deepEqual(del.json, { revoked: id });
  const after = await call(`${W.url}/v1/events`, token);
  assert.equal(after.status, 401, after.text);
  assert.equal(after.json.error.code, 'unauthorized');
  assert.equal((await call(`${W.url}/v1/tokens/${id}`, T.aAll, { method: 'DELETE' })).status, 404);
  assert.ok(!(await call(`${W.url}/v1/tokens`, T.aAll)).text.includes(id));
});

test('an expired token is 401', async () => {
  const made = await make(T.aAll, { name: 'two seconds', scopes: ['read'], expiresAt: Date.now() + 2000 });
  assert.equal(made.status, 201, made.text);
  assert.equal((await call(`${W.url}/v1/events`, made.json.token)).status, 200);
  await new Promise((r) => setTimeout(r, 2500));
  const late = await call(`${W.url}/v1/events`, made.json.token);
  assert.equal(late.status, 401, late.text);
});

test('a token cannot make a token with scopes it lacks; only admin manages tokens', async () => {
  const made = await make(T.aAll, { name: 'sub-admin', scopes: ['read', 'admin'] });
  assert.equal(made.status, 201, made.text);
  const sub = made.json.token;
  const wider = await make(sub, { name: 'wider', scopes: ['ingest'] });
  assert.equal(wider.status, 403, wider.text);
  assert.equal(wider.json.error.code, 'forbidden');
  const same = await make(sub, { name: 'narrower', scopes: ['read'] });
  assert.equal(same.status, 201, same.text);
  assert.ok(same.json.token.startsWith('ts_acct_a_'));

  for (const [method, path, body] of [['GET', '/v1/tokens'], ['POST', '/v1/tokens', '{}'], ['DELETE', `/v1/tokens/${made.json.id}`]]) {
    const r = await call(`${W.url}${path}`, T.aRead, { method, body, headers: json });
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
  }
});

test('bad definitions are 400 bad_token naming the field', async () => {
  for (const [body, field] of [
    [{ scopes: ['read'] }, 'name'],
    [{ name: 'n', scopes: [] }, 'scopes'],
    [{ name: 'n', scopes: ['root'] }, 'scopes'],
    [{ name: 'n', scopes: ['read'], expiresAt: 'yesterday' }, 'expiresAt'],
    [{ name: 'n', scopes: ['read'], expiresAt: '2001-01-01' }, 'expiresAt'],
  ]) {
    const r = await make(T.aAll, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.error.code, 'bad_token');
    assert.equal(r.json.error.details.field, field);
  }
  const notJson = await call(`${W.url}/v1/tokens`, T.aAll, { method: 'POST', body: '{', headers: json });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.json.error.code, 'bad_json');
});

test('forged tokens naming an account are 401 like any unknown token', async () => {
  const forged = await call(`${W.url}/v1/events`, `ts_acct_a_${'A'.repeat(43)}`);
  const nowhere = await call(`${W.url}/v1/events`, `ts_no_such_account_${'A'.repeat(43)}`);
  const garbage = await call(`${W.url}/v1/events`, 'garbage');
  for (const r of [forged, nowhere, garbage]) assert.equal(r.status, 401, r.text);
  assert.deepEqual(forged.json, nowhere.json);
  assert.deepEqual(forged.json, garbage.json);
});

test('405 on the token paths names what they allow', async () => {
  const r = await call(`${W.url}/v1/tokens`, T.aAll, { method: 'PUT' });
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'GET, POST');
  const one = await call(`${W.url}/v1/tokens/x`, T.aAll, { method: 'GET' });
  assert.equal(one.status, 405);
  assert.equal(one.headers.get('allow'), 'DELETE');
});

test('the API description documents the token endpoints', async () => {
  const doc = (await call(`${W.url}/v1/openapi.json`)).json;
  assert.deepEqual(Object.keys(doc.paths['/v1/tokens']).sort(), ['get', 'post']);
  assert.deepEqual(Object.keys(doc.paths['/v1/tokens/{id}']), ['delete']);
  assert.ok(doc.components.schemas.Token.properties.lastUsedAt);
  assert.ok(!('token' in doc.components.schemas.Token.properties), 'a listed token has no secret');
});
