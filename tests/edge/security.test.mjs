// The security items of the Worker, against wrangler dev: failed authentication limited per
// client address, no answer revealing another account, no credential or token in an answer,
// spreadsheet-safe CSV exports, destination URLs checked, and every input limit answered
// with its own error code. SECURITY.md describes what these protect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerPerFile, event, call } from './harness.mjs';

const MAX_BODY = 200_000;
const MAX_EVENT = 20_000;
const FAILURES = 3;

const W = workerPerFile({
  vars: {
    AUTH_FAILURES_PER_MINUTE: String(FAILURES),
    ALLOW_HTTP_DESTINATIONS: 'false',
    MAX_BODY_BYTES: String(MAX_BODY),
    MAX_EVENT_BYTES: String(MAX_EVENT),
  },
});
const T = W.tokens;

const json = { 'content-type': 'application/json' };
const send = (token, method, path, body, headers = {}) =>
  call(`${W.url}${path}`, token, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { ...json, ...headers } });
const ingest = (token, evs) => send(token, 'POST', '/v1/events', evs);

test('no answer tells another account\'s ids from ids that do not exist', async () => {
  assert.equal((await ingest(T.bAll, [event('acct_b', 1)])).status, 200);
  const filter = await send(T.bAll, 'POST', '/v1/filters', { id: 'b-filter', name: 'b', query: 'action:CREATE', visibility: 'account' });
  assert.equal(filter.status, 201, filter.text);
  const dest = await send(T.bAll, 'POST', '/v1/destinations', { name: 'B hook', type: 'webhook', config: { url: 'https://receiver.example/hook' }, credentials: { secret: 'b-hook-secret' } });
  assert.equal(dest.status, 201, dest.text);
  const token = await send(T.bAll, 'POST', '/v1/tokens', { name: 'b token', scopes: ['read'] });
  assert.equal(token.status, 201, token.text);

  const pairs = [
    ['GET', '/v1/events/acct_b-ev-1', '/v1/events/no-such-event'],
    ['GET', '/v1/filters/b-filter', '/v1/filters/no-such-filter'],
    ['PUT', '/v1/filters/b-filter', '/v1/filters/no-such-filter', { name: 'x', query: 'action:DELETE' }],
    ['DELETE', '/v1/filters/b-filter', '/v1/filters/no-such-filter'],
    ['GET', `/v1/destinations/${dest.json.id}`, '/v1/destinations/no-such-destination'],
    ['GET', `/v1/destinations/${dest.json.id}/status`, '/v1/destinations/no-such-destination/status'],
    ['PATCH', `/v1/destinations/${dest.json.id}`, '/v1/destinations/no-such-destination', { name: 'x' }],
    ['DELETE', `/v1/destinations/${dest.json.id}`, '/v1/destinations/no-such-destination'],
    ['DELETE', `/v1/tokens/${token.json.id}`, '/v1/tokens/tok_0000000000000000'],
  ];
  for (const [method, theirs, none, body] of pairs) {
    const a = await send(T.aAll, method, theirs, body);
    const b = await send(T.aAll, method, none, body);
    assert.equal(a.status, 404, `${method} ${theirs}: ${a.text}`);
    assert.equal(b.status, a.status, `${method} ${none}`);
    // Same code and message once the id itself is taken out.
    assert.deepEqual(a.json.error.code, b.json.error.code);
    assert.equal(a.json.error.message, b.json.error.message, `${method}: ${a.text} / ${b.text}`);
  }
  // Lists show nothing of acct_b.
  for (const path of ['/v1/filters', '/v1/destinations', '/v1/tokens', '/v1/events?from=now-30d']) {
    const r = await send(T.aAll, 'GET', path);
    assert.equal(r.status, 200, r.text);
    for (const id of ['b-filter', dest.json.id, token.json.id, 'acct_b-ev-1']) assert.ok(!r.text.includes(id), `${path} shows ${id}`);
  }
});

