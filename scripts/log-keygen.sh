#!/usr/bin/env bash
# Makes a checkpoint signing key pair for a deployment of the Worker:
#   scripts/log-keygen.sh LOG_ORIGIN
# prints LOG_SIGNING_KEY (the secret: `npx wrangler secret put LOG_SIGNING_KEY`) and
# LOG_VERIFIER_KEY (to publish; it is also served at GET /v1/log/keys). The key name is the
# deployment's LOG_ORIGIN, which must be set to the same value in wrangler.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 1 ]; then
  echo "usage: scripts/log-keygen.sh LOG_ORIGIN   (for example audit.example.com)" >&2
  exit 2
fi
bin=target/native/trailsift
if [ ! -x "$bin" ]; then
  cargo build --profile native --features cli >&2
fi
exec "$bin" keygen --name "$1"
