// WHATWG TransformStreams over the wasm push/finish objects: bytes in, bytes out, for
// `File.stream()`, `fetch` bodies and Node web streams. Memory stays bounded: a chunk is
// fed to wasm in slices of at most SLICE bytes, and wasm holds only one partial record.
import * as wasm from './trailsift.js';

const SLICE = 1 << 20;
const encoder = new TextEncoder();

function asBytes(chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError('trailsift streams take Uint8Array, ArrayBuffer or string chunks');
}

function pump(sink) {
  let freed = false;
  const free = () => {
    if (!freed) {
      freed = true;
      sink.free();
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      const bytes = asBytes(chunk);
      try {
        for (let at = 0; at < bytes.length; at += SLICE) {
          const out = sink.push(bytes.subarray(at, Math.min(at + SLICE, bytes.length)));
          if (out.length > 0) controller.enqueue(out);
        }
      } catch (error) {
        free();
        throw error;
      }
    },
    flush(controller) {
      try {
        const out = sink.finish();
        if (out.length > 0) controller.enqueue(out);
      } finally {
        free();
      }
    },
    cancel() {
      free();
    },
  });
}

/** The NDJSON lines of the input that match `filter`, unchanged. */
export function createFilterStream(filter) {
  return pump(filter.ndjsonStream());
}

/** The input converted as `convert(input, options)` would, chunk by chunk. */
export function createConvertStream(options) {
  return pump(new wasm.ConvertStream(options));
}
