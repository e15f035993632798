// Bundlers (Vite, webpack 5, Rollup, esbuild): the .wasm is referenced with
// `new URL(..., import.meta.url)`, which bundlers emit as an asset, and loaded with
// top-level await so that every export is ready once this module is imported.
import init from './trailsift.js';

await init({ module_or_path: new URL('./trailsift_bg.wasm', import.meta.url) });

export * from './trailsift.js';
export { default } from './trailsift.js';
export * from './streams.js';
export { FilterError, TrailsiftError } from '__ERRORS__';
