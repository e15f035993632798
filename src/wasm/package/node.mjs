// Node (ESM): the module is instantiated synchronously from the file beside this one.
import { readFileSync } from 'node:fs';
import { initSync } from './trailsift.js';

initSync({ module: readFileSync(new URL('./trailsift_bg.wasm', import.meta.url)) });

export * from './trailsift.js';
export { default } from './trailsift.js';
export * from './streams.js';
export { FilterError, TrailsiftError } from '__ERRORS__';
