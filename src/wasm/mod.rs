//! The npm package API (feature `wasm`): type conversion only, no audit logic.
