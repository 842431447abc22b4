"""The client of rampart's policy server (``rampart serve``), over HTTP/1.1 with keep-alive.

A tool call a program is about to make is asked about first: :meth:`RampartClient.tool` is the
enforcing question (counted, recorded, queued for a person when the policy says ``ask``),
:meth:`RampartClient.preflight` the look ahead. The answer is a :class:`Decision`; a deny is an
answer, not an error. What is an error (:class:`RampartError`) is everything that is not an
answer: no server, a bad token, a reply that is not the API's. A guarded function
(:meth:`RampartClient.guard`) runs only on an allow: every error and every answer but allow
leaves it unrun. A firewall's client fails closed.
"""

from __future__ import annotations

import functools
import http.client
import inspect
import json
import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, TypeVar, Union

DEFAULT_URL = "http://127.0.0.1:9090"
"""Where ``rampart serve`` listens unless told otherwise."""

F = TypeVar("F", bound=Callable[..., Any])
Params = Mapping[str, Any]


class RampartError(Exception):
    """The server could not be asked, or did not answer as the API says."""

    def __init__(self, message: str, status: Optional[int] = None, body: Any = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class AuthError(RampartError):
    """The token is missing, wrong, expired or lacks the scope (HTTP 401 or 403)."""


class PolicyDenied(RampartError):
    """A guarded call the policy did not allow (deny, or an ask nobody approved)."""

    def __init__(self, decision: "Decision"):
        super().__init__(
            f"rampart: {decision.decision}: {decision.message}", decision.status, decision.raw
        )
        self.decision = decision


class ApprovalRequired(PolicyDenied):
    """A guarded call that waits for a person: the approval is still pending."""


@dataclass(frozen=True)
class Decision:
    """The server's answer about one tool call (``/v1/tool`` or ``/v1/preflight``)."""

    allowed: bool
    decision: str
    message: str
    status: int
    policy: Optional[str] = None
    matched_policies: List[str] = field(default_factory=list)
    eval_duration_us: Optional[int] = None
    audit_id: Optional[str] = None
    suggestions: List[str] = field(default_factory=list)
    enforced: Optional[bool] = None
    approval_id: Optional[str] = None
    approval_status: Optional[str] = None
    expires_at: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        """The call waits in the approval queue (HTTP 202)."""
        return self.approval_status == "pending"

    @classmethod
    def from_json(cls, status: int, body: Dict[str, Any]) -> "Decision":
        if not isinstance(body.get("allowed"), bool) or not isinstance(body.get("decision"), str):
            raise RampartError(f"not a decision (HTTP {status}): {body!r}", status, body)
        return cls(
            allowed=body["allowed"],
            decision=body["decision"],
            message=str(body.get("message") or ""),
            status=status,
            policy=body.get("policy"),
            matched_policies=list(body.get("matched_policies") or []),
            eval_duration_us=body.get("eval_duration_us"),
            audit_id=body.get("audit_id"),
            suggestions=list(body.get("suggestions") or []),
            enforced=body.get("enforced"),
            approval_id=body.get("approval_id"),
            approval_status=body.get("approval_status"),
            expires_at=body.get("expires_at"),
            raw=body,
        )


@dataclass(frozen=True)
class Approval:
    """One item of the approval queue."""

    id: str
    status: str
    tool: str = ""
    command: str = ""
    agent: str = ""
    session: str = ""
    message: str = ""
    run_id: str = ""
    created_at: Optional[str] = None
    expires_at: Optional[str] = None
    resolved_at: Optional[str] = None
    resolved_by: Optional[str] = None
    persisted: Optional[bool] = None
    raw: Dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    @classmethod
    def from_json(cls, body: Dict[str, Any]) -> "Approval":
        if not isinstance(body.get("id"), str) or not isinstance(body.get("status"), str):
            raise RampartError(f"not an approval: {body!r}", None, body)
        text = lambda k: str(body.get(k) or "")  # noqa: E731
        return cls(
            id=body["id"],
            status=body["status"],
            tool=text("tool"),
            command=text("command"),
            agent=text("agent"),
            session=text("session"),
            message=text("message"),
            run_id=text("run_id"),
            created_at=body.get("created_at"),
            expires_at=body.get("expires_at"),
            resolved_at=body.get("resolved_at"),
            resolved_by=body.get("resolved_by"),
            persisted=body.get("persisted"),
            raw=body,
        )


@dataclass(frozen=True)
class Health:
    """``GET /healthz``."""

    status: str
    mode: str
    version: str
    uptime_seconds: int
    raw: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _default_token() -> Optional[str]:
    """``RAMPART_TOKEN``, else ``~/.rampart/token`` (the admin token ``rampart serve`` writes)."""
    token = os.environ.get("RAMPART_TOKEN", "").strip()
    if token:
        return token
    try:
        token = (Path.home() / ".rampart" / "token").read_text().strip()
    except OSError:
        return None
    return token or None


def _seconds(wait: Union[float, int, None]) -> Optional[str]:
    if wait is None:
        return None
    if wait < 0:
        raise ValueError("wait must not be negative")
    return f"{int(wait * 1000)}ms"


class RampartClient:
    """A client of one ``rampart serve``. Thread-safe; one keep-alive connection, reopened when
    the server closed it."""

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        agent: str = "python-sdk",
        session: str = "",
        run_id: str = "",
        timeout: float = 10.0,
    ):
        url = url or os.environ.get("RAMPART_URL") or DEFAULT_URL
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"{url}: not an http:// URL of a rampart server")
        self.url = url.rstrip("/")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self._prefix = parsed.path.rstrip("/")
        self.token = token if token is not None else _default_token()
        self.agent = agent
        self.session = session
        self.run_id = run_id
        self.timeout = timeout
        self._lock = threading.Lock()
        self._conn: Optional[http.client.HTTPConnection] = None

    # -- the API -------------------------------------------------------------------------------

    def health(self) -> Health:
        """``GET /healthz`` (no token needed)."""
        status, body = self._request("GET", "/healthz", auth=False)
        self._expect(status, body, 200)
        return Health(
            status=str(body.get("status", "")),
            mode=str(body.get("mode", "")),
            version=str(body.get("version", "")),
            uptime_seconds=int(body.get("uptime_seconds", 0)),
            raw=body,
        )

    def preflight(
        self,
        tool: str,
        params: Optional[Params] = None,
        *,
        enforce: bool = False,
        agent: Optional[str] = None,
        session: Optional[str] = None,
    ) -> Decision:
        """``POST /v1/preflight/{tool}``: what the policy says about a call. Without ``enforce``
        nothing is counted or claimed (the decision is still recorded)."""
        body = self._call_body(params, agent, session)
        if enforce:
            body["enforce"] = True
        status, reply = self._request("POST", f"/v1/preflight/{_segment(tool)}", body)
        self._expect(status, reply, 200)
        return Decision.from_json(status, reply)

    def tool(
        self,
        tool: str,
        params: Optional[Params] = None,
        *,
        response: Optional[str] = None,
        wait: Optional[float] = None,
        agent: Optional[str] = None,
        session: Optional[str] = None,
    ) -> Decision:
        """``POST /v1/tool/{tool}``: the enforcing question. An ``ask`` is queued for a person
        (``decision.pending``); with ``wait`` (seconds) the server holds the answer until the
        person answers or the wait is over. ``response`` is the tool's output, scanned by the
        response rules (a redacted output comes back in ``decision.raw["response"]``)."""
        body = self._call_body(params, agent, session)
        if response is not None:
            body["response"] = response
        path = f"/v1/tool/{_segment(tool)}"
        if wait is not None:
            path += f"?wait={_seconds(wait)}"
        status, reply = self._request("POST", path, body)
        self._expect(status, reply, 200, 202, 403)
        return Decision.from_json(status, reply)

    def approvals(self) -> List[Approval]:
        """``GET /v1/approvals``: the pending approvals."""
        status, body = self._request("GET", "/v1/approvals")
        self._expect(status, body, 200)
        return [Approval.from_json(a) for a in body.get("approvals") or []]

    def approval(self, approval_id: str, *, wait: Optional[float] = None) -> Approval:
        """``GET /v1/approvals/{id}``; with ``wait`` (seconds), answered as soon as a person
        resolves it."""
        path = f"/v1/approvals/{_segment(approval_id)}"
        if wait is not None:
            path += f"?wait={_seconds(wait)}"
        status, body = self._request("GET", path)
        self._expect(status, body, 200)
        return Approval.from_json(body)

    def resolve(
        self,
        approval_id: str,
        approved: bool,
        *,
        persist: bool = False,
        resolved_by: str = "python-sdk",
    ) -> Approval:
        """``POST /v1/approvals/{id}/resolve`` (admin token). ``persist`` writes the durable
        allow rule."""
        body = {"approved": approved, "persist": persist, "resolved_by": resolved_by}
        status, reply = self._request(
            "POST", f"/v1/approvals/{_segment(approval_id)}/resolve", body
        )
        self._expect(status, reply, 200)
        return self.approval(str(reply.get("id", approval_id)))

    def approve(self, approval_id: str, *, persist: bool = False) -> Approval:
        return self.resolve(approval_id, True, persist=persist)

    def deny(self, approval_id: str) -> Approval:
        return self.resolve(approval_id, False)

    def wait_for_approval(self, approval_id: str, timeout: float) -> Approval:
        """The approval once a person resolved it (or it expired), or as it is after
        ``timeout`` seconds."""
        return self.approval(approval_id, wait=timeout)

    def status(self) -> Dict[str, Any]:
        """``GET /v1/status``."""
        status, body = self._request("GET", "/v1/status")
        self._expect(status, body, 200)
        return body

    def guard(
        self,
        tool: str = "exec",
        params: Union[Params, Callable[..., Params], None] = None,
        *,
        wait: Optional[float] = None,
    ) -> Callable[[F], F]:
        """A decorator: the function runs only when ``tool`` with ``params`` is allowed.

        ``params`` is a mapping, or a function of the call's arguments that returns one; by
        default the call's bound arguments. A deny raises :class:`PolicyDenied`, an ask still
        pending after ``wait`` seconds :class:`ApprovalRequired`; the function is not called."""

        def decorate(func: F) -> F:
            signature = inspect.signature(func)

            @functools.wraps(func)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                if callable(params):
                    asked = dict(params(*args, **kwargs))
                elif params is not None:
                    asked = dict(params)
                else:
                    bound = signature.bind(*args, **kwargs)
                    bound.apply_defaults()
                    asked = dict(bound.arguments)
                decision = self.tool(tool, asked, wait=wait)
                if decision.pending:
                    raise ApprovalRequired(decision)
                if not decision.allowed:
                    raise PolicyDenied(decision)
                return func(*args, **kwargs)

            return guarded  # type: ignore[return-value]

        return decorate

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "RampartClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- HTTP ----------------------------------------------------------------------------------

    def _call_body(
        self, params: Optional[Params], agent: Optional[str], session: Optional[str]
    ) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            "agent": self.agent if agent is None else agent,
            "session": self.session if session is None else session,
            "params": dict(params or {}),
        }
        if self.run_id:
            body["run_id"] = self.run_id
        return body

    def _connect(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _request(
        self, method: str, path: str, body: Any = None, *, auth: bool = True
    ) -> "tuple[int, Dict[str, Any]]":
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, default=str).encode()
            headers["Content-Type"] = "application/json"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with self._lock:
            # A kept connection the server closed in the meantime fails before the request is
            # read; only then is the request sent again, on a new connection.
            for attempt in (0, 1):
                reused = self._conn is not None
                if self._conn is None:
                    self._conn = self._connect()
                try:
                    self._conn.request(method, self._prefix + path, body=data, headers=headers)
                    reply = self._conn.getresponse()
                    raw = reply.read()
                    status = reply.status
                    if reply.will_close:
                        self._conn.close()
                        self._conn = None
                    break
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                    self._conn.close()
                    self._conn = None
                    if reused and attempt == 0:
                        continue
                    raise RampartError(f"no answer from the rampart server at {self.url}: {e}") from e
                except (OSError, http.client.HTTPException) as e:
                    self._conn.close()
                    self._conn = None
                    raise RampartError(f"cannot reach the rampart server at {self.url}: {e}") from e
        try:
            parsed = json.loads(raw) if raw.strip() else {}
        except ValueError as e:
            raise RampartError(f"HTTP {status}: not JSON: {raw[:200]!r}", status, raw) from e
        if not isinstance(parsed, dict):
            raise RampartError(f"HTTP {status}: not a JSON object: {parsed!r}", status, parsed)
        return status, parsed

    @staticmethod
    def _expect(status: int, body: Dict[str, Any], *ok: int) -> None:
        if status in ok:
            return
        message = str(body.get("error") or body.get("message") or f"HTTP {status}")
        if status in (401, 403):
            raise AuthError(message, status, body)
        raise RampartError(message, status, body)


def _segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")
