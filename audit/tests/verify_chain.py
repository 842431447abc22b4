#!/usr/bin/env python3
"""An independent implementation of upstream's chain rule (reference §5.2, §5.4), for the tests.

For every log file in (date, part) order: a continuation header must come first and name the
previous file and the last hash; every other line must be a JSON object whose hash is
"sha256:" + hex(sha256(prev_hash + the line with its hash value emptied)) and whose prev_hash is
the previous event's hash ("" for the first). Prints "ok <events> <files>" or the first problem
and exits 1. It shares no code with the Rust implementation.
"""
import hashlib
import json
import os
import re
import sys

NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.p([1-9]\d*))?\.jsonl$")

def main(directory):
    files = []
    for name in os.listdir(directory):
        m = NAME.match(name)
        if m:
            files.append((m.group(1), int(m.group(2) or 0), name))
    files.sort()
    prev_hash, last_file, count, ids = "", None, 0, set()
    for _, _, name in files:
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            return fail(name, 0, "torn last line")
        for number, raw in enumerate(data.split(b"\n")[:-1], 1):
            obj = json.loads(raw)
            if "chain_continue" in obj:
                if number != 1 or set(obj) != {"chain_continue", "prev_file"}:
                    return fail(name, number, "misplaced or malformed header")
                if obj["chain_continue"] != prev_hash or obj["prev_file"] != last_file:
                    return fail(name, number, "header does not continue the chain")
                continue
            text = raw.decode("utf-8")
            cut = text.rindex('"hash":"') + len('"hash":"')
            stored = text[cut:-2]
            if text[-2:] != '"}' or stored != obj["hash"]:
                return fail(name, number, "hash is not the last field")
            blanked = text[:cut] + '"}'
            want = "sha256:" + hashlib.sha256((obj["prev_hash"] + blanked).encode("utf-8")).hexdigest()
            if want != stored:
                return fail(name, number, "hash mismatch")
            if obj["prev_hash"] != prev_hash:
                return fail(name, number, "broken link")
            if obj["id"] in ids:
                return fail(name, number, "duplicate id")
            ids.add(obj["id"])
            prev_hash, last_file, count = stored, name, count + 1
    print("ok %d %d" % (count, len(files)))
    return 0

def fail(name, number, what):
    print("broken %s:%d: %s" % (name, number, what))
    return 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
