#!/usr/bin/env bash
# Builds the npm package in pkg/: one .wasm (wasm-pack --target web, then wasm-opt -Oz)
# and entry points for Node (ESM and CommonJS), bundlers and plain browsers.
#   scripts/build-pkg.sh            release build
# The hand-written files come from src/wasm/package/; pkg/ holds only generated files.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
TMP=$ROOT/target/pkg-build
OUT=$ROOT/pkg
TEMPLATES=$ROOT/src/wasm/package
BIN=$ROOT/node_modules/.bin

log() { printf '\033[1mbuild-pkg:\033[0m %s\n' "$*"; }

[ -x "$BIN/wasm-opt" ] && [ -x "$BIN/esbuild" ] || scripts/setup.sh npm
command -v wasm-pack >/dev/null || scripts/setup.sh wasm

# Size over speed for the package: opt-level "z" (the crate's release profile says "s"
# for every wasm build; the package overrides it here only).
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z
# WebAssembly SIMD (every current browser, Node >= 16.4): memchr's wasm32 SIMD searches
# make the filter's literal pre-check about 4x faster (BENCHMARKS.md, "npm package").
FLAGS="-C target-feature=+simd128"
# With nightly (scripts/setup.sh adds its wasm32 target and rust-src), the standard library
# is rebuilt with the package: a panic aborts at once instead of formatting its message
# (no message reaches a user anyway: a wasm trap is all JavaScript sees) and no source
# locations are kept; 25 kB less gzipped, which keeps the package within its 250 kB
# budget. The standard library's `optimize_for_size` picks its smaller code where it has
# two (sorting, integer formatting, float parsing's fast path; none on the filter's path):
# 3.8 kB less gzipped (BENCHMARKS.md, "npm broad filters: room in the budget and the
# reader"). TRAILSIFT_PKG_STABLE=1, or no nightly, builds with stable.
installed=$(rustup component list --toolchain nightly --installed 2>/dev/null || true)
if [ "${TRAILSIFT_PKG_STABLE:-}" != 1 ] && grep -qx rust-src <<<"$installed" \
  && grep -qx rust-std-wasm32-unknown-unknown <<<"$installed"; then
  log "nightly: the standard library rebuilt for size"
  export RUSTUP_TOOLCHAIN=nightly CARGO_UNSTABLE_BUILD_STD=std,panic_abort
  export CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
  export CARGO_TARGET_DIR=$ROOT/target/pkg-nightly
  FLAGS="$FLAGS -Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort"
fi
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$FLAGS"

log "wasm-pack build --target web"
rm -rf "$TMP"
wasm-pack --log-level warn build --release --target web --no-pack \
  --out-dir "$TMP" --out-name trailsift -- --features wasm

# Rust's wasm32 target emits these proposals by default (and SIMD, asked for above).
log "wasm-opt -Oz"
# A fresh instance's memory is zeroed and Rust never uses its first KB. Functions of up to
# 4 instructions are inlined everywhere: at opt-level "z" LLVM leaves small helpers (memchr's
# SIMD steps, the standard library's iterator steps) as calls inside hot loops. 9 gave 0-21 %
# less CPU on the broad filters for 2.2 kB gzipped (BENCHMARKS.md, "npm broad filters: room
# in the budget and the reader"), which the page's columnar reader now uses instead.
# TRAILSIFT_PKG_NAMES=1 keeps the functions' names (the "name" section: over the size budget,
# for profiling only) so that `node --cpu-prof` names the module's functions (BENCHMARKS.md,
# "npm broad filters: profile and build").
NAMES=()
[ "${TRAILSIFT_PKG_NAMES:-}" = 1 ] && NAMES=(-g)
"$BIN/wasm-opt" -Oz --always-inline-max-function-size=4 --converge --zero-filled-memory --low-memory-unused --strip-producers --strip-target-features \
  ${NAMES[@]+"${NAMES[@]}"} --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$TMP/trailsift_bg.wasm" -o "$TMP/trailsift_bg.opt.wasm"
mv "$TMP/trailsift_bg.opt.wasm" "$TMP/trailsift_bg.wasm"

# The verifier (`trailsift/verify`) is a second module, built the same way with only the
# feature `verify`: its ~26 kB gzipped would not fit in the main module's budget, and only
# auditors need it.
VTMP=$ROOT/target/pkg-build-verify
log "wasm-pack build --target web (verifier)"
rm -rf "$VTMP"
wasm-pack --log-level warn build --release --target web --no-pack \
  --out-dir "$VTMP" --out-name trailsift_verify -- --features verify
