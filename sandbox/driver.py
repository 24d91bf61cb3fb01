"""Plays Slack's side towards the bot: genuinely signed slash commands, modal submissions, clicks
and events over real HTTP. The tests drive the bot with it, and so does ``timebot console``."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from sandbox.people import DEMO_TEAM_ID
from sandbox.slack import SlackStandIn

SIGNING_SECRET = "test-signing-secret"  # noqa: S105 - the stand-in's own value
TEAM = DEMO_TEAM_ID


def signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class Deliveries:
    """What Slack sends, built once for both transports (signed HTTP and Socket Mode envelopes)."""

    def __init__(self, slack: SlackStandIn) -> None:
        self.slack = slack
        self._n = itertools.count(1)

    def command_fields(
        self, command: str, text: str = "", user: str = "U0ADA", **extra: str
    ) -> tuple[dict[str, str], str]:
        """A slash command's fields and the response_url key to wait on."""
        n = next(self._n)
        key = f"cmd{n}-{time.time_ns()}"
        fields = {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "demo",
            "channel_id": "C0TEAM",
            "channel_name": "team",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "response_url": self.slack.response_url(key),
            "trigger_id": self.slack.issue_trigger(),
            "api_app_id": "A0TIMEBOT",
            **extra,
        }
        return fields, key

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str = "U0ADA",
        private_metadata: str = "{}",
        view_id: str | None = None,
    ) -> dict[str, Any]:
        """A submission of a modal the stand-in knows (opened now unless ``view_id`` names one),
        with the hash Slack holds for it: Slack doesn't re-hash a view for an ``errors`` ack."""
        view_id, view_hash = self.slack.open_view(view_id)
        state = {"values": {block: {"value": element} for block, element in values.items()}}
        return {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "demo"},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0TIMEBOT",
            "trigger_id": self.slack.issue_trigger(),
            "view": {
                "id": view_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": state,
                "hash": view_hash,
                "team_id": TEAM,
            },
        }

    def click(self, action_id: str, *, user: str = "U0ADA", value: str = "", container: str = "view") -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "demo"},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0TIMEBOT",
            "trigger_id": self.slack.issue_trigger(),
            "container": {"type": container},
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        if container == "view":
            view_id, view_hash = self.slack.open_view(f"VHOME{user}")
            payload["view"] = {"id": view_id, "type": "home", "hash": view_hash}
        return payload

    def user_change(self, user: str) -> dict[str, Any]:
        """Slack's ``user_change`` for a member as the stand-in now holds them (after a profile edit)."""
        return {
            "type": "user_change",
            "user": self.slack.user_object(user),
            "cache_ts": int(time.time()),
            "event_ts": f"{time.time():.6f}",
        }

    @staticmethod
    def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0TIMEBOT",
            "type": "event_callback",
            "event_id": event_id or f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": event,
        }


class SlackDriver:
    """Plays Slack's side over HTTP: signed slash commands, modal submissions, clicks and events."""

    def __init__(self, bot_url: str, slack: SlackStandIn, secret: str = SIGNING_SECRET) -> None:
        self.url = bot_url.rstrip("/") + "/slack/events"
        self.slack = slack
        self.secret = secret
        self.http = httpx.Client(timeout=30)
        self.make = Deliveries(slack)

    def close(self) -> None:
        self.http.close()

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: float | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        ts = str(int(time.time() if timestamp is None else timestamp))
        sig = signature(secret or self.secret, ts, body)
        h = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, **(headers or {})}
        return self.http.post(self.url, content=body.encode(), headers=h)

    def command_body(self, command: str, text: str = "", user: str = "U0ADA", **extra: str) -> tuple[str, str]:
        fields, key = self.make.command_fields(command, text, user, **extra)
        return urlencode(fields), key

    def command(self, command: str, text: str = "", user: str = "U0ADA", **kw: Any) -> tuple[httpx.Response, str]:
        """Send a slash command; returns the HTTP response and the response_url key to wait on."""
        body, key = self.command_body(command, text, user)
        return self.post(body, "application/x-www-form-urlencoded", **kw), key

    def interaction(self, payload: dict[str, Any], **kw: Any) -> httpx.Response:
        body = "payload=" + quote(json.dumps(payload))
        return self.post(body, "application/x-www-form-urlencoded", **kw)

    def submit_view(self, callback_id: str, values: dict[str, dict[str, Any]], **kw: Any) -> httpx.Response:
        return self.interaction(self.make.view_submission(callback_id, values, **kw))

    def click(self, action_id: str, **kw: Any) -> httpx.Response:
        return self.interaction(self.make.click(action_id, **kw))

    def event(self, event: dict[str, Any], event_id: str | None = None, **kw: Any) -> httpx.Response:
        return self.post(json.dumps(self.make.event_callback(event, event_id)), "application/json", **kw)
