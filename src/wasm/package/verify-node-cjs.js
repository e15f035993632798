// `trailsift/verify` in Node (CommonJS): bundled into verify.cjs at build time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initSync } from './trailsift_verify.js';

// eslint-disable-next-line no-undef
initSync({ module: readFileSync(join(__dirname, 'trailsift_verify_bg.wasm')) });

export * from './verify-api.js';
