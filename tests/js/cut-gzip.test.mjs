// Regression: a gzip stream cut short at its end, with a last line longer than the
// package's limit and no line ending. Every reader reports the break first, as the CLI and
// the core do (tests/cut_gzip.rs); the filter stream and `Input` used to report the long
// line first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { trailsift as ts, event } from './helpers.mjs';

// One event, then 65 MiB of spaces (over the 64 MiB line limit), gzip without the end
// of its trailer.
const gz = gzipSync(Buffer.concat([Buffer.from(JSON.stringify(event()) + '\n'), Buffer.alloc(65 << 20, 0x20)]));
const cut = gz.subarray(0, gz.length - 6);

test('the filter stream throws the break, not the long last line', async () => {
  const stream = new Blob([cut]).stream().pipeThrough(ts.createFilterStream(ts.compileFilter('')));
  await assert.rejects(new Response(stream).arrayBuffer(), (e) => e.code === 'truncated');
});

test('Input lists the break before the long last line, both at line 2', () => {
  const input = new ts.Input('cut.ndjson.gz');
  input.push(cut);
  input.finish();
  assert.deepEqual(input.takeErrors().map((e) => [e.code, e.line]), [['truncated', 2], ['too_large', 2]]);
});
