#!/usr/bin/env python3
"""Filter benchmark driver: trailsift beside DuckDB and jq on the same NDJSON file.

Usage: bench/filter-peers.py DATA TRAILSIFT [--rounds N] [--threads 1,2] [--no-jq] [--json]

Prints Markdown tables (for BENCHMARKS.md, section "Filter"). Each query is run in
rounds; within a round every contender runs once, in turn (interleaved), so that the
shared machine's load falls on all of them alike; the tables give medians.

- trailsift: `trailsift filter --threads N -q QUERY DATA`, the matching lines written to
  /dev/null (the whole process: start, file read, filter, output).
- DuckDB: `SELECT count(*) FROM read_ndjson(DATA) WHERE ...` in one connection with
  `SET threads=N`, timed around the query alone (no interpreter start). Counting lets
  DuckDB read only the columns the condition needs, its cheapest form of the query.
- jq: `jq -c 'select(...)'`, once per query (it is 20-50x slower); its output is read
  through a pipe and its lines counted (the check against trailsift's count).

--json prints one JSON object per query instead of the tables (for bench/table.mjs).

Times are wall clock (what a user waits for, and what threads shorten) and CPU (user +
system of every thread of the process).
"""
import json
import os
import statistics
import subprocess
import sys
import time

# The broad queries of issue 18, then the held-out set chosen before any tuning (of the
# same kind: common fields, any-of lists, negations, a glob, a time bound), then the
# selective queries of earlier rounds. Each: (trailsift query, DuckDB WHERE, jq predicate).
# DuckDB and jq spell the same semantics: qualifiers fold case, `==`/`in`/presets do not,
# a missing field makes a comparison false and its negation true.
LOGIN = "('LOGIN','LOGIN2FA','UNSUCCESSFUL_LOGIN')"
JQ_LOGIN = '(.auditAction | IN("LOGIN","LOGIN2FA","UNSUCCESSFUL_LOGIN"))'
QUERIES = {
    "broad": [
        (
            "action:CREATE,UPDATE,DELETE -is:system",
            "lower(auditAction) IN ('create','update','delete') AND "
            "auditEventAuthor.principal.type IS DISTINCT FROM 'SYSTEM'",
            '(.auditAction | ascii_downcase | IN("create","update","delete")) and '
            '.auditEventAuthor.principal.type != "SYSTEM"',
        ),
        (
            '(module:CD or resource.type:PIPELINE) and email ends_with "@example.com"',
            "(lower(auditModule) = 'cd' OR lower(auditResource.type) = 'pipeline') AND "
            "ends_with(auditEventAuthor.principal.email, '@example.com')",
            '((.auditModule | ascii_downcase) == "cd" or (.auditResource.type | ascii_downcase) == "pipeline") and '
            '(.auditEventAuthor.principal.email | type == "string" and endswith("@example.com"))',
        ),
        (
            "-is:login",
            f"coalesce(auditAction IN {LOGIN}, false) = false",
            f"{JQ_LOGIN} | not",
        ),
    ],
    "held-out": [
        (
            "-is:system",
            "auditEventAuthor.principal.type IS DISTINCT FROM 'SYSTEM'",
            '.auditEventAuthor.principal.type != "SYSTEM"',
        ),
        (
            "user:*@example.com",
            "lower(auditEventAuthor.principal.identifier) LIKE '%@example.com' OR "
            "lower(auditEventAuthor.principal.email) LIKE '%@example.com'",
            "[.auditEventAuthor.principal.identifier, .auditEventAuthor.principal.email] | "
            'any(type == "string" and (ascii_downcase | endswith("@example.com")))',
        ),
        (
            "resource.type:SECRET,CONNECTOR,SERVICE or module:CORE,CI",
            "lower(auditResource.type) IN ('secret','connector','service') OR "
            "lower(auditModule) IN ('core','ci')",
            '(.auditResource.type | ascii_downcase | IN("secret","connector","service")) or '
            '(.auditModule | ascii_downcase | IN("core","ci"))',
        ),
        (
            "method:POST,PUT -is:login",
            f"lower(auditHttpRequestInfo.requestMethod) IN ('post','put') AND "
            f"coalesce(auditAction IN {LOGIN}, false) = false",
            f'(.auditHttpRequestInfo.requestMethod | ascii_downcase | IN("post","put")) and ({JQ_LOGIN} | not)',
        ),
        (
            'time >= 2026-01-02 and action != "LOGIN"',
            "CAST(auditEventTime AS BIGINT) >= 1767312000000 AND auditAction != 'LOGIN'",
            '(.auditEventTime | tonumber) >= 1767312000000 and .auditAction != "LOGIN"',
        ),
    ],
    "selective": [
        (
            'action == "DELETE"',
            "auditAction = 'DELETE'",
            '.auditAction == "DELETE"',
        ),
        (
            'principal.type == "USER"',
            "auditEventAuthor.principal.type = 'USER'",
            '.auditEventAuthor.principal.type == "USER"',
        ),
    ],
}