test('credentials and token secrets never come back in an answer', async () => {
  const secret = 'hook-secret-that-must-not-leak';
  const made = await send(T.aAll, 'POST', '/v1/destinations', { name: 'A hook', type: 'webhook', config: { url: 'https://receiver.example/a' }, credentials: { secret } });
  assert.equal(made.status, 201, made.text);
  const token = await send(T.aAll, 'POST', '/v1/tokens', { name: 'leak check', scopes: ['read'] });
  assert.equal(token.status, 201, token.text);
  const shown = [made.text, (await send(T.aAll, 'GET', `/v1/destinations/${made.json.id}`)).text,
    (await send(T.aAll, 'GET', '/v1/destinations')).text, (await send(T.aAll, 'GET', '/v1/tokens')).text];
  for (const text of shown) {
    assert.ok(!text.includes(secret), text);
    assert.ok(!text.includes(token.json.token), text);
    for (const t of Object.values(T)) assert.ok(!text.includes(t), 'a bootstrap token in an answer');
  }
  // A URL with user info is refused without echoing it; a wrong token is not echoed.
  const withPassword = await send(T.aAll, 'POST', '/v1/destinations', { name: 'x', type: 'webhook', config: { url: 'https://user:pa55word-xyz@receiver.example/' }, credentials: { secret } });
  assert.equal(withPassword.status, 400);
  assert.ok(!withPassword.text.includes('pa55word-xyz'), withPassword.text);
  const wrong = await call(`${W.url}/v1/events`, 'wrong-token-value-123', { headers: { 'cf-connecting-ip': '198.51.100.1' } });
  assert.equal(wrong.status, 401);
  assert.ok(!wrong.text.includes('wrong-token-value-123'));
});

