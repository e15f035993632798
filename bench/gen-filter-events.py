#!/usr/bin/env python3
"""Writes deterministic audit events as NDJSON for the filter benchmark.

Usage: bench/gen-filter-events.py MEGABYTES > events.ndjson

Selectivities are fixed so the benchmark queries are comparable across runs:
auditAction == "DELETE" holds for ~1% of events, principal type "USER" for ~50%.
"""
import json
import random
import sys

target = int(float(sys.argv[1] if len(sys.argv) > 1 else "100") * 1_000_000)
rng = random.Random(7)
modules = ["CORE", "CD", "CI", "PMS", "STO", "CF"]
types = ["SECRET", "CONNECTOR", "PIPELINE", "SERVICE", "USER", "CODE_REPO", "ENVIRONMENT"]
actions = ["CREATE", "UPDATE", "LOGIN", "RESTORE", "UPSERT", "INVITE"]
principal_others = ["SYSTEM", "SERVICE_ACCOUNT", "API_KEY"]
out = sys.stdout
written = 0
i = 0
t0 = 1_767_225_600_000
while written < target:
    i += 1
    user = rng.random() < 0.5
    ptype = "USER" if user else rng.choice(principal_others)
    ident = f"user{rng.randrange(500)}" if user else f"svc-{rng.randrange(50)}"
    action = "DELETE" if rng.random() < 0.01 else rng.choice(actions)
    ev = {
        "auditEventId": f"ev-{i:09d}",
        "auditEventTime": str(t0 + i * 997),
        "auditEventAuthor": {"principal": {"type": ptype, "identifier": ident,
                                           **({"email": f"{ident}@example.com"} if user else {})}},
        "auditModule": rng.choice(modules),
        "auditResource": {"type": rng.choice(types), "identifier": f"res-{rng.randrange(100000)}"},
        "auditResourceScope": {"accountIdentifier": f"acct-{rng.randrange(20)}",
                               "orgIdentifier": "default", "projectIdentifier": f"proj-{rng.randrange(40)}"},
        "auditAction": action,
        "auditHttpRequestInfo": {"requestMethod": rng.choice(["GET", "POST", "PUT", "DELETE"]),
                                 "clientIP": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"},
        "auditEventMetadata": {"batchId": f"b-{i // 100}", "attempt": rng.randrange(5)},
    }
    line = json.dumps(ev, separators=(",", ":")) + "\n"
    out.write(line)
    written += len(line)
