"""Every surface an anonymous client can reach (``/slack/events``, ``/webhooks/whosoff``, the consent's
``/slack/oauth/start`` and ``/slack/oauth_redirect``, ``/healthz``), sent what no honest client
sends, through ``timebot run``: never a 500, never a traceback, a bounded log, bounded writes."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.vendors.whosoff import webhook_signature
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from tests.deploy.attacks import (
    MAX_LOG_LINE,
    WEBHOOK_HEADER,
    WEBHOOK_SECRET,
    all_rows,
    base_env,
    start_with_consent,
    whosoff_company,
    whosoff_env,
)
from tests.deploy.harness import Deployed
from tests.support import SIGNING_SECRET

PATHS = ("/slack/events", "/webhooks/whosoff", "/slack/oauth/start", "/slack/oauth_redirect", "/healthz")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND")
QUERIES = (
    "",
    "?",
    "?a",
    "?%ZZ=%",
    "?x=" + "a" * 6000,
    "?error=access_denied%0d%0aFAKE%20LINE",
    "?state=%00&code=%ff%fe",
    "?team=%E2%80%AE&state=a.b.c&state=d.e.f",
    "?code=c&state=" + "s." * 500,
    "?error=&state=&code=",
    "?a[]=1&a[]=2&%5B%5D=%5D",
)
DEEP = b"[" * 100_000 + b"]" * 100_000
BODIES = (
    b"",
    b"{",
    b"null",
    b"[]",
    b"\xff\xfe\xfd",
    b"payload=%ZZ",
    b"payload=" + b"%7B" * 5000,
    b"token=x&command=/timebot&text=" + b"%00" * 100,
    DEEP,
    b'{"event_id":' * 50_000,
)
GARBAGE_HEADERS: tuple[dict[str, bytes], ...] = (
    {},
    {"X-Slack-Signature": "v0=caf\u00e9".encode(), "X-Slack-Request-Timestamp": b"\xc3\xa9"},
    {"X-Slack-Signature": b"v0=" + b"0" * 64, "X-Slack-Request-Timestamp": b"9" * 40},
    {"X-Slack-Signature": b"", "X-Slack-Request-Timestamp": b"-1"},
    {WEBHOOK_HEADER: "sha256=\u00ff\u00fe".encode("latin-1")},
    {WEBHOOK_HEADER: b"sha256=" + b"A" * 5000},
    {"Cookie": b"slack-app-oauth-state=\xff\xfe; x=" + b"y" * 3000},
    {"Content-Type": b"multipart/form-data; boundary=\xff"},
)
RAW_REQUESTS = (
    b"POST /webhooks/whosoff HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
    b"POST /webhooks/whosoff HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{}",
    b"GET /slack/oauth/start HTTP/1.1\r\nHost: x\r\nCookie: \xff\xfe\xfd\r\n\r\n",
    b"GET /slack/oauth_redirect?error=a%0d%0ab HTTP/1.1\r\nHost: \xc3\xa9\r\n\r\n",
    b"GET /healthz\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /slack/oauth/start?\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello on the plain port
    b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n",
)


@pytest.fixture
def bot(tmp_path: Path, slack: SlackStandIn, secret_key: str) -> Iterator[Deployed]:
    with SimServer(whosoff_company().handle, name="whosoff") as server:
        deployed = start_with_consent(base_env(slack, tmp_path, secret_key, **whosoff_env(server)), slack, tmp_path)
        yield deployed
        deployed.terminate()


def slack_signed(body: bytes) -> dict[str, bytes]:
    ts = str(int(time.time()))
    mac = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={mac}".encode(), "X-Slack-Request-Timestamp": ts.encode()}


def raw(bot: Deployed, request: bytes) -> int:
    """Send bytes as they are; the status the server answers (0 when it closes, or waits for more
    as it does after a TLS hello: a second is plenty on loopback, and no answer is no 500)."""
    with socket.create_connection(("127.0.0.1", bot.port or 0), timeout=10) as sock:
        sock.sendall(request)
        sock.settimeout(1.0)
        try:
            head = sock.recv(64)
        except (ConnectionResetError, TimeoutError):
            return 0
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def test_malformed_requests_to_every_anonymous_surface_get_no_500_no_traceback_and_write_little(
    bot: Deployed, tmp_path: Path
) -> None:
    rows_before = sum(all_rows(tmp_path).values())
    lines_before = len(bot.log.splitlines())
    statuses: list[tuple[str, int]] = []
    with httpx.Client(base_url=bot.url, timeout=20) as client:
        for path in PATHS:
            for method in METHODS:
                for query in QUERIES:
                    statuses.append((f"{method} {path}{query[:40]}", client.request(method, path + query).status_code))
            for headers in GARBAGE_HEADERS:  # each header set with a few bodies, each body with no header
                for body in (b"", b"{", DEEP):
                    answer = client.request("POST", path, content=body, headers=headers)
                    statuses.append((f"POST {path} {list(headers)} {body[:20]!r}", answer.status_code))
                statuses.append((f"GET {path} {list(headers)}", client.get(path, headers=headers).status_code))
            for body in BODIES:
                statuses.append((f"POST {path} {body[:20]!r}", client.post(path, content=body).status_code))
            for body in BODIES:  # signed as Slack would, and as WhosOff would: still nothing Timebot can use
                signed = {**slack_signed(body), WEBHOOK_HEADER: webhook_signature(WEBHOOK_SECRET, body).encode()}
                statuses.append(
                    (f"signed {path} {body[:20]!r}", client.post(path, content=body, headers=signed).status_code)
                )
        huge = client.post("/slack/events", content=b"x" * (2 << 20))
        statuses.append(("POST /slack/events 2 MiB", huge.status_code))
        odd = json.dumps(
            {
                "event_id": ["x"] * 10,
                "created_At": {"a": 1},
                "event_type": "leave.updated",
                "data": {"id": [1], "status": {"x": 1}},
            }
        ).encode()
        statuses.append(
            (
                "odd event",
                client.post(
                    "/webhooks/whosoff", content=odd, headers={WEBHOOK_HEADER: webhook_signature(WEBHOOK_SECRET, odd)}
                ).status_code,
            )
        )
    for request in RAW_REQUESTS:
        statuses.append((f"raw {request[:40]!r}", raw(bot, request)))

    assert bot.alive()
    assert httpx.get(f"{bot.url}/healthz", timeout=10).status_code == 200
    failed = [(what, status) for what, status in statuses if status >= 500]
    assert failed == []
    log = bot.log
    assert "Traceback" not in log, log[-4000:]
    lines = log.splitlines()[lines_before:]
    assert max((len(line) for line in lines), default=0) <= MAX_LOG_LINE
    assert len(lines) <= 2 * len(statuses), f"{len(lines)} log lines for {len(statuses)} requests"
    grown = sum(all_rows(tmp_path).values()) - rows_before
    assert grown <= 50, all_rows(tmp_path)
