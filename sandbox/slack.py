"""A local stand-in for the Slack Web API and ``response_url`` endpoints.

It checks the bot token, records every call (method + arguments) for tests to assert on, answers
the user look-ups from a small directory, and can rate-limit any method with 429 + Retry-After.

It also holds to Slack's documented rules that bite an app (``slack_rules`` below): a view's
``hash`` changes only when the app opens/updates it and a stale one is a ``hash_conflict``; a
``trigger_id`` works once and for 3 s; a ``response_url`` takes 5 posts in 30 minutes;
``chat.postMessage`` allows about one message a second per channel (after a short burst);
``chat.postEphemeral`` needs both the person and the bot in the channel; every answer carries the
token's scopes in ``x-oauth-scopes``. Its clock can be moved (``advance``) so tests never sleep.
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
class SlackChannel:
    """A channel as conversations.info and conversations.members see it."""

    id: str
    name: str
    is_private: bool = False
    members: list[str] = field(default_factory=list)  # in join order, the bot ("UBOT") among them if invited


@dataclass
class SlackFile:
    """An upload (docs.slack.dev/reference/methods/files.getUploadURLExternal): reserved, then its
    bytes posted to the upload URL, then shared (or kept private) by files.completeUploadExternal."""

    id: str
    filename: str
    length: int
    content: bytes | None = None  # None until the bytes arrive at the upload URL
    title: str = ""
    completed: bool = False
    shared_to: list[str] = field(default_factory=list)  # channel ids (a user id shares it in their DM)
    initial_comment: str = ""


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.time)
    answer: dict[str, Any] | None = None  # what the stand-in answered (Web API methods of the bot token)


class SocketModeEndpoint(Protocol):
    """Slack's side of Socket Mode, as far as the Web API stand-in needs it."""

    def connections_open(self, token: str | None) -> tuple[dict[str, Any], int]:
        """``apps.connections.open``'s JSON answer and its HTTP status."""
        ...

    def stop(self) -> None: ...


# Which scope each Web API method needs with a bot token (docs.slack.dev/reference/methods/<method>,
# "Required scopes"); None: no scope. conversations.open takes any one of several; im:write is ours.
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "conversations.info": "channels:read",  # groups:read for a private channel
    "conversations.members": "channels:read",  # groups:read for a private channel
    "conversations.open": "im:write",
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "views.open": None,
    "views.update": None,
    "views.push": None,
    "views.publish": None,
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "users:read.email",
    "channels:read",
    "groups:read",
    "usergroups:read",
    "files:write",
)
DEMO_CHANNEL = "C0TEAM"
BOT_USER_ID = "UBOT"


@dataclass
class SlackRules:
    """Slack's documented limits, as numbers a test can change."""

    trigger_seconds: float = 3.0  # docs: "trigger_ids expire in three seconds" and "may only be used once"
    response_url_posts: int = 5  # docs: "use response_url to publish up to 5 times within 30 minutes"
    response_url_seconds: float = 30 * 60
    post_per_second: float = 1.0  # docs: chat.postMessage "one message per second per channel"
    post_burst: int = 3  # docs: "Short bursts >1 allowed" (no number given): a small allowance


