"""Reads every object of an S3 bucket under a prefix with boto3 (a real S3 client) and
prints [{"key", "gzip", "events"}] as JSON. Used by the destination tests against s3s-fs.

usage: s3_read.py ENDPOINT ACCESS_KEY SECRET_KEY BUCKET PREFIX
"""
import gzip
import json
import sys

import boto3
from botocore.config import Config

endpoint, access_key, secret_key, bucket, prefix = sys.argv[1:6]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=access_key,
    aws_secret_access_key=secret_key,
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
)
out = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
    for item in page.get("Contents", []):
        key = item["Key"]
        raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        compressed = key.endswith(".gz")
        text = (gzip.decompress(raw) if compressed else raw).decode("utf-8")
        name = key[:-3] if compressed else key
        if name.endswith(".json"):
            events = json.loads(text)
        else:
            events = [json.loads(line) for line in text.splitlines() if line.strip()]
        out.append({"key": key, "gzip": compressed, "events": events})
json.dump(out, sys.stdout)
