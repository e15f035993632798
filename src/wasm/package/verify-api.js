// `trailsift/verify`: evidence bundles and checkpoints checked offline by the verifier's
// own .wasm (trailsift_verify_bg.wasm). This file only turns what users hold (text, bytes,
// parsed JSON, key lists) into the bytes and text the module takes, and its JSON answer
// into objects.
import { verifyEvidenceJson, verifyConsistencyJson } from './trailsift_verify.js';
import { TrailsiftError } from '__ERRORS__';

export { TrailsiftError };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytesOf(value, what) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value !== null && typeof value === 'object') return encoder.encode(JSON.stringify(value));
  throw new TrailsiftError('bad_option', `${what}: a string, Uint8Array or object is needed`);
}

function textOf(value, what) {
  if (typeof value === 'string') return value;
  return decoder.decode(bytesOf(value, what));
}

// An object file: its bytes (JSON or NDJSON, maybe gzip), or its events as an array.
function eventsOf(events) {
  if (Array.isArray(events)) return encoder.encode(events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)) + '\n').join(''));
  return bytesOf(events, 'events');
}

// Verifier keys: text of one a line, or an array of them.
function keysOf(keys) {
  if (Array.isArray(keys)) return keys.join('\n');
  if (keys === undefined || keys === null) throw new TrailsiftError('bad_key', 'keys: verifier keys are needed');
  return textOf(keys, 'keys');
}

function answer(json) {
  const result = JSON.parse(json);
  if (result.error) throw new TrailsiftError(result.error.code, result.error.message);
  return result;
}

/** Verifies an evidence bundle (and, for a sidecar, its object file) against verifier keys. */
export function verifyEvidence(bundle, options = {}) {
  const { keys, events } = options;
  const object = events === undefined || events === null ? undefined : eventsOf(events);
  return answer(verifyEvidenceJson(bytesOf(bundle, 'bundle'), keysOf(keys), object));
}

/** Checks that the older signed checkpoint's tree is a prefix of the newer one's. */
export function verifyConsistency(oldCheckpoint, newCheckpoint, proof, options = {}) {
  return answer(
    verifyConsistencyJson(textOf(oldCheckpoint, 'old'), textOf(newCheckpoint, 'new'), bytesOf(proof, 'proof'), keysOf(options.keys)),
  );
}
