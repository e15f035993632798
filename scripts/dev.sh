#!/usr/bin/env bash
# The main job. Until the Worker lands: generate a sample and validate it with the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/native/trailsift
mkdir -p target/sample
"$bin" gen --count 1000 --seed 1 > target/sample/events.ndjson
echo "wrote target/sample/events.ndjson"
"$bin" validate --vocabulary target/sample/events.ndjson
