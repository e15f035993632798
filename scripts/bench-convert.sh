#!/usr/bin/env bash
# Conversion benchmark: NDJSON -> CSV and NDJSON -> JSON array over a generated 100 MB file,
# trailsift beside a Python json+csv baseline and jq in the same run, and trailsift's peak
# RSS for 100 MB and 1 GB inputs (/usr/bin/time). Prints a Markdown section; with --write
# it replaces section "## Conversion" of BENCHMARKS.md.
#   scripts/bench-convert.sh [--write] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."

write=0
quick=0
for arg in "$@"; do
  case "$arg" in
    --write) write=1 ;;
    --quick) quick=1 ;;
    *) echo "usage: $0 [--write] [--quick]" >&2; exit 2 ;;
  esac
done

BIN=target/native/trailsift
DIR=${BENCH_DIR:-target/bench-convert}
RUNS=${RUNS:-3}
mkdir -p "$DIR"
cargo build --quiet --profile native --features cli >&2

small=$DIR/events-100m.ndjson
large=$DIR/events-1g.ndjson
size=100000000
if [ ! -s "$small" ]; then
  # One block of sample events, repeated up to 100 MB (cut at a line end).
  if "$BIN" gen --count 100000 --seed 1 >"$DIR/block.ndjson" 2>/dev/null && [ -s "$DIR/block.ndjson" ]; then
    generator="trailsift gen --count 100000 --seed 1, repeated"
  else
    python3 scripts/gen-events.py 20000000 >"$DIR/block.ndjson"
    generator="scripts/gen-events.py, repeated"
  fi
  echo "$generator" >"$DIR/generator.txt"
  : >"$small"
  while [ "$(stat -c %s "$small")" -lt "$size" ]; do cat "$DIR/block.ndjson" >>"$small"; done
  head -c "$size" "$small" | sed '$d' >"$small.tmp" && mv "$small.tmp" "$small"
fi
if [ "$quick" = 0 ] && [ ! -s "$large" ]; then
  for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$small"; done >"$large"
fi
bytes=$(stat -c %s "$small")
events=$(wc -l <"$small")

# "WALL_SECONDS RSS_KB CPU_SECONDS" of the fastest of $RUNS runs (output to /dev/null)
best() {
  local best_t="" best_m="" best_c="" t m u s
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M %U %S" -o "$DIR/time.txt" "$@" >/dev/null 2>/dev/null || true
    read -r t m u s < <(tail -1 "$DIR/time.txt")
    if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN{exit !(a<b)}'; then
      best_t=$t; best_m=$m; best_c=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
    fi
  done
  echo "$best_t $best_m $best_c"
}

py_csv=$(cat <<'PY'
import csv, json, sys, datetime
cols = ["auditEventId","auditEventTime","auditEventAuthor.principal.type","auditEventAuthor.principal.identifier",
        "auditEventAuthor.principal.email","auditModule","auditResource.type","auditResource.identifier",
        "auditResourceScope.accountIdentifier","auditResourceScope.orgIdentifier","auditResourceScope.projectIdentifier",
        "auditAction","auditHttpRequestInfo.requestMethod","auditHttpRequestInfo.clientIP","auditEventMetadata"]
paths = [c.split(".") for c in cols]
w = csv.writer(sys.stdout)
w.writerow(cols)
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.strip():
        continue
    e = json.loads(line)
    row = []
    for c, p in zip(cols, paths):
        v = e
        for k in p:
            v = v.get(k) if isinstance(v, dict) else None
        if v is None:
            row.append("")
        elif c == "auditEventTime":
            t = datetime.datetime.fromtimestamp(int(v) / 1000, datetime.timezone.utc)
            row.append(t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (int(v) % 1000))
        elif c == "auditEventMetadata":
            row.append(json.dumps(v, separators=(",", ":")))
        else:
            row.append(v)
    w.writerow(row)
PY
)
py_json=$(cat <<'PY'
import json, sys
out = sys.stdout
out.write("[\n")
first = True
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.strip():
        continue
    if not first:
        out.write(",\n")
    first = False
    out.write(json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False))
out.write("\n]\n")
PY
)
jq_csv='[.auditEventId, .auditEventTime, .auditEventAuthor.principal.type, .auditEventAuthor.principal.identifier, .auditEventAuthor.principal.email, .auditModule, .auditResource.type, .auditResource.identifier, .auditResourceScope.accountIdentifier, .auditResourceScope.orgIdentifier, .auditResourceScope.projectIdentifier, .auditAction, .auditHttpRequestInfo.requestMethod, .auditHttpRequestInfo.clientIP, (.auditEventMetadata|tojson)] | @csv'

mbps() { awk -v b="$bytes" -v t="$1" 'BEGIN{ if (t > 0) printf "%.0f", b / 1e6 / t; else print "-" }'; }
row() { # name seconds rss cpu-seconds
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$(mbps "$2")" "$4" "$(mbps "$4")" "$(awk -v k="$3" 'BEGIN{printf "%.0f", k/1024}')"
}

