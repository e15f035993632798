#!/usr/bin/env bash
# Installs what trailsift's builds and tests need, skipping whatever is already there.
#   scripts/setup.sh [rust] [wasm] [worker] [npm] [chromium] [python] [all]
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

rust() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

wasm() {
  rust
  if [ "$(wasm-bindgen --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)" != "$WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  if ! command -v wasm-pack >/dev/null; then
    log "installing wasm-pack (about 3 minutes)"
    cargo install wasm-pack
  fi
}

worker() {
  wasm
  if [ "$(worker-build --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)" != "$WORKER_BUILD_VERSION" ]; then
    log "installing worker-build $WORKER_BUILD_VERSION (about 3 minutes)"
    cargo install worker-build --version "$WORKER_BUILD_VERSION" --force
  fi
}

npm_packages() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm packages"
    npm ci --no-audit --no-fund
  fi
}

chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Chromium"
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
}

python_packages() {
  if ! python3 -c "import duckdb" 2>/dev/null; then
    log "installing the duckdb Python package"
    python3 -m pip install --quiet duckdb
  fi
}

[ $# -gt 0 ] || set -- all
for step in "$@"; do
  case "$step" in
    rust) rust ;;
    wasm) wasm ;;
    worker) worker ;;
    npm) npm_packages ;;
    chromium) chromium ;;
    python) python_packages ;;
    all) worker; npm_packages; chromium; python_packages ;;
    *) echo "unknown setup step: $step" >&2; exit 2 ;;
  esac
done
