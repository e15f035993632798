#!/usr/bin/env bash
# Runs the benchmarks and writes their figures into BENCHMARKS.md, one section each.
# `make bench` calls this; add a section with `bench_section "Title" command...`.
set -euo pipefail
cd "$(dirname "$0")/.."

out=BENCHMARKS.md
[ -f "$out" ] || printf '# Benchmarks\n\nFigures written by `make bench` (scripts/bench.sh).\n' > "$out"

machine() {
    local cpu
    cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
    echo "- machine: ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') cores, $(uname -srm)"
    echo "- load average before the run (other jobs share the cores): ${LOAD_BEFORE:-?}"
    echo "- toolchain: $(rustc --version)"
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
}

# bench_section TITLE COMMAND...: runs COMMAND and replaces section "## TITLE" of
# BENCHMARKS.md with its stdout, the machine and the command.
bench_section() {
    local title=$1
    shift
    local body
    echo "== $title: $*" >&2
    LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
    body=$("$@")
    local section
    section=$(
        printf '## %s\n\n' "$title"
        printf '%s\n\n' "$body"
        machine
        printf -- '- command: `%s`\n' "$*"
    )
    SECTION="$section" awk -v title="## $title" '
        BEGIN { section = ENVIRON["SECTION"] }
        $0 == title { print section; print ""; skip = 1; done = 1; next }
        skip && /^## / { skip = 0 }
        !skip { print }
        END { if (!done) { print ""; print section } }
    ' "$out" > "$out.tmp"
    # Squeeze runs of blank lines left by replaced sections.
    cat -s "$out.tmp" > "$out"
    rm -f "$out.tmp"
}

bench_section "Validation" cargo bench --quiet --bench validate
bench_section "Filter" scripts/bench-filter.sh
bench_section "Conversion" scripts/bench-convert.sh
bench_section "Verifiable log" cargo bench --quiet --bench log
bench_section "Transform" cargo bench --quiet --bench transform
