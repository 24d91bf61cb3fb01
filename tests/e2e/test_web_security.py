"""The HTTP front door: nothing happens for a request that fails Slack's signature check,
whatever way it fails; the body is read only when small and parsed only once signed; a response_url
is used only on Slack's host; /readyz tells whether the database takes writes. All over real HTTP."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest

from bot.slack.signing import response_url_allowed
from sandbox.server import Response, SimServer
from sandbox.slack import SlackStandIn
from tests.conftest import BotUnderTest
from tests.storage.conftest import PG, pg_schema  # read before the autouse fixture clears TIMEBOT_*
from tests.support import SIGNING_SECRET, TEAM, signature

FORM = "application/x-www-form-urlencoded"
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())


@pytest.fixture
def elsewhere() -> Iterator[SimServer]:
    """A server that is not Slack, recording whatever reaches it."""
    with SimServer(lambda _request: Response.text("ok"), name="elsewhere") as server:
        yield server


def click_body(response_url: str) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": "U300", "team_id": TEAM},
        "api_app_id": "A0TIMEBOT",
        "trigger_id": f"1.2.{time.time_ns()}",
        "response_url": response_url,
        "container": {"type": "message"},
        "actions": [{"action_id": "home_clock_in", "value": ""}],
    }
    return "payload=" + quote(json.dumps(payload))


def now() -> str:
    return str(int(time.time()))


@dataclass
class Unsigned:
    name: str
    headers: dict[str, bytes]


def _no_prefix(body: str) -> dict[str, bytes]:
    ts = now()
    return {
        "X-Slack-Request-Timestamp": ts.encode(),
        "X-Slack-Signature": signature(SIGNING_SECRET, ts, body).removeprefix("v0=").encode(),
    }


UNSIGNED = [
    Unsigned("a timestamp that is not a number", {"X-Slack-Request-Timestamp": b"soon", "X-Slack-Signature": b"v0=00"}),
    Unsigned("a non-ASCII signature", {"X-Slack-Request-Timestamp": b"", "X-Slack-Signature": "v0=été".encode()}),
    Unsigned("an empty signature", {"X-Slack-Request-Timestamp": b"", "X-Slack-Signature": b""}),
    Unsigned("a signature without v0=", {}),
    Unsigned("no signature headers at all", {}),
]


@pytest.mark.parametrize("unsigned", UNSIGNED, ids=[u.name for u in UNSIGNED])
@pytest.mark.parametrize("kind", ["button click", "slash command"])
def test_an_unsigned_request_gets_a_bare_401_and_nothing_is_posted_anywhere(
    bot: BotUnderTest,
    slack: SlackStandIn,
    elsewhere: SimServer,
    caplog: pytest.LogCaptureFixture,
    unsigned: Unsigned,
    kind: str,
) -> None:
    target = f"{elsewhere.base_url}/x"
    body = (
        click_body(target)
        if kind == "button click"
        else urlencode(
            {
                "team_id": TEAM,
                "user_id": "U300",
                "command": "/clockin",
                "text": "",
                "response_url": target,
                "trigger_id": f"1.2.{time.time_ns()}",
                "channel_id": "C1",
            }
        )
    )
    headers = dict(unsigned.headers)
    if unsigned.name == "a signature without v0=":
        headers = _no_prefix(body)
    elif headers.get("X-Slack-Request-Timestamp") == b"":
        headers["X-Slack-Request-Timestamp"] = now().encode()
    caplog.set_level(logging.INFO)

    response = bot.driver.http.post(bot.driver.url, content=body.encode(), headers={"Content-Type": FORM, **headers})

    assert (response.status_code, response.content) == (401, b"")
    _, control = bot.driver.command("/clockin", user="U0ALAN")  # a genuine request queued behind it
    slack.wait_response(control, timeout=20)
    time.sleep(0.3)
    assert elsewhere.requests == []
    assert [c.args.get("channel") for c in slack.calls_to("chat.postMessage")] == []
    ours = [
        r
        for r in caplog.records
        if r.name.startswith(("bot", "handlers", "slack_bolt"))
        and "U0ALAN" not in r.getMessage()
        and r.levelno >= logging.INFO
        and "ignored" not in r.getMessage()
    ]
    refused = [r for r in ours if "signature" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.INFO
    assert "U300" not in refused[0].getMessage() and target not in refused[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_a_signed_request_never_posts_to_a_response_url_outside_slack_and_dms_instead(
    bot: BotUnderTest, slack: SlackStandIn, elsewhere: SimServer
) -> None:
    fields, _ = bot.driver.make.command_fields("/clockin", user="U0ADA")
    fields["response_url"] = f"{elsewhere.base_url}/respond/x"
    assert bot.driver.post(urlencode(fields), FORM).status_code == 200

    dm = slack.wait_for(
        lambda: [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "U0ADA"], timeout=20
    )
    assert "/timebot link" in dm[0].args["text"]
    time.sleep(0.3)
    assert elsewhere.requests == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/commands/T1/1/abc", True),
        ("http://hooks.slack.com/commands/T1/1/abc", False),
        ("https://hooks.slack.com.evil.example/x", False),
        ("https://hooks.slack.com@evil.example/x", False),
        ("https://evil.example/x", False),
        ("https://hooks.slack.com:8443/x", False),
        ("https://slack.com/api/x", True),  # the origin of SLACK_API_URL
        ("", False),
    ],
)
def test_only_slacks_own_hosts_are_response_urls(url: str, allowed: bool) -> None:
    assert response_url_allowed(url, "https://slack.com/api/") is allowed


# --- verify first, parse after; refuse large bodies before reading them -----------------------


def test_a_deeply_nested_body_gets_400_signed_and_401_unsigned_without_a_traceback(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    body = "[" * 200_000
    signed = bot.driver.post(body, "application/json")
    forged = bot.driver.post(body, "application/json", secret="not-the-signing-secret")
    assert (signed.status_code, forged.status_code) == (400, 401)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def raw_exchange(port: int, head: bytes, body_chunks: Iterable[bytes] = (), wait: float = 5.0) -> bytes:
    """Send raw bytes, stop sending once the server answers or hangs up; return what it answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(head)
        with contextlib.suppress(OSError):  # the server may close before the body is all sent
            for chunk in body_chunks:
                sock.sendall(chunk)
        answer = b""
        with contextlib.suppress(TimeoutError):
            while chunk := sock.recv(4096):
                answer += chunk
                if b"\r\n\r\n" in answer:
                    break
        return answer


