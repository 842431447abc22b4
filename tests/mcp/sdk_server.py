#!/usr/bin/env python3
"""An MCP server built with the `mcp` Python SDK (MCPServer), speaking whatever era its client does.

Tools: `lookup` (harmless), `update_setting` (a name rampart asks about), `drop_table` (a name
rampart denies), `show_config` (returns a fake access key, for response scanning). Nothing is
touched; every tool only answers with text. Each call it receives is appended to --log.
"""

import sys

from mcp.server.mcpserver import MCPServer

LOG = sys.argv[sys.argv.index("--log") + 1] if "--log" in sys.argv else None
server = MCPServer("rampart-sdk-test-server")


def note(what):
    if LOG:
        with open(LOG, "a") as f:
            f.write(what + "\n")


@server.tool()
def lookup(key: str) -> str:
    """Looks a key up."""
    note("lookup " + key)
    return "value of " + key


@server.tool()
def update_setting(name: str, value: str) -> str:
    """Changes a setting (pretends to)."""
    note("update_setting " + name)
    return "updated " + name


@server.tool()
def drop_table(table: str) -> str:
    """Drops a table (pretends to)."""
    note("drop_table " + table)
    return "dropped " + table


@server.tool()
def show_config() -> str:
    """Shows a configuration with a fake key in it."""
    note("show_config")
    return "aws_key = AKIA" + "QWERTYUIOPASDFGH"


if __name__ == "__main__":
    server.run()
