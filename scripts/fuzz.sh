#!/usr/bin/env bash
# Fuzzes the filter parser with cargo-fuzz on nightly for a bounded time.
#   scripts/fuzz.sh [SECONDS]    (default 120; FUZZ_SECONDS also works)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${FUZZ_SECONDS:-120}}"
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
# The fuzzer grows fuzz/corpus/parse (ignored by git) from the checked-in seeds.
mkdir -p fuzz/corpus/parse
cargo +nightly fuzz run parse fuzz/corpus/parse fuzz/seeds/parse -- -max_total_time="$seconds" -max_len=4096
