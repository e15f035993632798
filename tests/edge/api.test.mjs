// HTTP tests of the Worker running in `wrangler dev` (workerd + local Durable Objects).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker, makeTokens, event, call, ROOT } from './harness.mjs';

const { tokens: T, config } = makeTokens();
let w;
let U;

before(async () => {
  w = await startWorker({ tokensConfig: config });
  U = w.url;
}, { timeout: 600_000 });

after(async () => {
  if (w) {
    await w.stop();
    w.cleanup();
  }
});

const ndjson = (evs) => evs.map((e) => JSON.stringify(e)).join('\n') + '\n';
const post = (token, body, type = 'application/json', headers = {}, query = '') =>
  call(`${U}/v1/events${query}`, token, { method: 'POST', body, headers: { 'content-type': type, ...headers } });
const get = (token, path) => call(`${U}${path}`, token);

test('health and openapi need no token', async () => {
  const h = await get(null, '/v1/health');
  assert.equal(h.status, 200);
  assert.equal(h.json.ok, true);
  assert.match(h.json.version, /^\d+\.\d+\.\d+/);
  const o = await get(null, '/v1/openapi.json');
  assert.equal(o.status, 200);
  assert.equal(o.json.openapi, '3.1.0');
  for (const p of ['/v1/events', '/v1/events/query', '/v1/events/{auditEventId}', '/v1/stats',
    '/v1/filters', '/v1/filters/{id}', '/v1/health', '/v1/openapi.json']) {
    assert.ok(o.json.paths[p], `openapi lacks ${p}`);
  }
  // every operation answers something, and every $ref points at a component that exists
  for (const [p, ops] of Object.entries(o.json.paths)) {
    for (const [m, op] of Object.entries(ops)) assert.ok(Object.keys(op.responses).length > 0, `${m} ${p}`);
  }
  const refs = JSON.stringify(o.json).match(/"\$ref":"[^"]+"/g) ?? [];
  for (const r of refs) {
    const path = r.slice(8, -1).replace(/^#\//, '').split('/');
    let node = o.json;
    for (const k of path) node = node?.[k];
    assert.ok(node, `dangling ${r}`);
  }
});

test('the page is served at /', async () => {
  const r = await fetch(`${U}/`);
  assert.equal(r.status, 200);
  assert.match(await r.text(), /<html/i);
});

test('401 without or with a bad token, 403 without the scope', async () => {
  assert.equal((await get(null, '/v1/events')).status, 401);
  assert.equal((await get('nope', '/v1/events')).status, 401);
  const r = await get(null, '/v1/stats');
  assert.equal(r.json.error.code, 'unauthorized');
  // read-only token cannot ingest, ingest-only token cannot read
  const p = await post(T.aRead, JSON.stringify(event('acct_a', 1)));
  assert.equal(p.status, 403);
  assert.equal(p.json.error.code, 'forbidden');
  assert.equal((await get(T.aIngest, '/v1/events')).status, 403);
});

test('ingest a JSON array, one object, NDJSON and gzip; resend counts duplicates', async () => {
  const evs = Array.from({ length: 5 }, (_, i) => event('acct_a', 100 + i));
  let r = await post(T.aAll, JSON.stringify(evs));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, 5);
  assert.equal(r.json.duplicates, 0);
  assert.deepEqual(r.json.rejected, []);
  assert.equal(r.json.lastSeq - r.json.firstSeq, 4);

  r = await post(T.aAll, JSON.stringify(event('acct_a', 200)));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, 1);
  const seqOne = r.json.firstSeq;

  r = await post(T.aAll, ndjson([event('acct_a', 201), event('acct_a', 202)]), 'application/x-ndjson');
  assert.equal(r.json.accepted, 2);
  assert.equal(r.json.firstSeq, seqOne + 1, 'sequence numbers follow commit order');

  r = await post(T.aAll, gzipSync(ndjson([event('acct_a', 203), event('acct_a', 204)])), 'application/x-ndjson',
    { 'content-encoding': 'gzip' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, 2);

  r = await post(T.aAll, gzipSync(JSON.stringify([event('acct_a', 205)])), 'application/json', { 'content-encoding': 'gzip' });
  assert.equal(r.json.accepted, 1);

  // values outside the known vocabulary are stored, with warnings
  r = await post(T.aAll, ndjson([event('acct_a', 206), event('acct_a', 207, { auditModule: 'NO_SUCH_MODULE' })]), 'application/x-ndjson');
  assert.equal(r.json.accepted, 2);
  const moduleWarnings = r.json.warnings.filter((w) => w.code === 'unknown_module');
  assert.deepEqual(moduleWarnings.map((w) => [w.index, w.line, w.path]), [[1, 2, 'auditModule']]);

  // resend everything: all duplicates, nothing stored twice
  r = await post(T.aAll, JSON.stringify(evs));
  assert.equal(r.json.accepted, 0);
  assert.equal(r.json.duplicates, 5);
  assert.equal(r.json.firstSeq, null);
  // resends use up no sequence numbers (http-api.md: no gaps), nor do repeats within a batch
  const fresh = (i) => event('acct_a', 20_000 + i, { auditEventTime: String(Date.now() - 1000) });
  const before = await post(T.aAll, ndjson(Array.from({ length: 30 }, (_, i) => fresh(i))), 'application/x-ndjson');
  assert.equal(before.json.accepted, 30);
  const mixed = [...Array.from({ length: 30 }, (_, i) => fresh(i)), ...Array.from({ length: 20 }, (_, i) => fresh(100 + i)), fresh(100)];
  r = await post(T.aAll, ndjson(mixed), 'application/x-ndjson');
  assert.equal(r.json.accepted, 20);
  assert.equal(r.json.duplicates, 31);
  assert.equal(r.json.firstSeq, before.json.lastSeq + 1, 'no gap after a resend');
  assert.equal(r.json.lastSeq, before.json.lastSeq + 20);
  r = await post(T.aAll, ndjson([fresh(0), fresh(200)]), 'application/x-ndjson');
  assert.equal(r.json.firstSeq, before.json.lastSeq + 21);
  const one = await get(T.aRead, `/v1/events/${encodeURIComponent(evs[0].auditEventId)}`);
  assert.equal(one.status, 200);
  assert.equal(one.json.auditEventId, evs[0].auditEventId);
});

