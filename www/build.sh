#!/usr/bin/env bash
# Makes www/ a complete page: copies the trailsift package's browser build (pkg/, from
# scripts/build-pkg.sh) into www/pkg/ (gitignored). www/ is then what the Worker serves as
# [assets] (wrangler.toml) and what any static server can serve.
set -euo pipefail
cd "$(dirname "$0")/.."
out=www/pkg
rm -rf "$out" www/dist
if [ -f pkg/web.js ] && [ -f pkg/trailsift_bg.wasm ]; then
  mkdir -p "$out"
  cp pkg/web.js pkg/trailsift.js pkg/trailsift_bg.wasm pkg/streams.js "$out/"
  [ -d pkg/snippets ] && cp -r pkg/snippets "$out/"
  # The verifier's own module, loaded by the engine worker when the page verifies.
  cp pkg/verify-web.js pkg/verify-api.js pkg/trailsift_verify.js pkg/trailsift_verify_bg.wasm "$out/"
  echo "www: page ready in www/ (package copied to $out)"
else
  echo "www: pkg/ has no browser build; run make pkg first" >&2
  exit 1
fi
