// The destinations API: CRUD with checked fields, write-only credentials, 409 on deleting
// an active destination, the connection test's stages, and every answer as the OpenAPI
// document says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, makeTokens, freePort } from './harness.mjs';
import { api, answers, openapiChecker } from './destinations.mjs';
import { startS3, startWebhook, newSecret } from './receivers.mjs';

const { tokens: T, config } = makeTokens();
const check = openapiChecker();
let w;
let A;
let s3;
let hook;
const S3_SECRET = newSecret();
const HOOK_SECRET = newSecret();

before(async () => {
  [w, s3, hook] = await Promise.all([
    startWorker({ tokensConfig: config }),
    startS3({ bucket: 'audit', secretKey: S3_SECRET }),
    startWebhook({ secret: HOOK_SECRET }),
  ]);
  A = api(w, T.aAll);
}, { timeout: 600_000 });

after(async () => {
  await Promise.all([w?.stop(), s3?.close(), hook?.close()]);
  w?.cleanup();
});

const s3Body = (over = {}) => ({
  name: 'SIEM S3',
  description: 'the security team bucket',
  tags: { team: 'sec' },
  type: 's3',
  config: { endpoint: s3.base, region: 'us-east-1', bucket: 'audit', prefix: 'trail/', pathStyle: true },
  credentials: { accessKeyId: s3.accessKey, secretAccessKey: S3_SECRET },
  ...over,
});

test('the OpenAPI document lists every destination endpoint', async () => {
  const doc = (await A.send('GET', '/v1/openapi.json')).json;
  for (const p of ['/v1/destinations', '/v1/destinations/{id}', '/v1/destinations/{id}/test',
    '/v1/destinations/{id}/flush', '/v1/destinations/{id}/status', '/v1/destinations/{id}/replay',
    '/v1/destinations/{id}/dead-letters/{batch}']) {
    assert.ok(doc.paths[p], `openapi lacks ${p}`);
  }
});

test('make, read, list, change and delete a destination', async () => {
  let r = await A.create(s3Body());
  check('POST', '/v1/destinations', r);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.id, 'siem-s3');
  assert.equal(r.json.status, 'inactive');
  assert.equal(r.json.format, 'json');
  assert.equal(r.json.compression, 'none');
  assert.deepEqual(r.json.batch, { maxEvents: 10000, maxBytes: 5000000, intervalSeconds: 1800 });
  assert.deepEqual(r.json.retry, { maxAttempts: 8, baseSeconds: 2, maxSeconds: 900 });
  assert.deepEqual(r.json.credentialKeys, ['accessKeyId', 'secretAccessKey']);
  assert.equal(r.json.credentials, undefined);
  assert.deepEqual(r.json.tags, { team: 'sec' });

  r = await A.create(s3Body());
  check('POST', '/v1/destinations', r);
  assert.equal(r.status, 409);
  assert.equal(r.json.error.code, 'conflict');

  r = await A.get('siem-s3');
  check('GET', '/v1/destinations/{id}', r);
  assert.equal(r.json.name, 'SIEM S3');
  r = await A.list();
  check('GET', '/v1/destinations', r);
  assert.deepEqual(r.json.destinations.map((d) => d.id), ['siem-s3']);

  r = await A.patch('siem-s3', { config: { prefix: 'audit/' }, format: 'ndjson', compression: 'gzip', batch: { maxEvents: 100 } });
  check('PATCH', '/v1/destinations/{id}', r);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.config.prefix, 'audit/');
  assert.equal(r.json.config.bucket, 'audit');
  assert.equal(r.json.batch.maxEvents, 100);
  assert.equal(r.json.batch.intervalSeconds, 1800);
  assert.ok(r.json.updated >= r.json.created);

  r = await A.patch('siem-s3', { status: 'active' });
  assert.equal(r.json.status, 'active');
  r = await A.delete('siem-s3');
  check('DELETE', '/v1/destinations/{id}', r);
  assert.equal(r.status, 409);
  assert.equal(r.json.error.code, 'destination_active');
  r = await A.patch('siem-s3', { status: 'inactive' });
  assert.equal(r.json.status, 'inactive');
  r = await A.delete('siem-s3');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { deleted: 'siem-s3' });
  r = await A.get('siem-s3');
  check('GET', '/v1/destinations/{id}', r);
  assert.equal(r.status, 404);
});