test('partial mode reports rejected events with index and line; atomic mode is 422', async () => {
  const good1 = event('acct_a', 300);
  const bad = event('acct_a', 301);
  delete bad.auditAction;
  const good2 = event('acct_a', 302);
  const text = [JSON.stringify(good1), '', JSON.stringify(bad), 'not json', JSON.stringify(good2)].join('\n');
  let r = await post(T.aAll, text, 'application/x-ndjson');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, 2);
  assert.equal(r.json.rejected.length, 2);
  assert.deepEqual(r.json.rejected.map((x) => [x.index, x.line]), [[1, 3], [2, 4]]);
  assert.equal(r.json.rejected[1].errors[0].code, 'bad_json');

  // pretty-printed JSON array: the line where each event starts
  const arr = [event('acct_a', 310), event('acct_a', 311, { auditResourceScope: { accountIdentifier: 'acct_b' } })];
  const pretty = JSON.stringify(arr, null, 2);
  r = await post(T.aAll, pretty);
  assert.equal(r.json.accepted, 1);
  const expectedLine = pretty.split('\n').findIndex((l, i) => i > 1 && l === '  {') + 1;
  assert.equal(r.json.rejected[0].index, 1);
  assert.equal(r.json.rejected[0].line, expectedLine);
  assert.equal(r.json.rejected[0].errors[0].code, 'wrong_account');

  const atomicBatch = ndjson([event('acct_a', 320), { ...event('acct_a', 321), auditResourceScope: { accountIdentifier: 'acct_b' } }]);
  r = await post(T.aAll, atomicBatch, 'application/x-ndjson', {}, '?atomic=true');
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, 'invalid_events');
  assert.equal(r.json.error.details.rejected[0].line, 2);
  const miss = await get(T.aAll, '/v1/events/acct_a-ev-320');
  assert.equal(miss.status, 404, 'atomic rejection stores nothing');
});

test('415, 413 and malformed bodies are 4xx and the Worker keeps serving', async () => {
  // Made before any request: compressing 300 MB takes seconds under load, and a keep-alive
  // connection left idle that long is closed by wrangler dev's proxy just as the client
  // reuses it ("other side closed"), a race of the local proxy, not of the Worker.
  const bomb = gzipSync(Buffer.alloc(300_000_000, 0x20), { level: 9 });
  let r = await post(T.aAll, 'x', 'text/plain');
  assert.equal(r.status, 415);
  r = await call(`${U}/v1/events`, T.aAll, { method: 'POST', body: '{}' });
  assert.equal(r.status, 415);
  assert.equal(r.json.error.code, 'unsupported_media_type');
  // truncated gzip
  const gz = gzipSync(ndjson([event('acct_a', 400)]));
  r = await post(T.aAll, gz.subarray(0, gz.length - 10), 'application/x-ndjson', { 'content-encoding': 'gzip' });
  assert.equal(r.status, 400, r.text);
  // binary junk
  for (const type of ['application/json', 'application/x-ndjson']) {
    r = await post(T.aAll, Buffer.from([0, 1, 2, 255, 254, 10, 13, 0x7b, 10, 0x22]), type);
    assert.equal(r.status, 400, `junk as ${type} gave ${r.status}`);
  }
  r = await post(T.aAll, '[{"a":', 'application/json');
  assert.equal(r.status, 400);
  assert.ok(['bad_json', 'truncated'].includes(r.json.error.code), r.text);
  r = await post(T.aAll, '[{"a":1},, {"b":2}]', 'application/json');
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'bad_json');
  // a 10 MB line
  const big = '{"auditEventId":"big","pad":"' + 'x'.repeat(10_000_000) + '"}\n';
  r = await post(T.aAll, big, 'application/x-ndjson');
  assert.equal(r.status, 413);
  // one event over 1 MB
  const ev = event('acct_a', 401, { auditEventMetadata: { pad: 'y'.repeat(1_100_000) } });
  r = await post(T.aAll, JSON.stringify([ev]));
  assert.equal(r.status, 413);
  // too many events
  const many = Array.from({ length: 10_001 }, (_, i) => `{"i":${i}}`).join('\n');
  r = await post(T.aAll, many, 'application/x-ndjson');
  assert.equal(r.status, 413);
  // a gzip bomb: small body, decodes past the limit
  r = await post(T.aAll, gzipSync(Buffer.alloc(12_000_000, 0x20)), 'application/json', { 'content-encoding': 'gzip' });
  assert.equal(r.status, 413);
  // Regression: the same kind of body without Content-Encoding was inflated without limit
  // (300 MB, 2.5 s of CPU) and answered 400 empty_body. Gzip is found by its bytes and the
  // decoded limit holds whatever the headers say.
  for (const type of ['application/json', 'application/x-ndjson']) {
    r = await post(T.aAll, bomb, type);
    assert.equal(r.status, 413, `${type}: ${r.text}`);
    assert.equal(r.json.error.code, 'too_large');
  }
  assert.ok(bomb.length < 400_000, `the body is small (${bomb.length} bytes)`);
  // Gzip NDJSON without the header is read like with it.
  r = await post(T.aAll, gzipSync(ndjson([event('acct_a', 402)])), 'application/x-ndjson');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, 1);
  assert.equal((await get(null, '/v1/health')).status, 200);
});

