#!/usr/bin/env bash
# Fuzzes every cargo-fuzz target (fuzz/fuzz_targets/) on nightly for a bounded time each and
# prints the executions per target; a crash leaves its input in fuzz/artifacts/<target>/.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (SECONDS per target, default 180; FUZZ_SECONDS
#                                           also works; default targets: all of them)
# The fuzzer grows fuzz/corpus/<target> (ignored by git) from the checked-in fuzz/seeds/<target>;
# with FUZZ_FRESH=1 it starts from the seeds alone and keeps nothing (make fuzz-smoke).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${FUZZ_SECONDS:-180}}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(parse filter_structured filter_logpush read validate convert ingest verify time transform)
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
# cargo-fuzz's defaults (optimised, with debug assertions and overflow checks) without
# AddressSanitizer: the code is safe Rust, and it runs several times faster without.
flags=(--sanitizer none)
# The fuzz crate builds in fuzz/target, whatever the main crate's target directory.
unset CARGO_TARGET_DIR
cargo +nightly fuzz build "${flags[@]}"

max_len() {
  case "$1" in
    time) echo 256 ;;
    read | validate | convert | ingest | transform) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=()
printf '%-18s %12s %10s %8s\n' target executions 'exec/s' corpus
corpora=fuzz/corpus
if [ "${FUZZ_FRESH:-0}" = 1 ]; then
  corpora="$logs/corpus"
fi
for t in "${targets[@]}"; do
  mkdir -p "$corpora/$t"
  status=0
  cargo +nightly fuzz run "${flags[@]}" "$t" "$corpora/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -print_final_stats=1 \
    >"$logs/$t" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t")
  corpus=$(find "$corpora/$t" -type f | wc -l)
  printf '%-18s %12s %10s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "$corpus"
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    grep -E 'panicked|ERROR|Test unit written|SUMMARY' "$logs/$t" | head -20 || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
