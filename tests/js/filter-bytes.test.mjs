// filterNdjson on bytes (answered by offsets into the caller's bytes, copied once in JS)
// gives what it gives on the same text and on the same bytes gzipped, for inputs whose
// matching lines are neighbours, apart, first, last, and last without a `\n`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { trailsift as ts, event } from './helpers.mjs';

const actions = ['CREATE', 'DELETE', 'DELETE', 'UPDATE', 'DELETE', 'LOGIN', 'DELETE'];
const lines = actions.map((a, i) => JSON.stringify(event({ auditEventId: `e${i}`, auditAction: a })));
const dec = new TextDecoder();

test('filterNdjson on bytes equals filterNdjson on the text and on gzip', () => {
  const f = ts.compileFilter('action:DELETE');
  for (const [name, text] of [
    ['\\n endings', lines.join('\n') + '\n'],
    ['no final newline', lines.join('\n')],
    ['\\r\\n endings, blank lines', lines.join('\r\n\r\n')],
    ['a line that is not JSON', ['{', ...lines].join('\n')],
  ]) {
    const want = f.filterNdjson(text);
    assert.ok(want.includes('"e6"') && want.endsWith('\n'), name);
    const bytes = new TextEncoder().encode(text);
    const out = f.filterNdjson(bytes);
    assert.ok(out instanceof Uint8Array, name);
    assert.equal(dec.decode(out), want, name);
    // A view that does not start at its buffer's start, and a Node Buffer.
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 3);
    assert.equal(dec.decode(f.filterNdjson(padded.subarray(3, 3 + bytes.length))), want, `${name}, offset view`);
    assert.equal(dec.decode(f.filterNdjson(Buffer.from(text))), want, `${name}, Buffer`);
    assert.equal(dec.decode(f.filterNdjson(gzipSync(bytes))), want, `${name}, gzip`);
  }
  assert.equal(ts.compileFilter('action:NONE').filterNdjson(new TextEncoder().encode(lines.join('\n'))).length, 0);
});