test('isolation: another account sees 404 and nothing of the first', async () => {
  let r = await post(T.bAll, JSON.stringify([event('acct_b', 1), event('acct_b', 2)]));
  assert.equal(r.json.accepted, 2);
  assert.equal(r.json.firstSeq, 1, 'each account has its own sequence');
  const a = await get(T.bAll, '/v1/events/acct_a-ev-100');
  const none = await get(T.bAll, '/v1/events/does-not-exist');
  assert.equal(a.status, 404);
  assert.equal(none.status, 404);
  assert.deepEqual(a.json, none.json, 'another account\'s id answers exactly like a missing one');
  r = await get(T.bAll, '/v1/events?limit=1000');
  assert.ok(r.json.events.every((e) => e.auditResourceScope.accountIdentifier === 'acct_b'));
  assert.equal(r.json.events.length, 2);
  // an acct_b event sent with an acct_a token is wrong_account
  r = await post(T.aAll, JSON.stringify(event('acct_b', 3)));
  assert.equal(r.json.rejected[0].errors[0].code, 'wrong_account');
});

test('ranges: default last 7 days, over 2 years is 400, bad times are 400', async () => {
  const old = event('acct_a', 500, { auditEventTime: String(Date.now() - 10 * 86_400_000) });
  await post(T.aAll, JSON.stringify(old));
  let r = await get(T.aRead, '/v1/events?limit=10000');
  assert.equal(r.status, 200);
  assert.ok(!r.json.events.some((e) => e.auditEventId === old.auditEventId), 'default range is 7 days');
  r = await get(T.aRead, '/v1/events?limit=10000&from=now-30d');
  assert.ok(r.json.events.some((e) => e.auditEventId === old.auditEventId));
  r = await get(T.aRead, '/v1/events?from=2020-01-01&to=2026-01-01');
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'range_too_long');
  r = await get(T.aRead, '/v1/events?from=now-700d');
  assert.equal(r.status, 200);
  r = await get(T.aRead, '/v1/events?from=yesterday');
  assert.equal(r.status, 400);
  r = await get(T.aRead, '/v1/events?order=sideways');
  assert.equal(r.status, 400);
  r = await get(T.aRead, '/v1/events?cursor=zz');
  assert.equal(r.status, 400);
});

