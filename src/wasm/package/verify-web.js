// `trailsift/verify/web`, plain browsers (no bundler): call `await init()` (or
// `initSync({ module })`) once before verifying.
export { default, initSync } from './trailsift_verify.js';
export * from './verify-api.js';
