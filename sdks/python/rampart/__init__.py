"""rampart: a typed client of rampart's policy server (``rampart serve``).

>>> client = RampartClient()                      # RAMPART_URL / RAMPART_TOKEN or ~/.rampart/token
>>> client.preflight("exec", {"command": "git status"}).allowed
>>> @client.guard("exec", lambda cmd: {"command": cmd})
... def run(cmd): ...
"""

from .client import (
    DEFAULT_URL,
    Approval,
    ApprovalRequired,
    AuthError,
    Decision,
    Health,
    PolicyDenied,
    RampartClient,
    RampartError,
)

__all__ = [
    "DEFAULT_URL",
    "Approval",
    "ApprovalRequired",
    "AuthError",
    "Decision",
    "Health",
    "PolicyDenied",
    "RampartClient",
    "RampartError",
]
__version__ = "0.1.0"
