#!/usr/bin/env python3
"""Writes deterministic sample audit events as NDJSON until SIZE bytes (benchmarks only).

usage: gen-events.py SIZE_BYTES > events.ndjson
"""
import json
import random
import sys

size = int(sys.argv[1])
rnd = random.Random(7)
modules = ["CORE", "PMS", "CD", "CI", "CCM", "STO", "CF", "GITOPS"]
types = ["SECRET", "PIPELINE", "USER", "SERVICE", "CONNECTOR", "ROLE", "TOKEN", "ENVIRONMENT"]
actions = ["CREATE", "UPDATE", "DELETE", "LOGIN", "START", "END", "INVITE", "RESTORE"]
ptypes = ["USER", "SERVICE_ACCOUNT", "API_KEY", "SYSTEM"]
methods = ["GET", "POST", "PUT", "DELETE"]
out = sys.stdout
written = 0
i = 0
t = 1763719530123
buf = []
while written < size:
    i += 1
    t += rnd.randint(1, 5000)
    user = "user%d" % rnd.randint(1, 500)
    ev = {
        "auditEventId": "%024x" % rnd.getrandbits(96),
        "auditEventAuthor": {"principal": {"type": rnd.choice(ptypes), "identifier": user,
                                           "email": user + "@example.com"}},
        "auditModule": rnd.choice(modules),
        "auditResource": {"type": rnd.choice(types), "identifier": "res_%d" % rnd.randint(1, 10000)},
        "auditResourceScope": {"accountIdentifier": "acct%d" % rnd.randint(1, 20),
                               "orgIdentifier": "org%d" % rnd.randint(1, 50),
                               "projectIdentifier": "proj%d" % rnd.randint(1, 200)},
        "auditAction": rnd.choice(actions),
        "auditHttpRequestInfo": {"requestMethod": rnd.choice(methods),
                                 "clientIP": "10.%d.%d.%d" % (rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(1, 254))},
        "auditEventTime": t,
        "auditEventMetadata": {"batchId": "batch-%d" % (i // 100)},
    }
    line = json.dumps(ev, separators=(",", ":")) + "\n"
    buf.append(line)
    written += len(line)
    if len(buf) >= 10000:
        out.write("".join(buf))
        buf = []
out.write("".join(buf))