test('every field is checked, with an error naming it', async () => {
  const cases = [
    [{ type: 'kafka' }, 'unknown_destination_type', 'type'],
    [{ config: { region: 'us-east-1', bucket: 'audit', endpoint: 'not a url' } }, 'bad_destination_url', 'config.endpoint'],
    [{ config: { region: 'us-east-1', bucket: 'audit', endpoint: 'http://user:pw@127.0.0.1:1' } }, 'bad_destination_url', 'config.endpoint'],
    [{ config: { region: 'us-east-1' } }, 'bad_destination', 'config.bucket'],
    [{ config: { region: 'us-east-1', bucket: 'audit', colour: 'red' } }, 'bad_destination', 'config.colour'],
    [{ credentials: { accessKeyId: 'x' } }, 'bad_destination', 'credentials.secretAccessKey'],
    [{ credentials: undefined }, 'bad_destination', 'credentials'],
    [{ format: 'csv' }, 'bad_destination', 'format'],
    [{ compression: 'zstd' }, 'bad_destination', 'compression'],
    [{ status: 'active' }, 'bad_destination', 'status'],
    [{ batch: { intervalSeconds: 0 } }, 'bad_destination', 'batch.intervalSeconds'],
    [{ retry: { maxAttempts: 1.5 } }, 'bad_destination', 'retry.maxAttempts'],
    [{ transform: 'drop everything' }, 'bad_transform', 'transform'],
    [{ startAfterSeq: -1 }, 'bad_destination', 'startAfterSeq'],
    [{ name: '' }, 'bad_destination', 'name'],
  ];
  for (const [over, code, field] of cases) {
    const r = await A.create(s3Body(over));
    check('POST', '/v1/destinations', r);
    assert.equal(r.status, 400, `${JSON.stringify(over)}: ${r.text}`);
    assert.equal(r.json.error.code, code, r.text);
    assert.equal(r.json.error.details.field, field, r.text);
  }
  const f = await A.create(s3Body({ filter: 'acton:create' }));
  assert.equal(f.status, 400);
  assert.equal(f.json.error.code, 'bad_filter');
  assert.equal(f.json.error.details.code, 'unknown_field');
  assert.match(f.json.error.details.rendered, /acton:create\n.*\^+/s);
  const big = await A.create(s3Body({ startAfterSeq: 10 ** 9 }));
  assert.equal(big.status, 400);
  assert.equal(big.json.error.details.field, 'startAfterSeq');
  const notJson = await A.send('POST', '/v1/destinations', '{"name":');
  assert.equal(notJson.json.error.code, 'bad_json');
});

const PS_KEY = newSecret();

test('a transform is compiled when the destination is made; its key is a write-only credential', async () => {
  for (const [transform, code, key] of [
    [{ inclde: [] }, 'unknown_key', 'inclde'],
    [{ redactPatterns: ['(unclosed'] }, 'bad_regex', 'redactPatterns'],
    [{ exclude: ['auditEventId'] }, 'required_field', 'exclude'],
    [{ sample: 2 }, 'out_of_range', 'sample'],
  ]) {
    const r = await A.create(s3Body({ transform }));
    check('POST', '/v1/destinations', r);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'bad_transform', r.text);
    assert.equal(r.json.error.details.code, code, r.text);
    assert.equal(r.json.error.details.key, key, r.text);
    assert.equal(r.json.error.details.field, 'transform', r.text);
  }
  const pseudonymize = { pseudonymize: ['auditEventAuthor.principal.email', 'auditEventAuthor.principal.email'] };
  const noKey = await A.create(s3Body({ transform: pseudonymize }));
  assert.equal(noKey.status, 400, noKey.text);
  assert.equal(noKey.json.error.details.code, 'missing_key');
  assert.equal(noKey.json.error.details.field, 'credentials.pseudonymizeKey');
  const credentials = { accessKeyId: s3.accessKey, secretAccessKey: S3_SECRET, pseudonymizeKey: PS_KEY };
  const made = await A.create(s3Body({ name: 'Pseudonymised', transform: pseudonymize, credentials }));
  check('POST', '/v1/destinations', made);
  assert.equal(made.status, 201, made.text);
  // the canonical transform shows; the key does not, only its name
  assert.deepEqual(made.json.transform, { pseudonymize: ['auditEventAuthor.principal.email'] });
  assert.ok(made.json.credentialKeys.includes('pseudonymizeKey'));
  const got = await A.get(made.json.id);
  assert.deepEqual(got.json.transform, made.json.transform);
  assert.ok(!got.text.includes(PS_KEY));
  // a PATCH that keeps the credentials keeps the key; new credentials without it lose it
  assert.equal((await A.patch(made.json.id, { transform: { ...pseudonymize, sample: 0.5 } })).status, 200);
  const lost = await A.patch(made.json.id, { credentials: { accessKeyId: s3.accessKey, secretAccessKey: S3_SECRET } });
  assert.equal(lost.status, 400, lost.text);
  assert.equal(lost.json.error.details.code, 'missing_key');
  assert.equal((await A.delete(made.json.id)).status, 200);
});

