#!/usr/bin/env bash
# Builds the page into www/dist/: the static files plus the trailsift package's web build
# (pkg/, from scripts/build-pkg.sh) under dist/pkg/. The folder is what the Worker serves as
# [assets] and what any static server can serve.
set -euo pipefail
cd "$(dirname "$0")/.."
out=www/dist
rm -rf "$out"
mkdir -p "$out/src" "$out/pkg"
cp www/index.html www/style.css "$out/"
cp www/src/*.js "$out/src/"
# The package's browser entry (pkg/web.js) with the files it imports.
if [ -f pkg/web.js ] && [ -f pkg/trailsift_bg.wasm ]; then
  cp pkg/web.js pkg/trailsift.js pkg/trailsift_bg.wasm pkg/streams.js "$out/pkg/"
  [ -d pkg/snippets ] && cp -r pkg/snippets "$out/pkg/"
  echo "www: page built in $out"
else
  echo "www: page built in $out WITHOUT the trailsift package (build it first: make pkg)" >&2
fi
