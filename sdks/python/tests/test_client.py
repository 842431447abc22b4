"""The SDK against a real ``rampart serve``: allow, deny, ask approved and denied through the API,
the guard decorator, health, and a bad token."""

from __future__ import annotations

import json
import threading
import time

import pytest

from rampart import (
    ApprovalRequired,
    AuthError,
    PolicyDenied,
    RampartClient,
    RampartError,
)


def client(server, **kw) -> RampartClient:
    return RampartClient(server.url, server.token, agent="sdk-test", session="s1", **kw)


def records(server):
    out = []
    for f in sorted((server.home / ".rampart" / "audit").glob("20*.jsonl")):
        for line in f.read_text().splitlines():
            event = json.loads(line)
            if "decision" in event and "id" in event:
                out.append(event)
    return out


def test_health_needs_no_token(server):
    h = RampartClient(server.url, token="").health()
    assert h.ok and h.mode == "enforce" and h.version.startswith("v")


def test_allow_and_deny(server):
    with client(server) as c:
        allowed = c.tool("exec", {"command": "git status"})
        assert (allowed.allowed, allowed.decision, allowed.status) == (True, "allow", 200)
        assert allowed.audit_id
        denied = c.tool("exec", {"command": "rm -rf /nonexistent"})
        assert (denied.allowed, denied.decision, denied.status) == (False, "deny", 403)
        assert denied.message == "no recursive removal"
        assert denied.policy == "no-destruction"
        preview = c.preflight("exec", {"command": "rm -rf /nonexistent"})
        assert (preview.allowed, preview.decision, preview.status) == (False, "deny", 200)
    actions = [(e["request"].get("command"), e["decision"]["action"]) for e in records(server)]
    assert actions == [
        ("git status", "allow"),
        ("rm -rf /nonexistent", "deny"),
        ("rm -rf /nonexistent", "deny"),
    ]
    assert all(e["agent"] == "sdk-test" for e in records(server))


def test_ask_is_queued_and_approved_through_the_api(server):
    c = client(server)
    asked = c.tool("exec", {"command": "sudo ls"})
    assert asked.pending and not asked.allowed and asked.status == 202
    pending = c.approvals()
    assert [(a.id, a.command, a.status) for a in pending] == [(asked.approval_id, "sudo ls", "pending")]
    approved = c.approve(asked.approval_id)
    assert approved.approved and approved.resolved_by == "python-sdk"
    assert c.approvals() == []
    assert c.wait_for_approval(asked.approval_id, timeout=1).approved


def test_ask_denied_through_the_api(server):
    c = client(server)
    asked = c.tool("exec", {"command": "sudo reboot"})
    assert c.deny(asked.approval_id).status == "denied"
    with pytest.raises(RampartError) as e:
        c.approve(asked.approval_id)
    assert e.value.status == 410


def test_a_waiting_caller_is_answered_when_a_person_approves(server):
    c = client(server)
    person = client(server)

    def approve_when_pending():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for a in person.approvals():
                person.approve(a.id)
                return
            time.sleep(0.02)

    t = threading.Thread(target=approve_when_pending)
    t.start()
    started = time.monotonic()
    d = c.tool("exec", {"command": "sudo true"}, wait=30)
    t.join()
    assert d.allowed and d.status == 200, d.raw
    assert time.monotonic() - started < 5


def test_guard_runs_the_function_only_when_allowed(server):
    c = client(server)
    ran = []

    @c.guard("exec", lambda cmd: {"command": cmd})
    def run(cmd):
        ran.append(cmd)
        return len(cmd)

    assert run("ls -la") == 6
    with pytest.raises(PolicyDenied) as denied:
        run("rm -rf /nonexistent")
    assert denied.value.decision.decision == "deny"
    with pytest.raises(ApprovalRequired) as pending:
        run("sudo ls")
    assert pending.value.decision.approval_id
    assert ran == ["ls -la"]

    @c.guard("exec")
    def command(command, flag=False):
        ran.append(command)

    command("echo hi")
    with pytest.raises(PolicyDenied):
        command(command="rm -rf /nonexistent")
    assert ran == ["ls -la", "echo hi"]


def test_bad_token_is_an_auth_error_and_nothing_runs(server):
    bad = RampartClient(server.url, "0" * 64)
    with pytest.raises(AuthError) as e:
        bad.tool("exec", {"command": "ls"})
    assert e.value.status == 401
    with pytest.raises(AuthError):
        bad.approvals()
    ran = []

    @bad.guard("exec", {"command": "ls"})
    def run():
        ran.append(1)

    with pytest.raises(AuthError):
        run()
    assert ran == []


def test_no_server_is_an_error_not_an_allow(server):
    port = int(server.url.rsplit(":", 1)[1])
    server.process.terminate()
    server.process.wait(timeout=10)
    c = RampartClient(f"http://127.0.0.1:{port}", server.token, timeout=2)
    with pytest.raises(RampartError):
        c.tool("exec", {"command": "ls"})