test('admin scope only; another account sees nothing', async () => {
  const made = await A.create(s3Body({ name: 'Scoped' }));
  assert.equal(made.status, 201, made.text);
  const reader = api(w, T.aRead);
  for (const r of [await reader.list(), await reader.get('scoped'), await reader.create(s3Body())]) {
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.code, 'forbidden');
  }
  const other = api(w, T.bAll);
  assert.deepEqual((await other.list()).json.destinations, []);
  for (const r of [await other.get('scoped'), await other.status('scoped'), await other.test('scoped'),
    await other.delete('scoped'), await other.flush('scoped'), await other.replay('scoped')]) {
    assert.equal(r.status, 404, r.text);
  }
  assert.equal((await A.send('PUT', '/v1/destinations/scoped', {})).status, 405);
});

test('status, flush, replay and discard of a quiet destination', async () => {
  await A.create(s3Body({ name: 'Quiet', startAfterSeq: 0 }));
  let r = await A.status('quiet');
  check('GET', '/v1/destinations/{id}/status', r);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.cursor, 0);
  assert.deepEqual(r.json.deadLetters, []);
  assert.equal(r.json.inFlight, null);
  assert.equal(r.json.nextAttemptAt, null, 'an inactive destination is not scheduled');
  r = await A.flush('quiet');
  check('POST', '/v1/destinations/{id}/flush', r);
  assert.equal(typeof r.json.flushThroughSeq, 'number');
  r = await A.replay('quiet');
  check('POST', '/v1/destinations/{id}/replay', r);
  assert.deepEqual(r.json, { replaying: [] });
  r = await A.replay('quiet', { batches: ['1-2'] });
  check('POST', '/v1/destinations/{id}/replay', r);
  assert.equal(r.status, 404);
  r = await A.replay('quiet', { batches: 'all' });
  assert.equal(r.status, 400);
  r = await A.discard('quiet', '1-2');
  check('DELETE', '/v1/destinations/{id}/dead-letters/{batch}', r);
  assert.equal(r.status, 404);
});

test('the connection test names the stage that failed', async () => {
  await A.create(s3Body({ name: 'S3 good' }));
  let r = await A.test('s3-good');
  check('POST', '/v1/destinations/{id}/test', r);
  assert.deepEqual([r.json.ok, r.json.stage], [true, undefined], r.text);
  assert.ok((await s3.objects('trail/')).some((o) => o.key === 'trail/trailsift-connection-test.json'));

  await A.create(s3Body({ name: 'S3 wrong secret', credentials: { accessKeyId: s3.accessKey, secretAccessKey: 'not-the-secret' } }));
  r = await A.test('s3-wrong-secret');
  assert.equal(r.json.ok, false);
  assert.equal(r.json.stage, 'auth', r.text);
  assert.equal(r.json.status, 403);
  assert.match(r.json.message, /SignatureDoesNotMatch/);

  const closed = await freePort();
  await A.create({ name: 'Nobody', type: 'webhook', config: { url: `http://127.0.0.1:${closed}/hook` }, credentials: { secret: HOOK_SECRET } });
  r = await A.test('nobody');
  assert.deepEqual([r.json.ok, r.json.stage], [false, 'connect'], r.text);

  await A.create({ name: 'Hook', type: 'webhook', config: { url: hook.url }, credentials: { secret: HOOK_SECRET } });
  r = await A.test('hook');
  assert.equal(r.json.ok, true, r.text);
  const last = hook.batches.at(-1);
  assert.deepEqual([last.key, last.test, last.events], ['hook:test', true, []]);
  hook.plan({ status: 500 });
  r = await A.test('hook');
  assert.deepEqual([r.json.ok, r.json.stage, r.json.status], [false, 'http', 500], r.text);

  await A.create({ name: 'Hook wrong secret', type: 'webhook', config: { url: hook.url }, credentials: { secret: 'wrong' } });
  r = await A.test('hook-wrong-secret');
  assert.deepEqual([r.json.ok, r.json.stage, r.json.status], [false, 'auth', 401], r.text);
});

test('credentials appear in no answer and no log line', async () => {
  const secrets = [S3_SECRET, HOOK_SECRET, PS_KEY, 'not-the-secret'];
  assert.ok(answers.length > 40);
  for (const text of answers) {
    for (const s of secrets) assert.ok(!text.includes(s), `an answer holds a credential: ${text.slice(0, 300)}`);
  }
  for (const s of secrets) assert.ok(!w.log().includes(s), 'the wrangler log holds a credential');
});
