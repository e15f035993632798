// Plain browsers (no bundler): call `await init()` (or `initSync({ module })`) once
// before any other export.
export * from './trailsift.js';
export { default } from './trailsift.js';
export * from './streams.js';
export { FilterError, TrailsiftError } from '__ERRORS__';
