// `trailsift/verify` in Node (ESM): the verifier's .wasm instantiated synchronously on import.
import { readFileSync } from 'node:fs';
import { initSync } from './trailsift_verify.js';

initSync({ module: readFileSync(new URL('./trailsift_verify_bg.wasm', import.meta.url)) });

export * from './verify-api.js';
