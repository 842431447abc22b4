#!/usr/bin/env python3
"""Drives an MCP server (normally `rampart mcp -- SERVER`) with the `mcp` Python SDK's own client.

    client.py MODE -- COMMAND...

MODE is the SDK's connect mode: `legacy` (the initialize handshake), `auto` (server/discover,
falling back), or a protocol version such as `2026-07-28`. The calls to make come from the CALLS
environment variable (a JSON list of [name, arguments]); APPROVE=yes|no is what the user answers
when asked (elicitation). Prints one JSON object: the tools listed, each call's result, and what
the user was asked.
"""

import json
import os
import sys

import anyio
import mcp.types as types
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters


async def main():
    mode = sys.argv[1]
    command = sys.argv[sys.argv.index("--") + 1:]
    calls = json.loads(os.environ.get("CALLS", "[]"))
    approve = os.environ.get("APPROVE", "yes") == "yes"
    asked = []

    async def elicit(context, params):
        asked.append(params.message)
        if approve:
            return types.ElicitResult(action="accept", content={"approve": True})
        return types.ElicitResult(action="decline")

    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    out = {}
    async with Client(server, mode=mode, elicitation_callback=elicit, read_timeout_seconds=60) as client:
        listed = await client.list_tools()
        out["tools"] = [t.name for t in listed.tools]
        results = []
        for name, arguments in calls:
            try:
                r = await client.call_tool(name, arguments)
                text = "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text")
                results.append({"isError": bool(r.is_error), "text": text})
            except Exception as e:  # a JSON-RPC error answer
                results.append({"exception": str(e)})
        out["results"] = results
    out["asked"] = asked
    print(json.dumps(out))


anyio.run(main)
