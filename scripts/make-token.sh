#!/usr/bin/env bash
# Makes a fresh random API token and the TRAILSIFT_TOKENS entry that holds only its digest.
#   scripts/make-token.sh ACCOUNT [OWNER] [SCOPES]     SCOPES: comma list, default ingest,read,admin
# Prints two lines: the token (give it to the client, it is not stored anywhere) and the
# JSON entry for TRAILSIFT_TOKENS.
set -euo pipefail
account="${1:?usage: scripts/make-token.sh ACCOUNT [OWNER] [SCOPES]}"
owner="${2:-$account}"
scopes="${3:-ingest,read,admin}"
token="ts_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
digest="$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)"
scopes_json="$(printf '%s' "$scopes" | awk -F, '{for (i = 1; i <= NF; i++) printf "%s\"%s\"", (i > 1 ? "," : ""), $i}')"
echo "$token"
printf '{"sha256":"%s","account":"%s","scopes":[%s],"owner":"%s"}\n' "$digest" "$account" "$scopes_json" "$owner"