test('pagination visits each event exactly once, both orders', async () => {
  // a fresh set with equal timestamps to exercise the (time, seq) tie-break
  const t = Date.now() - 3_600_000;
  const evs = Array.from({ length: 57 }, (_, i) => event('acct_b', 1000 + i, { auditEventTime: String(t - (i % 7) * 1000) }));
  await post(T.bAll, JSON.stringify(evs));
  for (const order of ['desc', 'asc']) {
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const r = await get(T.bAll, `/v1/events?limit=10&order=${order}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.events.length <= 10);
      seen.push(...r.json.events);
      cursor = r.json.cursor;
      pages += 1;
    } while (cursor && pages < 100);
    const ids = seen.map((e) => e.auditEventId);
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    assert.equal(ids.length, 59);
    const times = seen.map((e) => Number(e.auditEventTime));
    const sorted = [...times].sort((a, b) => (order === 'desc' ? b - a : a - b));
    assert.deepEqual(times, sorted, `${order} order`);
  }
  const r = await get(T.bAll, '/v1/events');
  assert.equal(r.json.events.length, 59, 'limit default 100 holds all');
  assert.equal(r.json.cursor, null);
});

/** Parses RFC 4180 CSV into rows of cells. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

test('every export format streams a download that parses back to the events', async () => {
  const want = (await get(T.bAll, '/v1/events?limit=1000&order=asc')).json.events.map((e) => e.auditEventId);
  assert.equal(want.length, 59);
  const dl = async (format) => {
    const r = await fetch(`${U}/v1/events?format=${format}&order=asc`, { headers: { authorization: `Bearer ${T.bAll}` } });
    assert.equal(r.status, 200, format);
    assert.match(r.headers.get('content-disposition') ?? '', /^attachment; filename=".+"/, format);
    return r.text();
  };
  const lines = (t) => t.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(lines(await dl('ndjson')).map((e) => e.auditEventId), want);
  assert.deepEqual(lines(await dl('splunk_hec')).map((e) => e.event.auditEventId), want);
  const hec = lines(await dl('splunk_hec'))[0];
  assert.equal(typeof hec.time, 'number');
  assert.deepEqual(lines(await dl('sumo')).map((e) => e.event), want.map((id) => `Harness-Audit-Event-${id}`));
  assert.deepEqual(lines(await dl('ocsf')).map((e) => e.metadata.uid), want);
  assert.ok(lines(await dl('ocsf')).every((e) => e.class_uid === 6003));
  const rows = parseCsv(await dl('csv'));
  assert.equal(rows[0][0], 'auditEventId');
  assert.equal(rows[0][1], 'auditEventTime');
  assert.deepEqual(rows.slice(1).map((r) => r[0]), want);
  // an export limited by `limit`, and an unknown format
  const r = await fetch(`${U}/v1/events?format=ndjson&limit=7`, { headers: { authorization: `Bearer ${T.bAll}` } });
  assert.equal(lines(await r.text()).length, 7);
  assert.equal((await get(T.bAll, '/v1/events?format=xml')).status, 400);
});

test('exports take a transform= (formats.md section 4); a bad one is a 400 with its code', async () => {
  const stored = (await get(T.bAll, '/v1/events?limit=1000&order=asc')).json.events;
  const key = 'export-key';
  const pseudonym = (v) => `ps_${createHmac('sha256', key).update(v).digest('hex').slice(0, 32)}`;
  const transform = {
    include: ['auditAction', 'auditEventAuthor', 'auditHttpRequestInfo'],
    redact: ['auditHttpRequestInfo.requestMethod'],
    pseudonymize: ['auditEventAuthor.principal.email'],
    truncateIp: { v4: 16 },
    timeFormat: 'epoch_ms',
  };
  const q = (format, t = transform) => `/v1/events?order=asc&limit=1000&format=${format}&transform=${encodeURIComponent(JSON.stringify(t))}`;
  const withKey = (path) => fetch(`${U}${path}`, { headers: { authorization: `Bearer ${T.bAll}`, 'x-trailsift-pseudonymize-key': key } });
  const lines = (t) => t.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const check = (got) => {
    assert.equal(got.length, stored.length);
    got.forEach((e, i) => {
      const s = stored[i];
      assert.deepEqual(Object.keys(e).sort(), ['auditAction', 'auditEventAuthor', 'auditEventId', 'auditEventTime', 'auditHttpRequestInfo']
        .filter((k) => k in s).sort(), s.auditEventId);
      assert.equal(e.auditEventId, s.auditEventId);
      assert.equal(typeof e.auditEventTime, 'number');
      const email = s.auditEventAuthor?.principal?.email;
      if (email) assert.equal(e.auditEventAuthor.principal.email, pseudonym(email));
      if (s.auditHttpRequestInfo?.requestMethod) assert.equal(e.auditHttpRequestInfo.requestMethod, '[REDACTED]');
      const ip = s.auditHttpRequestInfo?.clientIP;
      if (/^\d+\.\d+\.\d+\.\d+$/.test(ip ?? '')) assert.equal(e.auditHttpRequestInfo.clientIP, ip.split('.').slice(0, 2).concat('0', '0').join('.'));
    });
  };
  const nd = await withKey(q('ndjson'));
  assert.equal(nd.status, 200);
  const text = await nd.text();
  check(lines(text));
  assert.ok(!/@example\.com/.test(text), 'no email left in the export');
  const page = await withKey(q('json'));
  assert.equal(page.status, 200);
  check((await page.json()).events);
  // sampling keeps the same events on every run and in every format
  const sampled = async (format) => {
    const r = await fetch(`${U}${q(format, { sample: 0.5 })}`, { headers: { authorization: `Bearer ${T.bAll}` } });
    assert.equal(r.status, 200);
    const t = await r.text();
    return format === 'json' ? JSON.parse(t).events.map((e) => e.auditEventId) : lines(t).map((e) => e.auditEventId);
  };
  const half = await sampled('ndjson');
  assert.ok(half.length > 0 && half.length < stored.length, `${half.length} of ${stored.length}`);
  assert.deepEqual(await sampled('ndjson'), half);
  assert.deepEqual(await sampled('json'), half);
  // errors: the transform's own code and key in the details, before any event is read
  const bad = async (t, headers = {}) => {
    const r = await fetch(`${U}/v1/events?format=csv&transform=${encodeURIComponent(t)}`,
      { headers: { authorization: `Bearer ${T.bAll}`, ...headers } });
    assert.equal(r.status, 400, t);
    return (await r.json()).error;
  };
  for (const [t, code, key] of [
    ['{"inclde": []}', 'unknown_key', 'inclde'],
    ['{"redactPatterns": ["(unclosed"]}', 'bad_regex', 'redactPatterns'],
    ['{"sample": 0}', 'out_of_range', 'sample'],
    ['{"include": [', 'bad_json', ''],
    ['{"pseudonymize": ["auditEventAuthor.principal.email"]}', 'missing_key', 'pseudonymize'],
  ]) {
    const e = await bad(t);
    assert.equal(e.code, 'bad_transform', t);
    assert.equal(e.details.code, code, t);
    assert.equal(e.details.key, key, t);
  }
});

test('conformance: the contract failures schemathesis found are 400 and 405 with Allow', async () => {
  const limit = await get(T.aRead, '/v1/events?limit=10001');
  assert.equal(limit.status, 400, limit.text);
  assert.equal(limit.json.error.code, 'bad_parameter');
  assert.equal((await get(T.aRead, '/v1/events?limit=10000')).status, 200);
  for (const v of ['null', 'yes', 'TRUE ']) {
    const r = await post(T.aAll, JSON.stringify(event('acct_a', 30_000)), 'application/json', {}, `?atomic=${encodeURIComponent(v)}`);
    assert.equal(r.status, 400, `atomic=${v}: ${r.text}`);
    assert.equal(r.json.error.code, 'bad_parameter');
  }
  const noBody = await call(`${U}/v1/events/query`, T.aRead, { method: 'POST', headers: { 'content-type': 'application/json' } });
  assert.equal(noBody.status, 400, noBody.text);
  assert.equal(noBody.json.error.code, 'bad_body');
  for (const [method, path, allow] of [
    ['QUERY', '/v1/events', 'GET, POST'],
    ['PUT', '/v1/events', 'GET, POST'],
    ['DELETE', '/v1/stats', 'GET'],
    ['GET', '/v1/destinations/x/test', 'POST'],
    ['PATCH', '/v1/filters/x', 'GET, PUT, DELETE'],
    // scripts/schemathesis.toml leaves /v1/stream out of schemathesis's undeclared methods
    // (wrangler dev's proxy answers those sent with `Upgrade` itself): checked here.
    ['PUT', '/v1/stream', 'GET'],
    ['DELETE', '/v1/stream', 'GET'],
  ]) {
    const r = await fetch(`${U}${path}`, { method, headers: { authorization: `Bearer ${T.aAll}` } });
    assert.equal(r.status, 405, `${method} ${path}`);
    assert.equal(r.headers.get('allow'), allow, `${method} ${path}`);
    assert.equal((await r.json()).error.code, 'method_not_allowed');
  }
  assert.equal((await fetch(`${U}/v1/nothing`, { method: 'QUERY', headers: { authorization: `Bearer ${T.aAll}` } })).status, 404);
});

test('every filter syntax selects the right events', async () => {
  const now = Date.now();
  const base = (id, over) => ({
    auditEventId: id,
    auditEventAuthor: { principal: { type: 'USER', identifier: 'someone' } },
    auditModule: 'CORE',
    auditResource: { type: 'SECRET', identifier: 'x' },
    auditResourceScope: { accountIdentifier: 'acct_a', orgIdentifier: 'ftorg' },
    auditAction: 'CREATE',
    auditEventTime: String(now - 60_000),
    ...over,
  });
  const evs = [
    base('f1', { auditEventAuthor: { principal: { type: 'USER', identifier: 'alice', email: 'alice@example.com' } },
      auditResource: { type: 'SECRET', identifier: 'prod-1' }, auditHttpRequestInfo: { requestMethod: 'POST', clientIP: '10.1.2.3' },
      auditEventMetadata: { batchId: 'x1', note: 'the Payments API key' } }),
    base('f2', { auditAction: 'UPDATE', auditEventAuthor: { principal: { type: 'SYSTEM', identifier: 'sys' } },
      auditResource: { type: 'CONNECTOR', identifier: 'dev-2' }, auditHttpRequestInfo: { requestMethod: 'PUT', clientIP: '192.168.1.7' } }),
    base('f3', { auditAction: 'LOGIN', auditEventAuthor: { principal: { type: 'USER', identifier: 'bob', email: 'bob@corp.com' } },
      auditResource: { type: 'USER', identifier: 'u3' }, auditHttpRequestInfo: { requestMethod: 'POST', clientIP: '2001:db8::5' } }),
    base('f4', { auditAction: 'DELETE', auditEventAuthor: { principal: { type: 'SERVICE_ACCOUNT', identifier: 'svc' } },
      auditResource: { type: 'SECRET', identifier: 'prod-44' }, auditEventTime: String(now - 3 * 86_400_000) }),
    base('f5', { auditModule: 'CD', auditEventAuthor: { principal: { type: 'USER', identifier: 'carol' } },
      auditResource: { type: 'PIPELINE', identifier: 'deploy' } }),
  ];
  const r0 = await post(T.aAll, JSON.stringify(evs));
  assert.equal(r0.json.accepted, 5, r0.text);
  const cases = [
    ['action == "CREATE"', ['f1', 'f5']],
    ['action:create,update', ['f1', 'f2', 'f5']],
    ['-is:system', ['f1', 'f3', 'f4', 'f5']],
    ['-is:login -is:system', ['f1', 'f4', 'f5']],
    ['resource.type in {"SECRET" "CONNECTOR"}', ['f1', 'f2', 'f4']],
    ['ip in {10.0.0.0/8 2001:db8::/32}', ['f1', 'f3']],
    ['ip:192.168.1.7', ['f2']],
    ['email ends_with "@example.com"', ['f1']],
    ['resourceId matches "^prod-[0-9]+$"', ['f1', 'f4']],
    ['metadata.batchId exists', ['f1']],
    ['"payments api"', ['f1']],
    ['user:bob@corp.com', ['f3']],
    ['user:carol', ['f5']],
    ['not (principal.type == "SYSTEM") && action != "CREATE"', ['f3', 'f4']],
    ['time >= now-1d', ['f1', 'f2', 'f3', 'f5']],
    ['resourceId:prod-*', ['f1', 'f4']],
    ['(action:CREATE or action:DELETE) and -resource.type:PIPELINE', ['f1', 'f4']],
    ['module:cd || principalType:SERVICE_ACCOUNT', ['f4', 'f5']],
  ];
  for (const [q, want] of cases) {
    const r = await get(T.aRead, `/v1/events?limit=1000&q=${encodeURIComponent(`org:ftorg (${q})`)}`);
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    assert.deepEqual(r.json.events.map((e) => e.auditEventId).sort(), want, q);
  }
  // a filter error is 400 with its code and position
  let r = await get(T.aRead, `/v1/events?q=${encodeURIComponent('action ==')}`);
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'bad_filter');
  assert.equal(typeof r.json.error.details.code, 'string');
  assert.equal(r.json.error.details.line, 1);
  assert.ok(r.json.error.details.column >= 1);
  r = await get(T.aRead, `/v1/events?q=${encodeURIComponent('colour:red')}`);
  assert.equal(r.status, 400);
  assert.equal(r.json.error.details.code, 'unknown_field');
  // the structured form
  const sq = (body, qs = '') => call(`${U}/v1/events/query${qs}`, T.aRead, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  r = await sq({ organizations: ['ftorg'], actions: ['CREATE', 'DELETE'], excludeSystemEvents: true, query: 'resourceId starts_with "prod-"' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.events.map((e) => e.auditEventId).sort(), ['f1', 'f4']);
  r = await sq({ organizations: ['ftorg'], users: ['alice@example.com', 'carol'] }, '?order=asc');
  assert.deepEqual(r.json.events.map((e) => e.auditEventId).sort(), ['f1', 'f5']);
  r = await sq({ organizations: ['ftorg'], from: 'now-2d' });
  assert.deepEqual(r.json.events.map((e) => e.auditEventId).sort(), ['f1', 'f2', 'f3', 'f5']);
  r = await sq({ colours: ['red'] });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'bad_filter');
  // stats honour q
  r = await get(T.aRead, `/v1/stats?by=action&q=${encodeURIComponent('org:ftorg')}`);
  assert.equal(r.json.total, 5);
  assert.deepEqual(r.json.counts[0], { value: 'CREATE', count: 2 });
  // a saved filter with a bad query is 400 with the filter error
  r = await call(`${U}/v1/filters`, T.aRead, { method: 'POST', body: JSON.stringify({ name: 'bad', query: 'action ==' }) });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'bad_filter');
  r = await call(`${U}/v1/filters`, T.aRead, { method: 'POST', body: JSON.stringify({ name: 'st', structured: { actions: ['CREATE'] }, visibility: 'account' }) });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.structured, { actions: ['CREATE'] });
});

test('stats count per value and per time bucket', async () => {
  let r = await get(T.bAll, '/v1/stats?by=action');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.total, 59);
  const sum = r.json.counts.reduce((s, c) => s + c.count, 0);
  assert.equal(sum, 59);
  const create = r.json.counts.find((c) => c.value === 'CREATE');
  assert.ok(create && create.count > 0);
  for (let i = 1; i < r.json.counts.length; i++) assert.ok(r.json.counts[i - 1].count >= r.json.counts[i].count);
  r = await get(T.bAll, '/v1/stats?by=hour');
  assert.equal(r.json.counts.reduce((s, c) => s + c.count, 0), 59);
  assert.ok(r.json.counts.every((c) => c.value % 3_600_000 === 0));
  for (const by of ['module', 'resource.type', 'user', 'principal.type', 'day']) {
    r = await get(T.bAll, `/v1/stats?by=${by}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.total, 59);
  }
  r = await get(T.bAll, '/v1/stats?by=colour');
  assert.equal(r.status, 400);
});

