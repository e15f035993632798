// createFilterStream / createConvertStream: the same bytes as the whole-input calls,
// whatever the chunking, from Node web streams and Blob streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trailsift as ts, event, ndjson } from './helpers.mjs';

const actions = ['CREATE', 'DELETE', 'UPDATE', 'LOGIN'];
const events = Array.from({ length: 500 }, (_, i) =>
  event({ auditEventId: `ev-${i}`, auditAction: actions[i % 4], auditEventMetadata: { n: i, note: 'é✓'.repeat(i % 7) } }),
);
const text = ndjson(events);
const bytes = new TextEncoder().encode(text);

function chunked(data, sizes) {
  let at = 0;
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= data.length) {
        controller.close();
        return;
      }
      const n = sizes[i++ % sizes.length];
      controller.enqueue(data.slice(at, at + n));
      at += n;
    },
  });
}

async function collect(stream) {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

test('createFilterStream gives what filterNdjson gives, for any chunking', async () => {
  const filter = ts.compileFilter('action:DELETE or metadata.n >= 490');
  const expected = filter.filterNdjson(bytes);
  for (const sizes of [[1], [7, 3, 1000], [65536], [bytes.length], [2, 4096, 13]]) {
    const out = await collect(chunked(bytes, sizes).pipeThrough(ts.createFilterStream(filter)));
    assert.deepEqual(out, expected, `chunk sizes ${sizes}`);
  }
});

test('createFilterStream handles a missing final newline and CRLF', async () => {
  const filter = ts.compileFilter('action:CREATE');
  const input = text.trimEnd().replaceAll('\n', '\r\n');
  const out = await collect(chunked(new TextEncoder().encode(input), [5, 11]).pipeThrough(ts.createFilterStream(filter)));
  assert.equal(new TextDecoder().decode(out), filter.filterNdjson(input));
});

test('createFilterStream reads a Node file stream (Readable.toWeb) and takes string chunks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'trailsift-stream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'in.ndjson'), text);
  const filter = ts.compileFilter('-action:LOGIN');
  const web = Readable.toWeb(createReadStream(join(dir, 'in.ndjson'), { highWaterMark: 1000 }));
  const out = await collect(web.pipeThrough(ts.createFilterStream(filter)));
  assert.equal(new TextDecoder().decode(out), filter.filterNdjson(text));
  const fromStrings = await collect(chunked(text, [333]).pipeThrough(ts.createFilterStream(filter)));
  assert.deepEqual(fromStrings, out);
});

test('a Blob stream (what File.stream() gives in a browser) filters the same', async () => {
  const filter = ts.compileFilter('action:UPDATE');
  const out = await collect(new Blob([bytes]).stream().pipeThrough(ts.createFilterStream(filter)));
  assert.equal(new TextDecoder().decode(out), filter.filterNdjson(text));
});

test('one compiled filter serves several streams at once, and outlives free()', async () => {
  const filter = ts.compileFilter('action:CREATE');
  const a = ts.createFilterStream(filter);
  const b = ts.createFilterStream(filter);
  filter.free();
  const [x, y] = await Promise.all([
    collect(chunked(bytes, [100]).pipeThrough(a)),
    collect(chunked(bytes, [999]).pipeThrough(b)),
  ]);
  assert.deepEqual(x, y);
  assert.equal(new TextDecoder().decode(x).split('\n').filter(Boolean).length, 125);
});
