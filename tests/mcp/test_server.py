#!/usr/bin/env python3
"""A small MCP server over stdio, standard library only, for rampart's proxy tests.

It speaks both protocol eras: the handshake era (`initialize`, 2025-06-18 and 2025-11-25) and
2026-07-28 (`server/discover`, `_meta` on every request, `resultType` on every result). It logs
every line it receives, byte for byte, to `--log` (so a test can prove a denied call never
arrived), and exercises what a proxy must carry: notifications, progress, logging, large
results, slow calls, cancellation, bursts of messages written at once, stderr and exit codes.

Tools never touch anything: `run_command` only echoes the command it was given.
"""

import argparse
import json
import sys
import threading
import time

MODERN = "2026-07-28"
HANDSHAKE_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

out_lock = threading.Lock()
log_lock = threading.Lock()
cancelled = set()
args = None


def write(message):
    data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
    with out_lock:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def write_many(messages):
    """Several messages in one write(2): the reader gets them in one chunk."""
    data = b"".join((json.dumps(m, separators=(",", ":")) + "\n").encode() for m in messages)
    with out_lock:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def log(line):
    if args.log:
        with log_lock, open(args.log, "ab") as f:
            f.write(line)


def description_of_echo():
    if args.description_file:
        try:
            with open(args.description_file) as f:
                return f.read().strip()
        except FileNotFoundError:
            pass
    return "Echoes its text."


def tools():
    obj = {"type": "object"}
    return [
        {"name": "echo", "description": description_of_echo(),
         "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}},
        {"name": "read_file", "description": "Pretends to read a file.",
         "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}}},
        {"name": "run_command", "description": "Echoes a command; runs nothing.",
         "inputSchema": {"type": "object", "properties": {"command": {"type": "string"}}}},
        {"name": "delete_everything", "description": "Would delete everything.", "inputSchema": obj},
        {"name": "update_record", "description": "Would modify a record.", "inputSchema": obj},
        {"name": "leak", "description": "Returns a fake access key.", "inputSchema": obj},
        {"name": "big", "description": "Returns MiB of text.",
         "inputSchema": {"type": "object", "properties": {"mib": {"type": "number"}}}},
        {"name": "slow", "description": "Sleeps, reporting progress.",
         "inputSchema": {"type": "object", "properties": {"seconds": {"type": "number"}}}},
        {"name": "burst", "description": "Writes many notifications and its result at once.",
         "inputSchema": {"type": "object", "properties": {"count": {"type": "integer"}}}},
    ]


def result(req, value, modern):
    if modern:
        value = dict(value)
        value.setdefault("resultType", "complete")
    write({"jsonrpc": "2.0", "id": req["id"], "result": value})


def text(t, error=False):
    return {"content": [{"type": "text", "text": t}], "isError": error}


def call_tool(req, modern):
    params = req.get("params") or {}
    name = params.get("name")
    a = params.get("arguments") or {}
    token = (params.get("_meta") or {}).get("progressToken")
    if name == "echo":
        return result(req, text(a.get("text", "")), modern)
    if name == "read_file":
        return result(req, text("contents of " + str(a.get("path"))), modern)
    if name == "run_command":
        return result(req, text("ran (not really): " + str(a.get("command"))), modern)
    if name in ("delete_everything", "update_record"):
        return result(req, text(name + " done"), modern)
    if name == "leak":
        return result(req, text("here: AKIA" + "ABCDEFGHIJKLMNOP"), modern)
    if name == "big":
        size = int(float(a.get("mib", 1)) * (1 << 20))
        return result(req, text("x" * size), modern)
    if name == "slow":
        seconds = float(a.get("seconds", 1))
        steps = 10
        for i in range(steps):
            if req["id"] in cancelled:
                return  # cancelled: no response at all
            if token is not None:
                write({"jsonrpc": "2.0", "method": "notifications/progress",
                       "params": {"progressToken": token, "progress": i, "total": steps}})
            time.sleep(seconds / steps)
        if req["id"] in cancelled:
            return
        return result(req, text("slept %s" % seconds), modern)
    if name == "burst":
        count = int(a.get("count", 100))
        msgs = [{"jsonrpc": "2.0", "method": "notifications/message",
                 "params": {"level": "info", "data": "burst %d" % i}} for i in range(count)]
        final = {"content": [{"type": "text", "text": "burst of %d" % count}], "isError": False}
        if modern:
            final["resultType"] = "complete"
        msgs.append({"jsonrpc": "2.0", "id": req["id"], "result": final})
        return write_many(msgs)
    write({"jsonrpc": "2.0", "id": req["id"],
           "error": {"code": -32602, "message": "unknown tool " + str(name)}})


def handle(req):
    method = req.get("method")
    params = req.get("params") or {}
    meta = params.get("_meta") or {}
    modern = meta.get("io.modelcontextprotocol/protocolVersion") == MODERN
    if "id" not in req:
        if method == "notifications/cancelled":
            cancelled.add(params.get("requestId"))
        return
    if method == "initialize":
        asked = params.get("protocolVersion")
        version = asked if asked in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[0]
        return write({"jsonrpc": "2.0", "id": req["id"], "result": {
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": True}, "logging": {}},
            "serverInfo": {"name": "rampart-test-server", "version": "1.0"}}})
    if method == "server/discover":
        return write({"jsonrpc": "2.0", "id": req["id"], "result": {
            "supportedVersions": [MODERN] + HANDSHAKE_VERSIONS[:2],
            "capabilities": {"tools": {"listChanged": True}, "logging": {}},
            "ttlMs": 0, "cacheScope": "private", "resultType": "complete",
            "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "rampart-test-server", "version": "1.0"}}}})
    if method == "ping":
        return result(req, {}, modern)
    if method == "tools/list":
        value = {"tools": tools()}
        if modern:
            value.update({"ttlMs": 0, "cacheScope": "private"})
        return result(req, value, modern)
    if method == "tools/call":
        threading.Thread(target=call_tool, args=(req, modern), daemon=True).start()
        return
    if method == "logging/setLevel":
        return result(req, {}, modern)
    write({"jsonrpc": "2.0", "id": req["id"],
           "error": {"code": -32601, "message": "method not found: " + str(method)}})


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--log")
    parser.add_argument("--description-file")
    parser.add_argument("--exit-code", type=int, default=0)
    args = parser.parse_args()
    sys.stderr.write("rampart-test-server: started\n")
    sys.stderr.flush()
    for line in sys.stdin.buffer:
        log(line)
        try:
            req = json.loads(line)
        except ValueError:
            write({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
            continue
        if isinstance(req, list):
            write({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batch"}})
            continue
        if "method" in req:
            handle(req)
    sys.stderr.write("rampart-test-server: stdin closed\n")
    sys.stderr.flush()
    # Let slow calls' threads finish writing.
    time.sleep(0.05)
    sys.exit(args.exit_code)


if __name__ == "__main__":
    main()
