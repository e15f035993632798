// The transform golden cases (tests/fixtures/transform/, see its README) give the same bytes
// through the npm package as through the Rust core: `convert` and `createConvertStream`
// with the `transform` and `pseudonymizeKey` options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, trailsift as ts } from './helpers.mjs';

const DIR = join(FIXTURES, 'transform');
const cases = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

function load(name) {
  const at = (f) => join(DIR, name, f);
  const text = readFileSync(at('transform.json'), 'utf8');
  let transform;
  try { transform = JSON.parse(text); } catch { transform = text; } // given as its text
  return {
    transform,
    key: existsSync(at('key')) ? readFileSync(at('key')) : undefined,
    input: readFileSync(existsSync(at('input.ndjson')) ? at('input.ndjson') : join(DIR, 'input.ndjson')),
    expected: existsSync(at('expected.ndjson')) ? readFileSync(at('expected.ndjson'), 'utf8') : undefined,
    error: existsSync(at('error.json')) ? JSON.parse(readFileSync(at('error.json'), 'utf8')) : undefined,
  };
}

async function streamed(input, options) {
  const out = [];
  const stream = new Blob([input]).stream().pipeThrough(ts.createConvertStream(options));
  for await (const chunk of stream) out.push(Buffer.from(chunk));
  return Buffer.concat(out).toString('utf8');
}

test('there are transform golden cases', () => {
  assert.ok(cases.length >= 20, `${cases.length} cases`);
});

for (const name of cases) {
  test(`transform golden: ${name}`, async () => {
    const c = load(name);
    // The key as bytes, and (when it is UTF-8) as a string: both are the same key.
    const keys = c.key === undefined ? [undefined] : [new Uint8Array(c.key), c.key.toString('utf8')];
    for (const pseudonymizeKey of keys) {
      const options = { from: 'ndjson', to: 'ndjson', transform: c.transform, ...(pseudonymizeKey === undefined ? {} : { pseudonymizeKey }) };
      if (c.error) {
        assert.throws(() => ts.convert(c.input, options), (e) => {
          assert.ok(e instanceof ts.TrailsiftError, String(e));
          assert.equal(e.code, c.error.code);
          for (const [k, v] of Object.entries(c.error)) {
            if (k !== 'code') assert.deepEqual(e[k], v, `${name}: error.${k}`);
          }
          return true;
        });
        continue;
      }
      const whole = ts.convert(c.input.toString('utf8'), options);
      assert.equal(whole, c.expected, `${name}: convert`);
      const asText = ts.convert(c.input.toString('utf8'), { ...options, transform: JSON.stringify(c.transform) });
      assert.equal(asText, c.expected, `${name}: the transform as JSON text`);
      assert.equal(await streamed(c.input, options), c.expected, `${name}: createConvertStream`);
    }
  });
}

test('a transform applies to every output format, and the key never shows', () => {
  const c = load('spec_example');
  const key = 'not-in-the-output';
  for (const to of ['json', 'ndjson', 'csv', 'splunk_hec', 'sumo', 'ocsf']) {
    const out = ts.convert(c.input, { from: 'ndjson', to, transform: { ...c.transform, pseudonymize: ['auditEventAuthor.principal.email'] }, pseudonymizeKey: key });
    const text = Buffer.from(out).toString('utf8');
    assert.ok(!text.includes(key), to);
    assert.ok(!text.includes('alice@example.com'), `${to}: the email is left`);
  }
  assert.throws(() => ts.convert(c.input, { from: 'ndjson', to: 'ndjson', pseudonymizeKey: key }), (e) => e.code === 'bad_option');
  assert.throws(() => ts.convert(c.input, { from: 'ndjson', to: 'ndjson', transform: {}, pseudonymizeKey: 5 }), (e) => e.code === 'bad_option');
});