test('saved filters: private to the owner, account-wide to every reader, admin to change others', async () => {
  let r = await call(`${U}/v1/filters`, T.aRead, { method: 'POST', body: JSON.stringify({ name: 'mine', query: '', visibility: 'private' }) });
  assert.equal(r.status, 201, r.text);
  const priv = r.json;
  assert.equal(priv.owner, 'bob');
  assert.equal(priv.visibility, 'private');
  r = await call(`${U}/v1/filters`, T.aRead, { method: 'POST', body: JSON.stringify({ id: 'shared-1', name: 'shared', query: '', visibility: 'account' }) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.id, 'shared-1');
  r = await call(`${U}/v1/filters`, T.aRead, { method: 'POST', body: JSON.stringify({ id: 'shared-1', name: 'again', query: '' }) });
  assert.equal(r.status, 409);

  // dave (another reader) sees the shared one only
  r = await get(T.aRead2, '/v1/filters');
  let ids = r.json.filters.map((f) => f.id);
  assert.ok(ids.includes('shared-1'));
  assert.ok(!ids.includes(priv.id));
  assert.equal((await get(T.aRead2, `/v1/filters/${priv.id}`)).status, 404);
  // bob sees both
  r = await get(T.aRead, '/v1/filters');
  ids = r.json.filters.map((f) => f.id);
  assert.ok(ids.includes('shared-1') && ids.includes(priv.id));
  // another account sees nothing
  assert.equal((await get(T.bAll, '/v1/filters/shared-1')).status, 404);
  assert.deepEqual((await get(T.bAll, '/v1/filters')).json.filters, []);
  // dave cannot change bob's shared filter; alice (admin) can
  r = await call(`${U}/v1/filters/shared-1`, T.aRead2, { method: 'PUT', body: JSON.stringify({ name: 'renamed', query: '' }) });
  assert.equal(r.status, 403);
  // PUT replaces the definition: a body without the name or the filter is a 400
  for (const body of [{ name: 'renamed' }, { query: 'action:CREATE' }, { name: 'x', query: 'acton:create' }]) {
    r = await call(`${U}/v1/filters/shared-1`, T.aAll, { method: 'PUT', body: JSON.stringify(body) });
    assert.equal(r.status, 400, JSON.stringify(body));
  }
  r = await call(`${U}/v1/filters/shared-1`, T.aAll, { method: 'PUT', body: JSON.stringify({ name: 'renamed', query: 'action:CREATE' }) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.visibility, 'account', 'a PUT without visibility keeps it');
  assert.equal(r.json.name, 'renamed');
  assert.equal(r.json.owner, 'bob');
  // alice cannot see bob's private filter even as admin
  assert.equal((await call(`${U}/v1/filters/${priv.id}`, T.aAll, { method: 'DELETE' })).status, 404);
  // bob deletes his own
  assert.equal((await call(`${U}/v1/filters/${priv.id}`, T.aRead, { method: 'DELETE' })).status, 200);
  assert.equal((await get(T.aRead, `/v1/filters/${priv.id}`)).status, 404);
  // an ingest-only token cannot use filters
  assert.equal((await get(T.aIngest, '/v1/filters')).status, 403);
  // bad bodies
  r = await call(`${U}/v1/filters`, T.aRead, { method: 'POST', body: '{"name":' });
  assert.equal(r.status, 400);
  r = await call(`${U}/v1/filters`, T.aRead, { method: 'POST', body: JSON.stringify({ name: 'x', query: '', visibility: 'public' }) });
  assert.equal(r.status, 400);
});

test('hostile requests get 4xx answers and the Worker keeps serving', async () => {
  const hostile = [
    ['GET', `/v1/events/${'x'.repeat(5000)}`],
    ['GET', `/v1/events?q=${encodeURIComponent('('.repeat(10_000))}`],
    ['POST', '/v1/events/query', JSON.stringify({ query: `resourceId == "${'a'.repeat(300_000)}"` })],
    ['POST', '/v1/events/query', JSON.stringify({ query: 'not '.repeat(20_000) + 'is:login' })],
    ['GET', `/v1/events?q=${encodeURIComponent('resourceId matches "(a+)+$"')}&limit=abc`],
    ['GET', '/v1/events?from=%00%ff&to=now'],
    ['GET', '/v1/stats?by=%ff'],
    ['POST', '/v1/events/query', '[1,2,3]'],
    ['POST', '/v1/events/query', '{"actions":"CREATE"}'],
    ['POST', '/v1/events/query', '\u0000\u0001'],
    ['POST', '/v1/filters', JSON.stringify({ name: 'n', structured: { nope: 1 } })],
    ['POST', '/v1/filters', JSON.stringify({ id: '../../x', name: 'n', query: '' })],
    ['PUT', '/v1/filters/%ff%fe', '{}'],
    ['PATCH', '/v1/events'],
    ['DELETE', '/v1/stats'],
  ];
  for (const [method, path, body] of hostile) {
    const r = await call(`${U}${path}`, T.aAll, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
    assert.ok(r.status >= 400 && r.status < 500, `${method} ${path.slice(0, 60)} gave ${r.status}: ${r.text.slice(0, 200)}`);
    assert.equal(typeof r.json?.error?.code, 'string', `${method} ${path.slice(0, 60)}`);
  }
  assert.equal((await get(null, '/v1/health')).status, 200);
  assert.equal((await get(T.aRead, '/v1/events?limit=1')).status, 200);
});

test('errors have the common shape', async () => {
  const r = await get(T.aRead, '/v1/nothing-here');
  assert.equal(r.status, 404);
  assert.equal(typeof r.json.error.code, 'string');
  assert.equal(typeof r.json.error.message, 'string');
  assert.ok('details' in r.json.error);
});

// Found by schemathesis (make conformance): values the Worker refuses that the document
// allowed. The document now states each bound, and the Worker answers 400 past it.
test('the OpenAPI document states the bounds the Worker enforces', async () => {
  const doc = JSON.parse(readFileSync(join(ROOT, 'src', 'edge', 'openapi.json'), 'utf8'));
  const param = (path, name) => doc.paths[path].get.parameters.find((p) => p.name === name).schema;
  const bounds = [
    ['/v1/evidence', 'limit', 1, 10000, 'limit=0', 'limit=10001'],
    ['/v1/log/proof/inclusion', 'seq', 1, undefined, 'seq=0&treeSize=1'],
    ['/v1/log/proof/consistency', 'first', 0, undefined, 'first=-1&second=1'],
    ['/v1/log/checkpoints', 'from', 0, undefined, 'from=-1'],
  ];
  for (const [path, name, min, max, ...outside] of bounds) {
    assert.equal(param(path, name).minimum, min, `${path} ${name} minimum`);
    assert.equal(param(path, name).maximum, max, `${path} ${name} maximum`);
    for (const q of outside) {
      const r = await get(T.aAll, `${path}?${q}`);
      assert.equal(r.status, 400, `${path}?${q}: ${r.text}`);
    }
  }
  const schemas = doc.components.schemas;
  assert.equal(schemas.DestinationInput.properties.name.minLength, 1);
  assert.equal(schemas.SavedFilterInput.properties.name.minLength, 1);
  const named = (path, body) => call(`${U}${path}`, T.aAll, {
    method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' },
  });
  assert.equal((await named('/v1/filters', { name: '', query: 'action:CREATE' })).status, 400);
  assert.equal((await named('/v1/destinations', { name: '', type: 'webhook', config: { url: 'http://127.0.0.1:9/h' } })).status, 400);
  const events = doc.paths['/v1/events'].post.requestBody.content['application/json'].schema.oneOf[0];
  assert.equal(events.minItems, 1);
  assert.equal((await post(T.aAll, '[]')).status, 400);
  // A second schemathesis round: an empty `order` or `limit` is no value of theirs (400, as
  // the document's enum and integer say), events of any shape are taken and judged one by
  // one (200 with `rejected`, so the body's items are documented as objects), and a token's
  // `expiresAt` may be null (no expiry).
  assert.deepEqual(param('/v1/events', 'order').enum, ['desc', 'asc']);
  for (const q of ['order=', 'limit=']) {
    const r = await get(T.aAll, `/v1/events?${q}`);
    assert.equal(r.status, 400, `/v1/events?${q}: ${r.text}`);
  }
  const odd = await post(T.aAll, JSON.stringify([{ auditEventId: 'x', auditResource: { type: true } }]));
  assert.equal(odd.status, 200, odd.text);
  assert.equal(odd.json.rejected.length, 1);
  const expiresAt = schemas.TokenInput.properties.expiresAt.oneOf.map((o) => o.type);
  assert.ok(expiresAt.includes('null'), `expiresAt: ${expiresAt}`);
  const token = await named('/v1/tokens', { name: 'no expiry', scopes: ['read'], expiresAt: null });
  assert.equal(token.status, 201, token.text);
  assert.equal(token.json.expiresAt, null);

  // A third round. Items that are not even objects are judged one by one too (so the
  // document gives the items no type).
  assert.equal(events.items.type, undefined);
  const notObjects = await post(T.aAll, JSON.stringify([false, event('acct_a', 31_001), [true], 'x']));
  assert.equal(notObjects.status, 200, notObjects.text);
  assert.equal(notObjects.json.accepted, 1);
  assert.deepEqual(notObjects.json.rejected.map((r) => r.index), [0, 2, 3]);
  // Content-Encoding: gzip, x-gzip, identity or empty; any other coding is 415.
  const coding = doc.paths['/v1/events'].post.parameters.find((p) => p.name === 'Content-Encoding').schema;
  assert.deepEqual(coding.enum, ['gzip', 'x-gzip', 'identity', '']);
  const one = JSON.stringify(event('acct_a', 31_000));
  for (const [value, status] of [['br', 415], ['gzip, gzip', 415], ['identity', 200], ['x-gzip', 200]]) {
    const body = value === 'x-gzip' ? gzipSync(one) : one;
    const r = await post(T.aAll, body, 'application/json', { 'content-encoding': value });
    assert.equal(r.status, status, `Content-Encoding: ${value}: ${r.text}`);
    if (status === 415) assert.equal(r.json.error.code, 'unsupported_encoding');
  }
  // A parameter given twice, and an empty `format`, are no value the document allows.
  for (const q of ['/v1/events?limit=1&limit=2', '/v1/events?format=', '/v1/stats?by=action&by=module']) {
    const r = await get(T.aAll, q);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.json.error.code, 'bad_parameter', q);
  }
  const twice = await post(T.aAll, one, 'application/json', {}, '?atomic=true&atomic=false');
  assert.equal(twice.status, 400, twice.text);
  // A token's scopes may repeat (each counts once, so the answer lists it once); its owner,
  // when given, is a string.
  assert.equal(schemas.TokenInput.properties.scopes.uniqueItems, undefined);
  const repeated = await named('/v1/tokens', { name: 'repeats', scopes: ['read', 'read'] });
  assert.equal(repeated.status, 201, repeated.text);
  assert.deepEqual(repeated.json.scopes, ['read']);
  const nullOwner = await named('/v1/tokens', { name: 'n', scopes: ['read'], owner: null });
  assert.equal(nullOwner.status, 400, nullOwner.text);
  assert.equal(nullOwner.json.error.details.field, 'owner');
});