echo "== trailsift" >&2
read -r ts_csv ts_csv_m ts_csv_c < <(best "$BIN" convert --from ndjson --to csv "$small" -)
read -r ts_json ts_json_m ts_json_c < <(best "$BIN" convert --from ndjson --to json "$small" -)
read -r ts_csv2 ts_csv2_m ts_csv2_c < <(best "$BIN" convert --threads 2 --from ndjson --to csv "$small" -)
echo "== python" >&2
read -r py_csv_t py_csv_m py_csv_c < <(best python3 -c "$py_csv" "$small")
read -r py_json_t py_json_m py_json_c < <(best python3 -c "$py_json" "$small")
if command -v jq >/dev/null; then
  echo "== jq" >&2
  read -r jq_csv_t jq_csv_m jq_csv_c < <(best jq -r "$jq_csv" "$small")
  read -r jq_json_t jq_json_m jq_json_c < <(best jq -c -n '[inputs]' "$small")
fi
if [ "$quick" = 0 ]; then
  echo "== 1 GB" >&2
  read -r big_csv big_csv_m big_csv_c < <(RUNS=1 best "$BIN" convert --from ndjson --to csv "$large" -)
  read -r big_json big_json_m big_json_c < <(RUNS=1 best "$BIN" convert --from ndjson --to json "$large" -)
fi

body=$(
  echo "Input: $(awk -v b="$bytes" 'BEGIN{printf "%.0f", b/1e6}') MB of NDJSON, $events events ($(cat "$DIR/generator.txt")). Fastest of $RUNS runs by wall clock, output to /dev/null; MB/s = input MB / seconds; CPU s = user + system time of that run (the figure to read when the machine is shared: wall time then includes waiting for a core); RSS = peak resident set (/usr/bin/time)."
  echo
  echo "Target: ≥ 300 MB/s for native NDJSON → CSV. The machine is shared (see the load average below), so wall-clock figures include waiting for a core; the CPU column is the better guide, and single runs vary by ±30 %."
  echo
  echo "| conversion | wall s | MB/s (wall) | CPU s (user+sys) | MB/s (CPU) | peak RSS MB |"
  echo "|---|---|---|---|---|---|"
  row "trailsift ndjson → csv" "$ts_csv" "$ts_csv_m" "$ts_csv_c"
  row "trailsift ndjson → csv, --threads 2" "$ts_csv2" "$ts_csv2_m" "$ts_csv2_c"
  row "Python json+csv ndjson → csv" "$py_csv_t" "$py_csv_m" "$py_csv_c"
  [ -n "${jq_csv_t:-}" ] && row "jq @csv ndjson → csv" "$jq_csv_t" "$jq_csv_m" "$jq_csv_c"
  row "trailsift ndjson → json array" "$ts_json" "$ts_json_m" "$ts_json_c"
  row "Python json ndjson → json array" "$py_json_t" "$py_json_m" "$py_json_c"
  [ -n "${jq_json_t:-}" ] && row "jq -n '[inputs]' ndjson → json array" "$jq_json_t" "$jq_json_m" "$jq_json_c"
  if [ "$quick" = 0 ]; then
    echo
    echo "Streaming memory: trailsift on the 1 GB input (the 100 MB file ten times), one run:"
    echo
    echo "| conversion | input | seconds | peak RSS MB |"
    echo "|---|---|---|---|"
    printf '| ndjson → csv | 100 MB | %s | %s |\n' "$ts_csv" "$(awk -v k="$ts_csv_m" 'BEGIN{printf "%.0f", k/1024}')"
    printf '| ndjson → csv | 1 GB | %s | %s |\n' "$big_csv" "$(awk -v k="$big_csv_m" 'BEGIN{printf "%.0f", k/1024}')"
    printf '| ndjson → json array | 100 MB | %s | %s |\n' "$ts_json" "$(awk -v k="$ts_json_m" 'BEGIN{printf "%.0f", k/1024}')"
    printf '| ndjson → json array | 1 GB | %s | %s |\n' "$big_json" "$(awk -v k="$big_json_m" 'BEGIN{printf "%.0f", k/1024}')"
  fi
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- toolchain: $(rustc --version); $(python3 --version 2>&1); $(jq --version 2>/dev/null || echo 'no jq')"
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); command: \`scripts/bench-convert.sh\`"
)

echo "$body"
if [ "$write" = 1 ]; then
  out=BENCHMARKS.md
  [ -f "$out" ] || printf '# Benchmarks\n' >"$out"
  SECTION="## Conversion

$body" awk '
    BEGIN { section = ENVIRON["SECTION"] }
    $0 == "## Conversion" { print section; print ""; skip = 1; done = 1; next }
    skip && /^## / { skip = 0 }
    !skip { print }
    END { if (!done) { print ""; print section } }
  ' "$out" | cat -s >"$out.tmp"
  mv "$out.tmp" "$out"
fi
