/** `trailsift/verify/web`: call `await init()` (or `initSync({ module })`) once first. */
export * from './verify.js';

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** Loads the verifier's .wasm (by default `trailsift_verify_bg.wasm` beside this module). */
export default function init(
  moduleOrPath?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<{ readonly memory: WebAssembly.Memory }>;

/** Instantiates the verifier from the .wasm's bytes or a compiled module, synchronously. */
export function initSync(module: { module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module): {
  readonly memory: WebAssembly.Memory;
};
