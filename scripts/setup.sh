#!/usr/bin/env bash
# Installs what trailsift's builds and tests need, skipping whatever is already there.
#   scripts/setup.sh [rust] [wasm] [worker] [npm] [chromium] [python] [receivers] [all]
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7
# An S3-compatible server that checks SigV4 signatures, for the destination tests (newer
# versions need a newer rustc than these machines have).
S3S_FS_VERSION=0.14.1

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
  nightly_wasm
}

# The npm package is built with the nightly toolchain where there is one (these machines
# have it), rebuilding the standard library for size (scripts/build-pkg.sh); that needs
# nightly's wasm32 target and its library sources. Without them the package is built with
# stable, about 25 kB larger gzipped.
nightly_wasm() {
  rustup run nightly rustc -V >/dev/null 2>&1 || return 0
  local installed
  installed=$(rustup component list --toolchain nightly --installed 2>/dev/null)
  if ! grep -qx 'rust-std-wasm32-unknown-unknown' <<<"$installed"; then
    log "adding the wasm32-unknown-unknown target to nightly"
    rustup target add wasm32-unknown-unknown --toolchain nightly || log "nightly wasm32 target unavailable: the package builds with stable"
  fi
  if ! grep -qx 'rust-src' <<<"$installed"; then
    log "adding rust-src to nightly"
    rustup component add rust-src --toolchain nightly || log "nightly rust-src unavailable: the package builds with stable"
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
  # The destination tests read S3 objects back with boto3 and run GCS in
  # gcp-storage-emulator.
  if ! python3 -c "import boto3" 2>/dev/null; then
    log "installing the boto3 Python package"
    python3 -m pip install --quiet boto3
  fi
  if ! command -v gcp-storage-emulator >/dev/null; then
    log "installing the gcp-storage-emulator Python package"
    python3 -m pip install --quiet gcp-storage-emulator
  fi
  # make conformance checks the Worker against its OpenAPI document with schemathesis 4.
  if ! st --version 2>/dev/null | grep -q 'version 4\.'; then
    log "installing the schemathesis Python package (version 4)"
    python3 -m pip install --quiet 'schemathesis>=4,<5'
  fi
}

receivers() {
  python_packages
  if [ "$(s3s-fs --version 2>/dev/null | awk '{print $2}')" != "$S3S_FS_VERSION" ]; then
    log "installing s3s-fs $S3S_FS_VERSION (about 3 minutes)"
    cargo install s3s-fs --version "$S3S_FS_VERSION" --features binary --locked --force
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
    receivers) receivers ;;
    all) worker; npm_packages; chromium; python_packages; receivers ;;
    *) echo "unknown setup step: $step" >&2; exit 2 ;;
  esac
done
