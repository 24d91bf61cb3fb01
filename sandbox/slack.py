"""A local stand-in for the Slack Web API and ``response_url`` endpoints.

It checks the bot token, records every call (method + arguments) for tests to assert on, answers
the user look-ups from a small directory, and can rate-limit any method with 429 + Retry-After.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from sandbox.people import DEMO_PEOPLE, DEMO_TEAM_ID
from sandbox.server import Request, Response, SimServer


@dataclass
class SlackUser:
    id: str
    name: str
    email: str | None
    tz: str | None = "UTC"
    is_admin: bool = False
    deleted: bool = False
    is_bot: bool = False


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.time)


class SocketModeEndpoint(Protocol):
    """Slack's side of Socket Mode, as far as the Web API stand-in needs it."""

    def connections_open(self, token: str | None) -> tuple[dict[str, Any], int]:
        """``apps.connections.open``'s JSON answer and its HTTP status."""
        ...

    def stop(self) -> None: ...


class SlackStandIn:
    def __init__(self, bot_token: str = "xoxb-test-token", team_id: str = DEMO_TEAM_ID) -> None:  # noqa: S107
        self.bot_token = bot_token
        self.team_id = team_id
        self.users: dict[str, SlackUser] = {}
        self.calls: list[Call] = []
        self.responses: dict[str, list[dict[str, Any]]] = defaultdict(list)  # response_url id -> payloads
        self.expired_response_urls: set[str] = set()
        self.rate_limits: dict[str, list[int]] = {}  # method -> [remaining 429s, retry_after]
        self.server: SimServer | None = None
        self.socket_mode: SocketModeEndpoint | None = None
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._lock = threading.Condition()

    # --- set-up ----------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, email: str | None, tz: str | None = "UTC", *, is_admin: bool = False
    ) -> SlackUser:
        self.users[user_id] = SlackUser(user_id, name, email, tz, is_admin)
        return self.users[user_id]

    @classmethod
    def demo(cls, bot_token: str = "xoxb-test-token") -> SlackStandIn:  # noqa: S107
        slack = cls(bot_token)
        for p in DEMO_PEOPLE:
            slack.add_user(p.slack_id, p.name, p.email, p.tz)
        return slack

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        self.rate_limits[method] = [times, retry_after]

    def start(self) -> SlackStandIn:
        self.server = SimServer(self.handle, name="slack").start()
        return self

    def enable_socket_mode(self, endpoint: SocketModeEndpoint) -> None:
        """Hand ``apps.connections.open`` to a started Socket Mode endpoint: the tests' double
        (``tests/doubles/socket_mode.py``) or the bench's, so sandbox/ never imports tests/."""
        self.socket_mode = endpoint

    def stop(self) -> None:
        if self.socket_mode:
            self.socket_mode.stop()
        if self.server:
            self.server.stop()

    @property
    def api_url(self) -> str:
        assert self.server is not None
        return f"{self.server.base_url}/api/"

    def response_url(self, key: str) -> str:
        assert self.server is not None
        return f"{self.server.base_url}/respond/{key}"

    # --- assertions ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Block until ``predicate()`` is truthy (re-checked on every request); return its value."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the Slack stand-in never saw the expected request")
                self._lock.wait(min(remaining, 0.1))

    def wait_response(self, key: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        return self.wait_for(lambda: self.responses[key] if len(self.responses[key]) >= count else None, timeout)

    def wait_call(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        return self.wait_for(lambda: c if len(c := self.calls_to(method)) >= count else None, timeout)

    # --- HTTP ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/respond/"):
            key = request.path[len("/respond/") :]
            if key in self.expired_response_urls:
                return Response.text("expired_url", 404)
            payload = request.json() or {}
            with self._lock:
                self.responses[key].append(payload)
                self._lock.notify_all()
            return Response.text("ok")
        if not request.path.startswith("/api/"):
            return Response.text("not found", 404)
        method = request.path[len("/api/") :]
        args = self._args(request)
        limit = self.rate_limits.get(method)
        if limit and limit[0] > 0:
            limit[0] -= 1
            with self._lock:
                self.calls.append(Call(f"{method}#429", args))
                self._lock.notify_all()
            return Response.json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(limit[1])})
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or args.get("token")
        if method == "apps.connections.open":
            return Response.json(*self._connections_open(token))
        if token != self.bot_token:
            return Response.json({"ok": False, "error": "invalid_auth"})
        with self._lock:
            self.calls.append(Call(method, args))
            self._lock.notify_all()
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return Response.json({"ok": False, "error": "unknown_method"})
        return Response.json(handler(args))

    @staticmethod
    def _args(request: Request) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            data = request.json() or {}
        else:
            data = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        for k, v in request.query.items():
            data.setdefault(k, v[0])
        for key in ("blocks", "view"):
            if isinstance(data.get(key), str):
                with contextlib.suppress(ValueError):
                    data[key] = json.loads(data[key])
        return data

    def _user_json(self, u: SlackUser) -> dict[str, Any]:
        return {
            "id": u.id,
            "team_id": self.team_id,
            "name": u.name.split()[0].lower(),
            "real_name": u.name,
            "deleted": u.deleted,
            "is_bot": u.is_bot,
            "is_admin": u.is_admin,
            "is_owner": False,
            "tz": u.tz,
            "profile": {"email": u.email, "real_name": u.name, "display_name": u.name.split()[0]},
        }

    def _connections_open(self, token: str | None) -> tuple[dict[str, Any], int]:
        with self._lock:
            self.calls.append(Call("apps.connections.open", {}))
            self._lock.notify_all()
        if self.socket_mode is None:
            return {"ok": False, "error": "invalid_auth" if token else "not_authed"}, 200
        return self.socket_mode.connections_open(token)

    def _m_auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://sandbox.slack.invalid/",
            "team": "Sandbox",
            "user": "timebot",
            "team_id": self.team_id,
            "user_id": "UBOT",
            "bot_id": "BBOT",
        }

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        channel = args.get("channel", "")
        if channel.startswith("U"):
            channel = "D" + channel[1:]
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    def _m_chat_postEphemeral(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}

    def _view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view") or {}
        view_id = args.get("view_id") or f"V{next(self._view_ids):06d}"
        return {"ok": True, "view": {**view, "id": view_id, "hash": f"h{time.time_ns()}"}}

    _m_views_open = _m_views_update = _m_views_push = _m_views_publish = _view

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user_json(user)}

    def _m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email:
                return {"ok": True, "user": self._user_json(user)}
        return {"ok": False, "error": "users_not_found"}

    def _m_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        users = sorted(self.users.values(), key=lambda u: u.id)
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 200)
        page = users[start : start + limit]
        cursor = str(start + limit) if start + limit < len(users) else ""
        return {"ok": True, "members": [self._user_json(u) for u in page], "response_metadata": {"next_cursor": cursor}}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", "U0")).split(",")[0]
        return {"ok": True, "channel": {"id": "D" + users[1:]}}
