// `trailsift/verify` for bundlers: the verifier's .wasm emitted as an asset and loaded with
// top-level await, so every export is ready once this module is imported.
import init from './trailsift_verify.js';

await init({ module_or_path: new URL('./trailsift_verify_bg.wasm', import.meta.url) });

export * from './verify-api.js';
