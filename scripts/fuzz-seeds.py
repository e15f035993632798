#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/seeds/<target>/) from the golden fixtures.

usage: scripts/fuzz-seeds.py   (from anywhere; rewrites the generated seeds in place)

Most targets read four choice bytes before their data (fuzz/checks/input.rs): the format
(low 3 bits: detect, json, ndjson, csv, splunk_hec, sumo; bits 3-4: a file name hint; top
bit: gzip the data), the limits, and two bytes that seed the chunking. Each fixture is
written with a few such heads. The `parse` seeds (the fuzzer's own finds) and the
`regress-*` seeds (inputs that found a bug) are kept.
"""
import glob
import json
import os
import re

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
fixtures = os.path.join(root, "tests", "fixtures")
seeds = os.path.join(root, "fuzz", "seeds")

DETECT, JSON, NDJSON, CSV, HEC, SUMO = range(6)
GZIP = 0x80


def write(target, name, data):
    d = os.path.join(seeds, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def head(fmt, limits=0, chunking=0x0305):
    return bytes([fmt, limits, chunking & 0xFF, chunking >> 8])


def fixture(path):
    with open(os.path.join(fixtures, path), "rb") as f:
        return f.read()


def header_values(key):
    """The values of `# key: ...` header lines of the filter cases."""
    out = []
    for path in sorted(glob.glob(os.path.join(fixtures, "filter", "*.txt"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith(f"# {key}: "):
                    out.append((os.path.basename(path)[:-4], line[len(key) + 4:].rstrip("\n")))
    return out


# Inputs the fuzzers found (`regress-*`, one per fixed bug) stay; the rest is rewritten.
for target in ["filter_structured", "filter_logpush", "read", "validate", "convert", "ingest", "verify", "time", "transform"]:
    for path in glob.glob(os.path.join(seeds, target, "*")):
        if not os.path.basename(path).startswith("regress-"):
            os.remove(path)

for name, text in header_values("structured"):
    write("filter_structured", name, text.encode())
for key in ["logpush", "export"]:
    for name, text in header_values(key):
        write("filter_logpush", f"{name}.{key}", text.encode())

# The readable fixtures and their formats.
data = [
    ("convert/input.ndjson", NDJSON),
    ("convert/output.json", JSON),
    ("convert/output.csv", CSV),
    ("convert/output.stream.csv", CSV),
    ("convert/output.splunk_hec", HEC),
    ("convert/output.sumo", SUMO),
    ("validate/invalid.json", JSON),
    ("validate/invalid.ndjson", NDJSON),
    ("validate/limits.ndjson.gz", NDJSON),
    ("validate/seed001.json", JSON),
    ("validate/seed001.ndjson", NDJSON),
    ("filter/events.ndjson", NDJSON),
]
for path, fmt in data:
    body = fixture(path)
    name = path.replace("/", "-")
    for target in ["read", "convert"]:
        write(target, f"{name}.detect", head(DETECT) + body)
        # Named, small limits (record 300 bytes, depth 5), chunks of up to 9 bytes.
        write(target, f"{name}.small", head(fmt, 0b0100_0110, 0x0407) + body)
        write(target, f"{name}.gzip", head(fmt | GZIP, 0, 0x4011) + body)
    # Validation: all checks on (strict, vocabulary, account `acct`), then small limits.
    write("validate", f"{name}.all", head(DETECT, 0b0000_0111) + body)
    write("validate", f"{name}.small", head(fmt | GZIP, 0b1110_1010, 0x0203) + body)
    if fmt in (JSON, NDJSON):
        is_ndjson = 1 if fmt == NDJSON else 0
        write("ingest", f"{name}.ingest", head(is_ndjson) + body)
        # Body 1000 bytes, 3 events, events of 300 bytes.
        write("ingest", f"{name}.limits", head(is_ndjson | GZIP, 0b0010_1010) + body)

# Times: every form the fixtures use, the forms parse_time_arg adds, and the edges.
times = {v for _, v in header_values("now")}
for _, q in header_values("query"):
    times.update(re.findall(r"\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)|\d{4}-\d\d-\d\d|now[+-]?\d*[smhdwSMHDW]?|\b\d{13}\b", q))
times.update(["1763719530123", " 1763719530123 ", "1.76371953E12", "0", "253402300799999",
              "253402300800000", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z",
              "2026-02-29", "2024-02-29", "now", "NOW-1W", "now+999999999999d",
              "2026-11-21T12:15:30.123456789+14:00", "2026-11-21t12:15:30z", "-1"])
for i, t in enumerate(sorted(times)):
    write("time", f"time-{i:02}", bytes([i % 6, i * 37 % 256, i * 11 % 256, 0]) + t.encode())

# Verify: the first byte picks the mode (0 arbitrary bytes; 1 a mutated inline bundle,
# 2 a mutated sidecar bundle, 3 a mutated object file, 4 a mutated proof or checkpoint);
# mutations are (position with the operation in its top 2 bits, byte) triples.
write("verify", "bytes-bundle-shape", b"\x00" + b'{"checkpoint":"trailsift.local/acme\\n8\\nAAAA\\n\\n\\u2014 trailsift.local AAAA\\n","entries":[{"seq":2,"proof":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],"event":{"auditEventId":"x"}}]}')
write("verify", "bytes-proof-shape", b"\x00" + b'{"first":5,"second":8,"proof":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]}')
write("verify", "inline-unchanged", b"\x01")
write("verify", "inline-replace-seq", b"\x01" + bytes([0x00, 0x40, ord("3"), 0x00, 0x90, ord("7")]))
write("verify", "inline-insert-delete", b"\x01" + bytes([0x41, 0x20, ord(" "), 0x81, 0x50, 0]))
write("verify", "sidecar-flip", b"\x02" + bytes([0xC0, 0x30, 0x01, 0xC0, 0x70, 0x20]))
write("verify", "object-flip", b"\x03" + bytes([0xC0, 0x10, 0x01]))
write("verify", "object-delete", b"\x03" + bytes([0x80, 0x05, 0, 0x80, 0x05, 0]))
write("verify", "proof-replace", b"\x04" + bytes([0x00, 0x20, ord("A")]))
write("verify", "checkpoint-flip", b"\x04" + bytes([0xC0, 0x0A, 0x04]))

# Transforms: each case's transform on one line, then its input (the shared one by default).
shared = fixture("transform/input.ndjson")
for case in sorted(glob.glob(os.path.join(fixtures, "transform", "*", "transform.json"))):
    folder = os.path.dirname(case)
    with open(case, "rb") as f:
        text = f.read()
    try:
        text = json.dumps(json.loads(text), separators=(",", ":")).encode()
    except ValueError:
        text = text.replace(b"\n", b" ")
    own = os.path.join(folder, "input.ndjson")
    body = open(own, "rb").read() if os.path.exists(own) else shared
    write("transform", os.path.basename(folder), head(0) + text + b"\n" + body)
