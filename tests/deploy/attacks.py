"""What the attack tests share: the deployments they attack (``timebot run`` by environment, with
the consent routes, WhosOff's webhook or TimeClock behind it), a browser for the consent, signed
WhosOff deliveries, and what they read back (database rows, the log)."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bot.vendors.whosoff import webhook_signature
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import APP_ID, CLIENT_SECRET, SERVICE_EMAIL, SERVICE_PASSWORD, company, user_id
from tests.deploy.harness import Deployed, slack_env, start

OAUTH_CLIENT_ID = "111.222"
OAUTH_CLIENT_SECRET = "oauth-client-secret"
WEBHOOK_SECRET = "whosoff-webhook-secret"
WEBHOOK_HEADER = "X-WhosOff-Signature"
MAX_LOG_LINE = 2000


def free_port() -> int:
    """A port for the bot, chosen before it starts: its public URL (the consent's redirect) names it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_with_consent(env: Mapping[str, str], slack: SlackStandIn, tmp_path: Path) -> Deployed:
    """``timebot run`` with the status consent routes on (public URL, client id and secret), the
    stand-in knowing the app and its redirect URL."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    slack.user_side.register_app(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, [public + "/slack/oauth_redirect"])
    full = {
        **env,
        "TIMEBOT_PUBLIC_URL": public,
        "SLACK_CLIENT_ID": OAUTH_CLIENT_ID,
        "SLACK_CLIENT_SECRET": OAUTH_CLIENT_SECRET,
    }
    return start(full, tmp_path, args=("--port", str(port)))


def base_env(slack: SlackStandIn, tmp_path: Path, secret_key: str, **extra: str) -> dict[str, str]:
    return {**slack_env(slack, tmp_path, secret_key), "TIMEBOT_SCHEDULER": "false", **extra}


def whosoff_company() -> WhosOffSim:
    """The demo company on WhosOff, Ada's leave needing Grace's approval."""
    sim = company()
    sim.users[user_id(sim, "ada@example.com")].approver_id = user_id(sim, "grace@example.com")
    sim.leave_types[next(iter(sim.leave_types))].requires_approval = True
    return sim


def whosoff_env(server: SimServer) -> dict[str, str]:
    return {
        "WHOSOFF_BASE_URL": server.base_url,
        "WHOSOFF_APP_ID": APP_ID,
        "WHOSOFF_CLIENT_SECRET": CLIENT_SECRET,
        "WHOSOFF_USERNAME": SERVICE_EMAIL,
        "WHOSOFF_PASSWORD": SERVICE_PASSWORD,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
        "WHOSOFF_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def consent(bot: Deployed, browser: httpx.Client) -> httpx.Response:
    """Start on Timebot, approve on Slack's page, come back with the state cookie: the last answer."""
    start_page = browser.get(f"{bot.url}/slack/oauth/start")
    assert start_page.status_code == 302, start_page.text
    slack_page = browser.get(start_page.headers["location"])
    assert slack_page.status_code == 302, slack_page.text
    return browser.get(slack_page.headers["location"], headers=state_cookie(start_page))


def state_cookie(start_page: httpx.Response) -> dict[str, str]:
    """Bolt's state cookie is ``Secure``: sent by hand over plain-http loopback, as a browser would over https."""
    return {"Cookie": start_page.headers["set-cookie"].split(";", 1)[0]}


def whosoff_event(event_id: str, leave_id: int, status: str, at: datetime, approver: str = "Grace Hopper") -> bytes:
    """A leave event as WhosOff posts it (its documented shape), as raw bytes to sign."""
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": "leave.updated",
            "created_At": at.strftime("%Y-%m-%d %H:%M:%S"),
            "data": {
                "id": str(leave_id),
                "name": "Annual Leave",
                "staff": "Ada Lovelace",
                "approver": approver,
                "status": status,
                "start_date": "2026-03-28 00:00",
                "end_date": "2026-03-29 00:00",
            },
        }
    ).encode()


def deliver(bot: Deployed, body: bytes, signature: str | bytes | None = None) -> httpx.Response:
    """POST ``body`` to the webhook, signed with the shared secret unless a signature is given."""
    sig = webhook_signature(WEBHOOK_SECRET, body) if signature is None else signature
    return httpx.post(
        f"{bot.url}/webhooks/whosoff",
        content=body,
        timeout=10,
        headers={"Content-Type": "application/json", WEBHOOK_HEADER: sig},
    )  # type: ignore[dict-item]


def db(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "timebot.db", timeout=10)


def count(tmp_path: Path, table: str) -> int:
    with db(tmp_path) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def all_rows(tmp_path: Path) -> dict[str, int]:
    """Rows per table (Alembic's own excepted)."""
    with db(tmp_path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            n: int(conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]) for n in names if n != "alembic_version"
        }


def tracked(tmp_path: Path, request_id: int) -> tuple[str, str]:
    """(status, decided_by) of a followed leave request."""
    with db(tmp_path) as conn:
        row = conn.execute(
            "SELECT status, decided_by FROM leave_track WHERE request_id = ?", (str(request_id),)
        ).fetchone()
    assert row is not None, f"request {request_id} is not followed"
    return str(row[0]), str(row[1])


def clean_log(bot: Deployed) -> str:
    """The log, asserted free of tracebacks and of overlong lines; returned for more checks."""
    log = bot.log
    assert "Traceback" not in log, log[-4000:]
    longest = max((len(line) for line in log.splitlines()), default=0)
    assert longest <= MAX_LOG_LINE, f"a log line of {longest} characters"
    return log


def dm_texts(slack: SlackStandIn, channel: str) -> list[str]:
    return [json.dumps(c.args) for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def payload_with_reply(slack: SlackStandIn, payload: dict[str, Any], key: str) -> dict[str, Any]:
    """A click as Slack sends it from a message: with a response_url the reply goes to."""
    return {**payload, "response_url": slack.response_url(key)}