"$BIN/wasm-opt" -Oz --converge --zero-filled-memory --low-memory-unused --strip-producers \
  --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$VTMP/trailsift_verify_bg.wasm" -o "$VTMP/trailsift_verify_bg.opt.wasm"
mv "$VTMP/trailsift_verify_bg.opt.wasm" "$VTMP/trailsift_verify_bg.wasm"

log "assembling pkg/"
find "$OUT" -mindepth 1 -not -name .gitkeep -delete 2>/dev/null || true
mkdir -p "$OUT"
cp "$TMP/trailsift.js" "$TMP/trailsift.d.ts" "$TMP/trailsift_bg.wasm" "$OUT/"
cp -r "$TMP/snippets" "$OUT/"
errors=$(cd "$OUT" && find snippets -name filter-error.js)
[ -n "$errors" ] || { echo "build-pkg: filter-error.js snippet missing" >&2; exit 1; }

for f in node.mjs bundler.js web.js node-cjs.js; do
  sed "s#__ERRORS__#./$errors#" "$TEMPLATES/$f" >"$TMP/$f"
done
cp "$TMP/node.mjs" "$TMP/bundler.js" "$TMP/web.js" "$OUT/"
cp "$TEMPLATES/streams.js" "$TEMPLATES/README.md" "$OUT/"

cp "$VTMP/trailsift_verify.js" "$VTMP/trailsift_verify_bg.wasm" "$OUT/"
for f in verify-api.js verify-node.mjs verify-bundler.js verify-web.js verify-node-cjs.js; do
  sed "s#__ERRORS__#./$errors#" "$TEMPLATES/$f" >"$OUT/$f"
done
"$BIN/esbuild" "$OUT/verify-node-cjs.js" --bundle --format=cjs --platform=node --target=node18 \
  --log-level=warning --log-override:empty-import-meta=silent --outfile="$OUT/verify.cjs"
rm "$OUT/verify-node-cjs.js"
cat "$TEMPLATES/verify.d.ts" "$TEMPLATES/errors.d.ts" >"$OUT/verify.d.ts"
cp "$OUT/verify.d.ts" "$OUT/verify.d.cts"
cp "$TEMPLATES/verify-web.d.ts" "$OUT/"

# CommonJS for `require`: the ESM glue bundled into one file beside the same .wasm.
cp "$TMP/node-cjs.js" "$OUT/node-cjs.js"
"$BIN/esbuild" "$OUT/node-cjs.js" --bundle --format=cjs --platform=node --target=node18 \
  --log-level=warning --log-override:empty-import-meta=silent --outfile="$OUT/node.cjs"
rm "$OUT/node-cjs.js"

# The glue's declarations name the raw wasm exports (typed `any`) in `InitOutput` and
# `[Symbol.dispose]` (which needs TypeScript's esnext lib): keep `memory`, drop the rest.
node -e '
  const fs = require("fs");
  const file = process.argv[1];
  let dts = fs.readFileSync(file, "utf8");
  dts = dts.replace(/export interface InitOutput \{[^}]*\}/, "export interface InitOutput {\n    readonly memory: WebAssembly.Memory;\n}");
  dts = dts.replace(/^\s*\[Symbol\.dispose\]\(\): void;\n/gm, "");
  if (/\bany\b/.test(dts.replace(/\/\*[\s\S]*?\*\//g, ""))) { console.error("build-pkg: `any` left in trailsift.d.ts"); process.exit(1); }
  fs.writeFileSync(file, dts);
' "$OUT/trailsift.d.ts"

# Types: the glue's declarations (every function, class and option type) plus the
# stream and error classes; one self-contained file for ESM and one for CommonJS.
{
  cat "$OUT/trailsift.d.ts"
  echo
  cat "$TEMPLATES/errors.d.ts"
  echo
  cat "$TEMPLATES/streams.d.ts"
} >"$OUT/index.d.ts"
cp "$OUT/index.d.ts" "$OUT/index.d.cts"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
sed "s/__VERSION__/$version/" "$TEMPLATES/package.json" >"$OUT/package.json"

raw=$(stat -c %s "$OUT/trailsift_bg.wasm")
gz=$(gzip -9 -c "$OUT/trailsift_bg.wasm" | wc -c)
log "pkg/trailsift_bg.wasm: $raw bytes, $gz bytes gzipped"
raw=$(stat -c %s "$OUT/trailsift_verify_bg.wasm")
gz=$(gzip -9 -c "$OUT/trailsift_verify_bg.wasm" | wc -c)
log "pkg/trailsift_verify_bg.wasm: $raw bytes, $gz bytes gzipped"
