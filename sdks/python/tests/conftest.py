"""A real ``rampart serve`` on a free loopback port, with its own HOME and a small policy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[3]

POLICY = """
default_action: allow
policies:
  - name: no-destruction
    match: {tool: [exec]}
    rules:
      - action: deny
        when: {command_matches: ["rm -rf *"]}
        message: no recursive removal
      - action: ask
        when: {command_matches: ["sudo *"]}
        message: sudo needs a person
"""


def _binary() -> Path:
    path = Path(os.environ.get("RAMPART_BIN", ROOT / "target" / "debug" / "rampart"))
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    if not path.is_file():
        pytest.fail(f"no rampart binary at {path} (build it, or set RAMPART_BIN)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, url: str, token: str, home: Path, process: subprocess.Popen):
        self.url = url
        self.token = token
        self.home = home
        self.process = process


@pytest.fixture()
def server(tmp_path: Path):
    home = tmp_path / "home"
    (home / ".rampart").mkdir(parents=True)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAMPART_")}
    env["HOME"] = str(home)
    process = subprocess.Popen(
        [str(_binary()), "--config", str(policy), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            pytest.fail(f"rampart serve exited {process.returncode}: {process.stderr.read()!r}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("rampart serve did not answer within 20 s")
        time.sleep(0.02)
    token = (home / ".rampart" / "token").read_text().strip()
    try:
        yield Served(url, token, home, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()