test('CSV exports are spreadsheet-safe', async () => {
  const hostile = ['=HYPERLINK("http://evil.example","x")', '+1+cmd', '-2+3', '@SUM(A1)', '\tTAB', '\rCR'];
  const evs = hostile.map((v, i) => event('acct_a', 900 + i, { auditResource: { type: 'SECRET', identifier: v } }));
  const r = await ingest(T.aAll, evs);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, hostile.length, r.text);
  const csv = await call(`${W.url}/v1/events?format=csv&q=${encodeURIComponent('resource.type:SECRET')}&from=now-30d`, T.aRead);
  assert.equal(csv.status, 200, csv.text);
  for (const v of hostile) {
    assert.ok(!csv.text.split(/\n/).some((line) => line.split(',').some((cell) => cell.replace(/^"/, '').startsWith(v.slice(0, 2)))),
      `a cell starts with ${JSON.stringify(v)}`);
    assert.ok(csv.text.includes(`'${v.slice(0, 3)}`), `${JSON.stringify(v)} is not prefixed with ': ${csv.text.slice(0, 400)}`);
  }
});

test('destination URLs: https, no user info, nothing local or private', async () => {
  const hook = (url) => send(T.aAll, 'POST', '/v1/destinations', { name: 'u', type: 'webhook', config: { url }, credentials: { secret: 's' } });
  for (const [url, code] of [
    ['ftp://receiver.example/', 'bad_destination_url'],
    ['not a url', 'bad_destination_url'],
    ['https://u:p@receiver.example/', 'bad_destination_url'],
    ['http://receiver.example/', 'http_not_allowed'],
    ['https://localhost/hook', 'private_destination'],
    ['https://127.0.0.1/hook', 'private_destination'],
    ['https://10.0.0.8/hook', 'private_destination'],
    ['https://169.254.169.254/latest/meta-data', 'private_destination'],
    ['https://[::1]/hook', 'private_destination'],
  ]) {
    const r = await hook(url);
    assert.equal(r.status, 400, `${url}: ${r.text}`);
    assert.equal(r.json.error.code, code, `${url}: ${r.text}`);
    assert.equal(r.json.error.details.field, 'config.url');
  }
});

test('every input limit has its own clear error', async (t) => {
  await t.test('body', async () => {
    const evs = [];
    for (let i = 0; JSON.stringify(evs).length <= MAX_BODY; i++) evs.push(event('acct_a', 2000 + i));
    const r = await ingest(T.aAll, evs);
    assert.equal(r.status, 413, r.text.slice(0, 300));
    assert.equal(r.json.error.code, 'too_large');
    assert.match(r.json.error.message, /\d/);
  });
  await t.test('line (one event)', async () => {
    const big = event('acct_a', 3000, { auditEventMetadata: { blob: 'x'.repeat(MAX_EVENT) } });
    const r = await call(`${W.url}/v1/events`, T.aAll, { method: 'POST', body: `${JSON.stringify(event('acct_a', 3001))}\n${JSON.stringify(big)}\n`, headers: { 'content-type': 'application/x-ndjson' } });
    assert.ok(r.status === 200 || r.status === 413, r.text.slice(0, 300));
    const codes = r.status === 200 ? r.json.rejected.flatMap((x) => x.errors.map((e) => e.code)) : [r.json.error.code];
    assert.deepEqual(codes, ['too_large'], r.text.slice(0, 300));
  });
  await t.test('depth', async () => {
    let deep = {};
    for (let i = 0; i < 200; i++) deep = { d: deep };
    const r = await ingest(T.aAll, [event('acct_a', 3002, { auditEventMetadata: deep })]);
    // The reader stops at the limit, so the record is not an event at all: the body is 400
    // with the record's `too_deep` at its index and line.
    assert.equal(r.status, 400, r.text.slice(0, 300));
    const rejected = r.json.error.details.rejected;
    assert.deepEqual(rejected.flatMap((x) => x.errors.map((e) => e.code)), ['too_deep'], r.text.slice(0, 300));
    assert.match(rejected[0].errors[0].message, /128 levels/);
  });
  await t.test('query length', async () => {
    // A query in the URL meets the platform's URL limit first (431 in wrangler dev, 414 on
    // Cloudflare); in a body it reaches the filter's own limit of 256 KiB.
    const query = Array.from({ length: 30_000 }, (_, i) => `id:x${i}`).join(' or ');
    const r = await send(T.aAll, 'POST', '/v1/filters', { name: 'long', query });
    assert.equal(r.status, 400, r.text.slice(0, 300));
    assert.equal(r.json.error.code, 'bad_filter');
    assert.equal(r.json.error.details.code, 'too_long', r.text.slice(0, 300));
  });
  await t.test('regex size', async () => {
    const q = 'resource.identifier matches "(a{1000}){1000}"';
    const r = await call(`${W.url}/v1/events?q=${encodeURIComponent(q)}`, T.aRead);
    assert.equal(r.status, 400, r.text.slice(0, 300));
    assert.equal(r.json.error.code, 'bad_filter');
    assert.equal(r.json.error.details.code, 'bad_regex', r.text.slice(0, 300));
    assert.match(r.json.error.message, /size limit/);
  });
  await t.test('transform size', async () => {
    // An export's transform= is text (at most 64 KiB, `too_large`) but a URL holds less than
    // that; a destination's transform is JSON whose lists are bounded (`too_many`).
    const exclude = Array.from({ length: 300 }, (_, i) => `auditEventMetadata.k${i}`);
    const r = await send(T.aAll, 'POST', '/v1/destinations', { name: 't', type: 'webhook', config: { url: 'https://receiver.example/t' }, credentials: { secret: 's' }, transform: { exclude } });
    assert.equal(r.status, 400, r.text.slice(0, 300));
    assert.equal(r.json.error.code, 'bad_transform');
    assert.equal(r.json.error.details.code, 'too_many', r.text.slice(0, 300));
    assert.match(r.json.error.message, /256/);
  });
});

// Last: it locks its address out for a minute.
test('failed authentication is limited per client address', async () => {
  const from = (ip, token) => call(`${W.url}/v1/events`, token, { headers: { 'cf-connecting-ip': ip } });
  const ip = '203.0.113.7';
  for (let i = 0; i < FAILURES; i++) {
    const r = await from(ip, `bad-${i}`);
    assert.equal(r.status, 401, `failure ${i + 1}: ${r.text}`);
  }
  const over = await from(ip, 'bad-again');
  assert.equal(over.status, 429, over.text);
  assert.equal(over.json.error.code, 'too_many_auth_failures');
  const retry = Number(over.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After: ${over.headers.get('retry-after')}`);
  assert.deepEqual(over.json.error.details, { retryAfterSeconds: retry });
  // The address is refused whatever its token: guessing goes no further.
  const good = await from(ip, T.aRead);
  assert.equal(good.status, 429, good.text);
  // Another address, and forged managed tokens count as failures there too.
  const other = await from('203.0.113.8', T.aRead);
  assert.equal(other.status, 200, other.text);
});