def run_process(argv, count=False):
    """(wall s, cpu s, lines written) of a child process; its output is discarded, or read
    and its lines counted when `count` (jq's single run both times and checks it)."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE if count else subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = 0
    if count:
        for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
            lines += chunk.count(b"\n")
        p.stdout.close()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode()
    p.stderr.close()
    if p.returncode != 0:
        sys.exit(f"{argv}: exit {p.returncode}: {err}")
    return wall, usage.ru_utime + usage.ru_stime, lines


def count_lines(argv):
    out = subprocess.run(argv, check=True, capture_output=True).stdout
    return out.count(b"\n")


def measure(data, ts, rounds, threads, jq):
    """Yields, query by query, (group, query, matches, {(tool, threads): (wall, cpu)}):
    medians of `rounds` interleaved rounds; tool is "ts", "duck" or "jq" (jq: one run,
    threads 1). Exits when a peer's count differs from trailsift's."""
    import duckdb

    cons = {}
    for n in threads:
        con = duckdb.connect()
        con.execute(f"SET threads={n}")
        cons[n] = con

    def duck(n, where):
        c0, t0 = time.process_time(), time.perf_counter()
        got = cons[n].execute(f"SELECT count(*) FROM read_ndjson('{data}') WHERE {where}").fetchone()[0]
        return time.perf_counter() - t0, time.process_time() - c0, got

    def ts_argv(n, q):
        return [ts, "filter", "--threads", str(n), "-q", q, data]

    for group, queries in QUERIES.items():
        for q, where, jqp in queries:
            matches = count_lines(ts_argv(1, q))
            samples = {}
            for _ in range(rounds):
                for n in threads:
                    w, c, _ = run_process(ts_argv(n, q))
                    samples.setdefault(("ts", n), []).append((w, c))
                    w, c, got = duck(n, where)
                    if got != matches:
                        sys.exit(f"DuckDB counts {got} for {q!r}, trailsift {matches}")
                    samples.setdefault(("duck", n), []).append((w, c))
            med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
                   for k, v in samples.items()}
            if jq:
                w, c, n_jq = run_process(["jq", "-c", f"select({jqp})", data], count=True)
                if n_jq != matches:
                    sys.exit(f"jq counts {n_jq} for {q!r}, trailsift {matches}")
                med[("jq", 1)] = (w, c)
            yield group, q, matches, med


def main():
    args = sys.argv[1:]
    data, ts = args[0], args[1]
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 5
    threads = [int(t) for t in (args[args.index("--threads") + 1] if "--threads" in args else "1,2").split(",")]
    jq = "--no-jq" not in args
    results = measure(data, ts, rounds, threads, jq)
    if "--json" in args:
        # One JSON object a line, per query: {group, query, matches, ts|duck|jq: {threads:
        # {wall, cpu}}}, seconds (bench/table.mjs reads these).
        for group, q, matches, med in results:
            row = {"group": group, "query": q, "matches": matches}
            for (tool, n), (w, c) in med.items():
                row.setdefault(tool, {})[str(n)] = {"wall": w, "cpu": c}
            print(json.dumps(row), flush=True)
        return

    size = os.path.getsize(data)
    mb = size / 1e6
    print(f"Data: `{data}`, {size} bytes, {sum(1 for _ in open(data, 'rb'))} events. "
          f"Medians of {rounds} interleaved rounds; MB/s = input MB / wall seconds; "
          f"CPU = user + system seconds of every thread.")
    cols = ["query", "matches"]
    cols += [f"trailsift {n}T" for n in threads]
    cols += [f"DuckDB {n}T" for n in threads]
    if jq:
        cols.append("jq")
    cols += [f"× DuckDB {n}T" for n in threads]
    cell = lambda w, c: f"{mb / w:,.0f} MB/s ({w:.3f} s, CPU {c:.2f} s)"
    last = None
    for group, q, matches, med in results:
        if group != last:
            print()
            print(f"#### {group}")
            print()
            print("| " + " | ".join(cols) + " |")
            print("|" + "---|" * len(cols))
            last = group
        row = [f"`{q}`", f"{matches:,}"]
        row += [cell(*med[("ts", n)]) for n in threads]
        row += [cell(*med[("duck", n)]) for n in threads]
        if jq:
            row.append(cell(*med[("jq", 1)]))
        row += [f"{med[('duck', n)][0] / med[('ts', n)][0]:.1f}×" for n in threads]
        print("| " + " | ".join(row) + " |", flush=True)


main()
