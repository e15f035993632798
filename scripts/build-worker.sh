#!/usr/bin/env bash
# Builds the Worker (build/index.js + build/index_bg.wasm) without downloading anything:
# worker-build is told where wasm-bindgen, esbuild and wasm-opt are.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin
WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
ESBUILD_BIN="${ESBUILD_BIN:-$PWD/$bin/esbuild}"
WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/$bin/wasm-opt}"
export WASM_BINDGEN_BIN ESBUILD_BIN WASM_OPT_BIN
exec worker-build --release --features worker "$@"
