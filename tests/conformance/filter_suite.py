#!/usr/bin/env python3
"""Writes the Shopify suite minus the cases listed in liquid-skip.json (with reasons)."""
import json, sys
suite, skip, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(suite, encoding="utf-8") as f:
    data = json.load(f)
with open(skip, encoding="utf-8") as f:
    skips = {s["name"]: s["reason"] for s in json.load(f)["skip"]}
kept = [c for c in data["tests"] if c["name"] not in skips]
for name, reason in skips.items():
    print("skipped (cannot be expressed in JSON): %s — %s" % (name, reason))
data["tests"] = kept
with open(out, "w", encoding="utf-8") as f:
    json.dump(data, f)