def test_a_declared_body_over_one_mib_gets_413_before_any_of_it_is_sent(bot: BotUnderTest) -> None:
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        b"Content-Length: 268435456\r\n\r\n"
    )
    started = time.monotonic()
    answer = raw_exchange(bot.server.port, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert time.monotonic() - started < 3


def test_a_chunked_body_over_one_mib_gets_413(bot: BotUnderTest) -> None:
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"x" * 65536
    chunks = iter([b"%x\r\n%s\r\n" % (len(piece), piece)] * 40 + [b"0\r\n\r\n"])  # 2.5 MiB
    assert raw_exchange(bot.server.port, head, chunks).startswith(b"HTTP/1.1 413")


# --- /readyz: does the database take writes? --------------------------------------------------


def health(bot: BotUnderTest) -> tuple[int, dict, float]:
    """/readyz's status, its body without the parts these tests don't look at, and how long it took."""
    started = time.monotonic()
    response = httpx.get(f"{bot.url}/readyz", timeout=30)
    body = {k: v for k, v in response.json().items() if k in {"ok", "database"}}
    return response.status_code, body, time.monotonic() - started


def test_readyz_is_503_while_another_connection_holds_the_sqlite_write_lock(bot: BotUnderTest) -> None:
    assert health(bot)[:2] == (200, {"ok": True, "database": "ok"})
    holder = sqlite3.connect(bot.runtime.engine.url.database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        status, body, took = health(bot)
    finally:
        holder.rollback()
        holder.close()
    assert (status, body) == (503, {"ok": False, "database": "write-locked"})
    assert took < 5
    assert health(bot)[:2] == (200, {"ok": True, "database": "ok"})


def test_healthz_answers_while_the_process_lives_even_when_it_is_not_ready(bot: BotUnderTest) -> None:
    holder = sqlite3.connect(bot.runtime.engine.url.database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        live = httpx.get(f"{bot.url}/healthz", timeout=30)
        ready = health(bot)
    finally:
        holder.rollback()
        holder.close()
    assert (live.status_code, live.json()) == (200, {"ok": True})
    assert ready[0] == 503


def make_read_only(path: Path) -> Iterator[None]:
    """chmod is enough for an ordinary user; root ignores it, so root marks the file immutable."""
    import os
    import subprocess

    if os.geteuid() != 0:
        path.chmod(0o444)
        yield
        path.chmod(0o644)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot make a file read-only here (root without chattr)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


def test_readyz_is_503_when_the_database_file_is_read_only(bot: BotUnderTest) -> None:
    path = Path(bot.runtime.engine.url.database or "")
    with contextlib.contextmanager(make_read_only)(path):
        bot.runtime.engine.dispose()  # new connections, as after the volume turned read-only
        status, body, took = health(bot)
    assert (status, body) == (503, {"ok": False, "database": "read-only"})
    assert took < 5


# --- log noise and shutdown -------------------------------------------------------------------


def test_a_burst_behind_busy_threads_logs_one_queue_warning_and_one_summary(
    tmp_path: Path, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bot.runtime.app import create_app
    from bot.runtime.web import HttpServer, SlackWsgi
    from tests.conftest import make_settings

    runtime = create_app(make_settings(tmp_path, slack, TIMEBOT_SCHEDULER=False), vendors={})
    server = HttpServer(
        SlackWsgi(runtime.app, runtime.engine, signing_secret=SIGNING_SECRET), "127.0.0.1", 0, threads=4
    ).start()
    holder = sqlite3.connect(runtime.engine.url.database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # every /readyz waits for the lock: the four threads stay busy
    caplog.set_level(logging.WARNING, logger="waitress.queue")
    try:
        with ThreadPoolExecutor(60) as pool:
            answers = pool.map(
                lambda _: httpx.get(f"http://127.0.0.1:{server.port}/readyz", timeout=60).status_code, range(60)
            )
            time.sleep(1.5)
            holder.rollback()
            assert set(answers) <= {200, 503}
    finally:
        holder.close()
        server.stop()
        runtime.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "waitress.queue"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("Task queue depth is")
    assert "more queue warnings" in lines[1]


def test_sigterm_stops_the_http_server_cleanly(tmp_path: Path, slack: SlackStandIn) -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import SECRET_KEY
    from tests.support import BOT_TOKEN

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "TIMEBOT_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timebot.db'}",
        "TIMEBOT_SCHEDULER": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "/slack/events" in line:  # the start-up summary names where it listens
            break
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)/slack/events", seen[-1]).group(1))  # type: ignore[union-attr]
    with httpx.Client() as idle:  # a keep-alive connection still open at SIGTERM
        assert idle.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        code = proc.wait(timeout=30)
    assert "Traceback" not in "".join(seen) + rest, rest
    assert code == 0


def test_readyz_is_503_while_a_postgresql_lock_blocks_writes() -> None:
    from slack_bolt import App
    from sqlalchemy import text

    from bot.runtime.web import HttpServer, SlackWsgi
    from storage.db import make_engine, upgrade

    with pg_schema() as connect_args:
        engine = make_engine(PG or "", connect_args=connect_args)
        upgrade(engine)
        app = App(signing_secret=SIGNING_SECRET, token="xoxb-test", token_verification_enabled=False)
        server = HttpServer(SlackWsgi(app, engine, signing_secret=SIGNING_SECRET), "127.0.0.1", 0, threads=4).start()
        url = f"http://127.0.0.1:{server.port}/readyz"
        try:
            assert httpx.get(url, timeout=30).json()["ok"] is True
            with engine.connect() as other:
                other.execute(text("LOCK TABLE alembic_version IN EXCLUSIVE MODE"))
                locked = httpx.get(url, timeout=30)
                other.rollback()
            assert (locked.status_code, locked.json()["database"]) == (503, "write-locked")
        finally:
            server.stop()
            engine.dispose()