class SlackStandIn:
    def __init__(self, bot_token: str = "xoxb-test-token", team_id: str = DEMO_TEAM_ID) -> None:  # noqa: S107
        self.bot_token = bot_token
        self.team_id = team_id
        self.rules = SlackRules()
        self.scopes: list[str] = list(DEFAULT_SCOPES)
        self.clock: Callable[[], float] = time.time  # trigger and response_url ages, status expiry, OAuth codes
        self._skew = 0.0
        self.triggers: dict[str, float] = {}  # trigger_id -> issued at; removed once used
        self.used_triggers: set[str] = set()
        self.views: dict[str, str] = {}  # view_id -> current hash
        self.home_views: dict[str, str] = {}  # user id -> view_id of their Home
        self.response_urls: dict[str, float] = {}  # response_url key -> issued at
        self.channels: dict[str, SlackChannel] = {
            DEMO_CHANNEL: SlackChannel(DEMO_CHANNEL, "team", members=[BOT_USER_ID])
        }
        self._post_buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)
        self.users: dict[str, SlackUser] = {}
        self.calls: list[Call] = []
        self.responses: dict[str, list[dict[str, Any]]] = defaultdict(list)  # response_url id -> payloads
        self.expired_response_urls: set[str] = set()
        self.rate_limits: dict[str, list[int]] = {}  # method -> [remaining 429s, retry_after]
        self.refusals: dict[str, list[tuple[str, int]]] = {}  # method -> the next answers' (error, HTTP status)
        self.usergroups: dict[str, tuple[str, list[str]]] = {}  # id -> (handle, user ids)
        self.files: dict[str, SlackFile] = {}  # file id -> upload
        self.server: SimServer | None = None
        self.socket_mode: SocketModeEndpoint | None = None
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._lock = threading.Condition()
        self.user_side = UserSide(self)

    # --- set-up ----------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, email: str | None, tz: str | None = "UTC", *, is_admin: bool = False
    ) -> SlackUser:
        self.users[user_id] = SlackUser(user_id, name, email, tz, is_admin)
        if user_id not in self.channels[DEMO_CHANNEL].members:
            self.channels[DEMO_CHANNEL].members.append(user_id)
        return self.users[user_id]

    # --- time and what Slack hands out ------------------------------------------------------

    def now(self) -> float:
        return self.clock() + self._skew

    def advance(self, seconds: float) -> None:
        """Move the stand-in's clock on (trigger and response_url ages, rate-limit buckets)."""
        with self._lock:
            self._skew += seconds

    def issue_trigger(self) -> str:
        """A fresh trigger_id, as Slack puts in a slash command or an interaction."""
        trigger = f"{next(self._ts)}.{time.time_ns()}.trigger"
        with self._lock:
            self.triggers[trigger] = self.now()
        return trigger

    def open_view(self, view_id: str | None = None) -> tuple[str, str]:
        """A modal as if the app had opened it (for a test that starts at its submission): id, hash."""
        with self._lock:
            view_id = view_id or f"V{next(self._view_ids):06d}"
            if view_id not in self.views:
                self.views[view_id] = self._new_hash()
            return view_id, self.views[view_id]

    def _new_hash(self) -> str:
        return f"{int(time.time())}.{next(self._ts):08x}"

    @classmethod
    def demo(cls, bot_token: str = "xoxb-test-token") -> SlackStandIn:  # noqa: S107
        slack = cls(bot_token)
        for p in DEMO_PEOPLE:
            slack.add_user(p.slack_id, p.name, p.email, p.tz)
        return slack

    def add_channel(
        self, channel_id: str, name: str, members: list[str], *, is_private: bool = False, bot_member: bool = True
    ) -> SlackChannel:
        channel = SlackChannel(channel_id, name, is_private, [*members, *([BOT_USER_ID] if bot_member else [])])
        self.channels[channel_id] = channel
        return channel

    def add_usergroup(self, group_id: str, handle: str, users: list[str]) -> None:
        self.usergroups[group_id] = (handle, list(users))

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        self.rate_limits[method] = [times, retry_after]

    def refuse(self, method: str, error: str, *, status: int = 200, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with Slack's error payload
        ``{"ok": false, "error": error}`` and HTTP ``status``, whatever the call asks."""
        self.refusals.setdefault(method, []).extend([(error, status)] * times)

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
        """The response_url of one request, issued now (its 30 minutes and 5 posts start here)."""
        assert self.server is not None
        with self._lock:
            self.response_urls.setdefault(key, self.now())
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
        if request.path == "/oauth/v2/authorize":
            return self.user_side.authorize_page(request)
        if request.path.startswith("/respond/"):
            return self._respond(request.path[len("/respond/") :], request)
        if request.path.startswith("/upload/v1/"):
            return self._upload(request.path[len("/upload/v1/") :], request)
        if not request.path.startswith("/api/"):
            return Response.text("not found", 404)
        method = request.path[len("/api/") :]
        args = self._args(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or args.get("token")
        if method == "apps.connections.open":
            return Response.json(*self._connections_open(token))
        with self._lock:
            queued = self.refusals.get(method)
            refusal = queued.pop(0) if queued else None
            if refusal is not None:
                self.calls.append(Call(f"{method}#{refusal[0]}", args))
                self._lock.notify_all()
        if refusal is not None:
            return Response.json({"ok": False, "error": refusal[0]}, refusal[1])
        if method in USER_SIDE_METHODS:  # user tokens (and the OAuth exchange): their own checks
            with self._lock:
                self.calls.append(Call(method, args))
                self._lock.notify_all()
            return Response.json(self.user_side.call(method, args, token, request))
        if not token:
            return Response.json({"ok": False, "error": "not_authed"})
        if token != self.bot_token:
            return Response.json({"ok": False, "error": "invalid_auth"})
        limit = self.rate_limits.get(method)
        if (limit and limit[0] > 0) or (method == "chat.postMessage" and not self._may_post(str(args.get("channel")))):
            retry_after = 1
            if limit and limit[0] > 0:
                limit[0] -= 1
                retry_after = limit[1]
            with self._lock:
                self.calls.append(Call(f"{method}#429", args))
                self._lock.notify_all()
            return Response.json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(retry_after)})
        call = Call(method, args)
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        headers = {"x-oauth-scopes": ",".join(self.scopes)}
        needed = METHOD_SCOPES.get(method)
        if needed is not None and needed not in self.scopes:
            return Response.json(
                {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(self.scopes)},
                headers=headers,
            )
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return Response.json({"ok": False, "error": "unknown_method"}, headers=headers)
        with self._lock:
            answer = handler(args)
            call.answer = answer
        return Response.json(answer, headers=headers)

    def _respond(self, key: str, request: Request) -> Response:
        """A post to a response_url: at most ``response_url_posts`` within ``response_url_seconds``
        of the request; after that Slack answers 404 ``used_url`` / ``expired_url``."""
        with self._lock:
            issued = self.response_urls.get(key)
            if issued is None:
                return Response.text("invalid_url", 404)
            if key in self.expired_response_urls or self.now() - issued > self.rules.response_url_seconds:
                return Response.text("expired_url", 404)
            if len(self.responses[key]) >= self.rules.response_url_posts:
                return Response.text("used_url", 404)
            self.responses[key].append(request.json() or {})
            self._lock.notify_all()
        return Response.text("ok")

    def _upload(self, file_id: str, request: Request) -> Response:
        """Step 2 of an upload: the bytes, POSTed raw to the URL files.getUploadURLExternal gave
        (the URL is the credential: no token). Slack answers 200 "OK - <bytes>"."""
        with self._lock:
            upload = self.files.get(file_id)
            if request.method != "POST" or upload is None or upload.completed:
                return Response.text("not found", 404)
            upload.content = request.body
            self.calls.append(Call("upload", {"file_id": file_id, "bytes": len(request.body)}))
            self._lock.notify_all()
        return Response.text(f"OK - {len(request.body)}")

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        """Step 1: ``filename`` and ``length`` (bytes, required) reserve a file id and an upload URL."""
        filename = str(args.get("filename") or "")
        try:
            length = int(args.get("length") or 0)
        except (TypeError, ValueError):
            length = 0
        if not filename or length <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        assert self.server is not None
        file_id = f"F{next(self._ts):09d}"
        self.files[file_id] = SlackFile(file_id, filename, length)
        return {"ok": True, "upload_url": f"{self.server.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        """Step 3, callable once per upload: ``files`` (a JSON array of ``{"id", "title"}``) shared
        to ``channel_id`` or ``channels`` (comma-separated channel or user ids), or kept private."""
        try:
            wanted = json.loads(args["files"]) if isinstance(args.get("files"), str) else args.get("files")
        except ValueError:
            wanted = None
        if not isinstance(wanted, list) or not wanted:
            return {"ok": False, "error": "invalid_arguments"}
        uploads = []
        for item in wanted:
            upload = self.files.get(str(item.get("id")) if isinstance(item, dict) else "")
            if upload is None or upload.completed or upload.content is None:
                return {"ok": False, "error": "file_not_found"}
            uploads.append((upload, str(item.get("title") or upload.filename)))
        targets = (
            [str(args["channel_id"])]
            if args.get("channel_id")
            else [c for c in str(args.get("channels") or "").split(",") if c]
        )
        for target in targets:
            if target.startswith("U") and target not in self.users:
                return {"ok": False, "error": "user_not_found"}
            if target[:1] in {"C", "G"} and self._visible(target) is None:
                return {"ok": False, "error": "channel_not_found"}
        shared = []
        for upload, title in uploads:
            upload.completed, upload.title, upload.initial_comment = True, title, str(args.get("initial_comment") or "")
            upload.shared_to = ["D" + t[1:] if t.startswith("U") else t for t in targets]
            shared.append(
                {
                    "id": upload.id,
                    "title": title,
                    "name": upload.filename,
                    "size": len(upload.content or b""),
                    "channels": upload.shared_to,
                }
            )
        return {"ok": True, "files": shared}

    def _may_post(self, channel: str) -> bool:
        """A token bucket per channel: ``post_burst`` at once, refilled at ``post_per_second``."""
        if channel.startswith("U"):
            channel = "D" + channel[1:]
        with self._lock:
            now = self.now()
            tokens, at = self._post_buckets.get(channel, (float(self.rules.post_burst), now))
            tokens = min(float(self.rules.post_burst), tokens + (now - at) * self.rules.post_per_second)
            if tokens < 1:
                self._post_buckets[channel] = (tokens, now)
                return False
            self._post_buckets[channel] = (tokens - 1, now)
            return True

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

    def user_object(self, user_id: str) -> dict[str, Any]:
        """The member as Slack's user object, which users.info, users.list and user_change all carry."""
        return self._user_json(self.users[user_id])

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

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if args.get("user") not in channel.members or BOT_USER_ID not in channel.members:
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}

    def _use_trigger(self, trigger: str | None) -> str | None:
        """The error for a trigger_id that can't open a view now, or None (and it is spent)."""
        if not trigger:
            return "invalid_arguments"
        if trigger in self.used_triggers:
            return "exchanged_trigger_id"
        issued = self.triggers.pop(trigger, None)
        if issued is None:
            return "invalid_trigger_id"
        self.used_triggers.add(trigger)
        if self.now() - issued > self.rules.trigger_seconds:
            return "expired_trigger_id"
        return None

    def _shown(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        self.views[view_id] = self._new_hash()
        return {
            "ok": True,
            "view": {
                **view,
                "id": view_id,
                "hash": self.views[view_id],
                "team_id": self.team_id,
                "state": {"values": {}},
            },
        }

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if error := self._use_trigger(args.get("trigger_id")):
            return {"ok": False, "error": error}
        return self._shown(args.get("view") or {}, f"V{next(self._view_ids):06d}")

    _m_views_push = _m_views_open

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id") or "")
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != self.views[view_id]:
            return {"ok": False, "error": "hash_conflict"}
        return self._shown(args.get("view") or {}, view_id)

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        view_id = self.home_views.setdefault(user, f"V{next(self._view_ids):06d}")
        if args.get("hash") and view_id in self.views and args["hash"] != self.views[view_id]:
            return {"ok": False, "error": "hash_conflict"}
        return self._shown(args.get("view") or {}, view_id)

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

    # --- channels and user groups (docs.slack.dev/reference/methods/conversations.members,
    # conversations.info, usergroups.users.list) -------------------------------------------------

    def _visible(self, channel_id: str) -> SlackChannel | None:
        """A private channel is invisible to a bot that isn't in it: Slack answers channel_not_found."""
        channel = self.channels.get(channel_id)
        if channel is None or (channel.is_private and "UBOT" not in channel.members):
            return None
        return channel

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_channel": True,
                "is_group": False,
                "is_im": False,
                "is_private": channel.is_private,
                "is_archived": False,
                "is_member": "UBOT" in channel.members,
            },
        }

    def _m_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        """Cursor paging as documented: ``limit`` (default 100, under 1000), ``cursor`` from the
        previous page's ``response_metadata.next_cursor``, empty on the last page."""
        channel = self._visible(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        cursor = str(args.get("cursor") or "")
        if cursor and not (cursor.startswith("offset:") and cursor[7:].isdigit()):
            return {"ok": False, "error": "invalid_cursor"}
        start = int(cursor[7:]) if cursor else 0
        try:
            limit = int(args.get("limit") or 100)
        except ValueError:
            return {"ok": False, "error": "invalid_limit"}
        if not 1 <= limit < 1000:
            return {"ok": False, "error": "invalid_limit"}
        page = channel.members[start : start + limit]
        more = start + limit < len(channel.members)
        return {
            "ok": True,
            "members": page,
            "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""},
        }

    def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Documented without paging: every user id of the group in one answer."""
        group = self.usergroups.get(str(args.get("usergroup", "")))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group[1])}

    def _m_usergroups_list(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "usergroups": [
                {"id": gid, "handle": handle, "name": handle, "user_count": len(users)}
                for gid, (handle, users) in self.usergroups.items()
            ],
        }


# --- the user side: OAuth v2 for user tokens, the person's profile status, Do Not Disturb ---------

USER_SIDE_METHODS = frozenset(
    {"oauth.v2.access", "users.profile.get", "users.profile.set", "dnd.setSnooze", "dnd.endSnooze"}
)
USER_TOKEN_METHODS = frozenset({"users.profile.set", "dnd.setSnooze", "dnd.endSnooze"})
SCOPE_OF = {
    "users.profile.get": "users.profile:read",
    "users.profile.set": "users.profile:write",
    "dnd.setSnooze": "dnd:write",
    "dnd.endSnooze": "dnd:write",
}
CODE_SECONDS = 600  # an authorization code is good for ten minutes, once


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str
    redirect_urls: list[str]


@dataclass
class UserToken:
    user_id: str
    scopes: set[str]
    revoked: bool = False


@dataclass
class Status:
    text: str = ""
    emoji: str = ""
    expiration: int = 0


class UserSide:
    """Slack's side of a person granting an app a user token, and of that token's calls: the
    authorize page (it approves as ``approver``), ``oauth.v2.access`` with its documented errors,
    ``users.profile.get``/``set`` (status expiry honoured) and ``dnd.setSnooze``/``endSnooze``."""

    def __init__(self, slack: SlackStandIn) -> None:
        self.slack = slack
        self.apps: dict[str, OAuthApp] = {}
        self.tokens: dict[str, UserToken] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, Status] = defaultdict(Status)
        self.snoozed_until: dict[str, int] = {}
        self.approver = "U0ADA"
        self.deny = False
        # Rewrites a successful ``oauth.v2.access`` answer, for answers an app must refuse (another
        # workspace, an enterprise install, a bot token where the user's should be, a missing scope).
        self.answer_as: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self._n = itertools.count(1)

    def register_app(self, client_id: str, client_secret: str, redirect_urls: list[str]) -> None:
        self.apps[client_id] = OAuthApp(client_id, client_secret, redirect_urls)

    def revoke(self, user_id: str) -> None:
        for token in self.tokens.values():
            if token.user_id == user_id:
                token.revoked = True

    def set_status(self, user_id: str, text: str, emoji: str, expiration: int = 0) -> None:
        """The person changes their own status in Slack."""
        self.statuses[user_id] = Status(text, emoji, expiration)

    def status(self, user_id: str) -> Status:
        current = self.statuses[user_id]
        if current.expiration and current.expiration <= self.slack.clock():
            self.statuses[user_id] = current = Status()
        return current

    # --- the browser's part --------------------------------------------------------------------

    def authorize_page(self, request: Request) -> Response:
        arg = request.arg
        app = self.apps.get(arg("client_id") or "")
        if app is None:
            return Response.text("Invalid client_id parameter", 400)
        redirect = arg("redirect_uri") or (app.redirect_urls[0] if app.redirect_urls else "")
        if redirect not in app.redirect_urls:
            return Response.text("redirect_uri did not match any configured URIs", 400)
        state = arg("state") or ""
        if self.deny:
            return Response(302, headers={"Location": f"{redirect}?error=access_denied&state={state}"})
        code = f"code-{next(self._n)}-{time.time_ns()}"
        self.codes[code] = {
            "client_id": app.client_id,
            "redirect_uri": arg("redirect_uri"),
            "user": self.approver,
            "user_scope": [s for s in (arg("user_scope") or "").split(",") if s],
            "at": self.slack.clock(),
        }
        return Response(302, headers={"Location": f"{redirect}?code={code}&state={state}"})

    # --- the Web API ---------------------------------------------------------------------------

    def call(self, method: str, args: dict[str, Any], token: str | None, request: Request) -> dict[str, Any]:
        if method == "oauth.v2.access":
            return self._access(args, request)
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token == self.slack.bot_token:
            if method in USER_TOKEN_METHODS:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": False, "error": "missing_scope", "needed": SCOPE_OF[method], "provided": "commands"}
        grant = self.tokens.get(token)
        if grant is None:
            return {"ok": False, "error": "invalid_auth"}
        if grant.revoked:
            return {"ok": False, "error": "token_revoked"}
        if SCOPE_OF[method] not in grant.scopes:
            return {"ok": False, "error": "missing_scope", "needed": SCOPE_OF[method]}
        return getattr(self, "_" + method.replace(".", "_"))(grant.user_id, args)

    def _access(self, args: dict[str, Any], request: Request) -> dict[str, Any]:
        client_id, secret = args.get("client_id"), args.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            import base64

            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        app = self.apps.get(client_id or "")
        if app is None:
            return {"ok": False, "error": "invalid_client_id"}
        if secret != app.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        grant = self.codes.pop(str(args.get("code") or ""), None)
        if grant is None or grant["client_id"] != app.client_id or self.slack.clock() - grant["at"] > CODE_SECONDS:
            return {"ok": False, "error": "invalid_code"}
        if grant["redirect_uri"] is not None and args.get("redirect_uri") != grant["redirect_uri"]:
            return {"ok": False, "error": "bad_redirect_uri"}
        token = f"xoxp-{next(self._n)}-{time.time_ns()}"
        self.tokens[token] = UserToken(grant["user"], set(grant["user_scope"]))
        answer = {
            "ok": True,
            "app_id": "A0TIMEBOT",
            "team": {"id": self.slack.team_id, "name": "Sandbox"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {
                "id": grant["user"],
                "scope": ",".join(grant["user_scope"]),
                "access_token": token,
                "token_type": "user",
            },
        }
        return self.answer_as(answer) if self.answer_as is not None else answer

    def _users_profile_get(self, user_id: str, _: dict[str, Any]) -> dict[str, Any]:
        current = self.status(user_id)
        user = self.slack.users.get(user_id)
        return {
            "ok": True,
            "profile": {
                "real_name": user.name if user else "",
                "status_text": current.text,
                "status_emoji": current.emoji,
                "status_expiration": current.expiration,
            },
        }

    def _users_profile_set(self, user_id: str, args: dict[str, Any]) -> dict[str, Any]:
        profile = args.get("profile")
        if isinstance(profile, str):
            try:
                profile = json.loads(profile)
            except ValueError:
                return {"ok": False, "error": "invalid_profile"}
        if not isinstance(profile, dict):
            return {"ok": False, "error": "invalid_profile"}
        text, emoji = str(profile.get("status_text", "")), str(profile.get("status_emoji", ""))
        if len(text) > 100:
            return {"ok": False, "error": "too_long"}
        if emoji and not (emoji.startswith(":") and emoji.endswith(":") and len(emoji) > 2):
            return {"ok": False, "error": "invalid_emoji"}  # not a :name: (or not one Slack knows)
        self.statuses[user_id] = Status(text, emoji, int(profile.get("status_expiration") or 0))
        return {
            "ok": True,
            "profile": {
                "status_text": text,
                "status_emoji": emoji,
                "status_expiration": self.statuses[user_id].expiration,
            },
        }

    def _dnd_setSnooze(self, user_id: str, args: dict[str, Any]) -> dict[str, Any]:
        raw = str(args.get("num_minutes") or "")
        if not raw:
            return {"ok": False, "error": "missing_duration"}
        if not raw.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        end = int(self.slack.clock()) + int(raw) * 60
        self.snoozed_until[user_id] = end
        return {
            "ok": True,
            "snooze_enabled": True,
            "snooze_endtime": end,
            "snooze_remaining": int(raw) * 60,
            "snooze_is_indefinite": False,
        }

    def _dnd_endSnooze(self, user_id: str, _: dict[str, Any]) -> dict[str, Any]:
        if self.snoozed_until.pop(user_id, 0) <= self.slack.clock():
            return {"ok": False, "error": "snooze_not_active"}
        return {"ok": True, "dnd_enabled": True, "snooze_enabled": False}
