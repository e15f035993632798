// Node (CommonJS): bundled into node.cjs at build time; instantiates synchronously.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initSync } from './trailsift.js';

// eslint-disable-next-line no-undef
initSync({ module: readFileSync(join(__dirname, 'trailsift_bg.wasm')) });

export * from './trailsift.js';
export { default } from './trailsift.js';
export * from './streams.js';
export { FilterError, TrailsiftError } from '__ERRORS__';
