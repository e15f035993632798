#!/usr/bin/env bash
# The main job: run the Worker locally in `wrangler dev` with a token for account `demo`.
# Makes .dev.vars (the token's digest, a CREDENTIALS_KEY, a LOG_SIGNING_KEY) and .dev-token
# (the plain token, gitignored) on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
port="${PORT:-8787}"
url="http://127.0.0.1:$port"

if [ ! -f .dev.vars ] || [ ! -f .dev-token ]; then
  mapfile -t made < <(scripts/make-token.sh demo demo ingest,read,admin)
  printf '%s\n' "${made[0]}" > .dev-token
  chmod 600 .dev-token
  printf "TRAILSIFT_TOKENS='[%s]'\n" "${made[1]}" > .dev.vars
  echo "made a token for account demo: ${made[0]}"
  echo "(kept in .dev-token; only its SHA-256 digest is in .dev.vars)"
fi
# Destination credentials are sealed with CREDENTIALS_KEY (32 random bytes, base64); local
# development may send to plain-http receivers.
if ! grep -q '^CREDENTIALS_KEY=' .dev.vars; then
  printf "CREDENTIALS_KEY='%s'\n" "$(head -c 32 /dev/urandom | base64)" >> .dev.vars
  echo "made a CREDENTIALS_KEY for destination credentials (in .dev.vars)"
fi
if ! grep -q '^ALLOW_HTTP_DESTINATIONS=' .dev.vars; then
  echo "ALLOW_HTTP_DESTINATIONS='true'" >> .dev.vars
fi
# The log's checkpoints are signed with LOG_SIGNING_KEY (an Ed25519 seed); its verifier key,
# the one to check evidence with, is kept beside it as a comment.
if ! grep -q '^LOG_SIGNING_KEY=' .dev.vars; then
  mapfile -t pair < <(target/native/trailsift keygen --name trailsift.local)
  printf "LOG_SIGNING_KEY='%s'\n# %s\n" "${pair[0]#LOG_SIGNING_KEY=}" "${pair[1]}" >> .dev.vars
  echo "made a LOG_SIGNING_KEY for the log's checkpoints (in .dev.vars)"
fi
verifier="$(sed -n 's/^# LOG_VERIFIER_KEY=//p' .dev.vars | tail -n 1)"
token="$(cat .dev-token)"

sample=target/sample/demo.ndjson
mkdir -p target/sample
now_ms=$(( $(date +%s) * 1000 ))
target/native/trailsift gen --count 1000 --seed 1 --accounts demo \
  --from $(( now_ms - 6 * 86400000 )) --to "$now_ms" > "$sample"

cat <<EOT

trailsift Worker: $url   (web page at $url/, API under $url/v1, OpenAPI at $url/v1/openapi.json)

Try it (in another shell):
  curl -s -X POST $url/v1/events -H "Authorization: Bearer $token" \\
       -H 'Content-Type: application/x-ndjson' --data-binary @$sample
  curl -s "$url/v1/events?limit=5&q=action:CREATE" -H "Authorization: Bearer $token"
  curl -s "$url/v1/stats?by=action" -H "Authorization: Bearer $token"

The log's verifier key (also at $url/v1/log/keys):
  $verifier
Check an export offline:
  curl -s "$url/v1/evidence?q=action:CREATE" -H "Authorization: Bearer $token" > bundle.json
  target/native/trailsift verify bundle.json --key '$verifier'

EOT
exec node_modules/.bin/wrangler dev --ip 127.0.0.1 --port "$port" --persist-to .wrangler/state
