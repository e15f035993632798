#!/usr/bin/env python3
"""`trailsift convert` and `trailsift validate` on one thread and on several, against another
build (the one before the parallel path), in interleaved rounds.

    bench/threads.py FILE NEW_BIN [--before OLD_BIN] [--rounds 5] [--threads 1,2]

Each command writes to /dev/null; wall and CPU (user + system, every thread) seconds come
from os.wait4. Prints a Markdown table of medians: MB/s by wall time, MB per CPU-second,
and the load average before and after the run.
"""

import argparse
import os
import statistics
import subprocess
import time

COMMANDS = [
    ("convert --to csv", ["convert", "--from", "ndjson", "--to", "csv"]),
    ("convert --to json", ["convert", "--from", "ndjson", "--to", "json"]),
    ("convert --to ndjson", ["convert", "--from", "ndjson", "--to", "ndjson"]),
    ("convert --to splunk_hec", ["convert", "--from", "ndjson", "--to", "splunk_hec"]),
    ("validate", ["validate"]),
    ("validate --json --strict --vocabulary", ["validate", "--json", "--strict", "--vocabulary"]),
]


def run(argv):
    """(wall seconds, CPU seconds) of one run, output to /dev/null."""
    with open(os.devnull, "wb") as null:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)}: exit {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("new")
    ap.add_argument("--before")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()
    mb = os.path.getsize(args.file) / 1e6
    builds = []
    if args.before:
        builds.append(("before", args.before, None))
    for n in args.threads.split(","):
        builds.append((f"{n} thread{'s' if n != '1' else ''}", args.new, n))
    times = {}
    load0 = os.getloadavg()
    for _ in range(args.rounds):
        for label, argv in COMMANDS:
            for name, binary, threads in builds:
                cmd = [binary, *argv]
                if threads:
                    cmd += ["--threads", threads]
                cmd.append(args.file)
                if argv[0] == "convert":
                    cmd.append("-")
                times.setdefault((label, name), []).append(run(cmd))
    load1 = os.getloadavg()
    names = [b[0] for b in builds]
    print(f"{args.file}: {mb:.0f} MB; medians of {args.rounds} interleaved rounds; "
          f"load average {load0[0]:.1f} before, {load1[0]:.1f} after\n")
    print("| command | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, _ in COMMANDS:
        cells = []
        for name in names:
            runs = times[(label, name)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            cells.append(f"{mb / wall:,.0f} MB/s, {mb / cpu:,.0f} MB/CPU-s ({wall:.2f} s, CPU {cpu:.2f} s)")
        print(f"| `{label}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
