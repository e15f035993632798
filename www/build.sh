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
# The package's web target: pkg/web/ when the package ships several targets, else pkg/.
for dir in pkg/web pkg; do
  if [ -f "$dir/trailsift.js" ] && [ -f "$dir/trailsift_bg.wasm" ]; then
    cp "$dir/trailsift.js" "$dir/trailsift_bg.wasm" "$out/pkg/"
    [ -f "$dir/trailsift.d.ts" ] && cp "$dir/trailsift.d.ts" "$out/pkg/"
    echo "www: page built in $out with the package from $dir"
    exit 0
  fi
done
echo "www: page built in $out WITHOUT the trailsift package (build it first: make pkg)" >&2
