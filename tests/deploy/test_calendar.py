"""Calendar feeds through the real ``timebot run``: beside ``/healthz`` in Socket Mode, and one
vendor read per feed however many processes share the database and however many apps poll."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from tests.bot.digests.support import (  # postgres_url: the fixture database() asks for
    APP_ID,
    CLIENT_SECRET,
    SERVICE_EMAIL,
    SERVICE_PASSWORD,
    company,
    database,
    postgres_url,  # noqa: F401
)
from tests.deploy.harness import healthy, slack_env, start
from tests.doubles.socket_mode import SocketModeStandIn
from tests.support import SocketDriver

APP_TOKEN = "xapp-1-A0TIMEBOT-1-calendar"
PUBLIC_URL = "https://timebot.example.com"


@pytest.fixture
def whosoff() -> Iterator[SimServer]:
    with SimServer(company().handle, name="whosoff") as server:
        yield server


def whosoff_env(server: SimServer) -> dict[str, str]:
    return {
        "WHOSOFF_BASE_URL": server.base_url,
        "WHOSOFF_APP_ID": APP_ID,
        "WHOSOFF_CLIENT_SECRET": CLIENT_SECRET,
        "WHOSOFF_USERNAME": SERVICE_EMAIL,
        "WHOSOFF_PASSWORD": SERVICE_PASSWORD,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
        "TIMEBOT_PUBLIC_URL": PUBLIC_URL,
        "TIMEBOT_SCHEDULER": "false",
    }


def feed_path(reply_text: str) -> str:
    [mine] = re.findall(r"https?://\S+\.ics", reply_text)
    return urlsplit(mine).path


def test_in_socket_mode_the_feeds_are_served_on_the_port_beside_healthz(
    tmp_path: Path, slack: SlackStandIn, whosoff: SimServer, secret_key: str
) -> None:
    socket = SocketModeStandIn(APP_TOKEN).start()
    slack.enable_socket_mode(socket)
    env = {**slack_env(slack, tmp_path, secret_key), **whosoff_env(whosoff), "SLACK_APP_TOKEN": APP_TOKEN}
    bot = start(env, tmp_path)
    try:
        socket.wait_connected(timeout=30)
        assert bot.port is not None and healthy(bot)
        _, key = SocketDriver(slack, socket).command("/timebot", "calendar")
        path = feed_path(slack.wait_response(key, timeout=20)[-1]["text"])
        response = httpx.get(bot.url + path, timeout=20)
        assert response.status_code == 200 and response.text.startswith("BEGIN:VCALENDAR")
        assert httpx.get(bot.url + "/calendar/" + "B" * 43 + ".ics", timeout=10).status_code == 404
    finally:
        assert bot.terminate() == 0, bot.log[-2000:]
        socket.stop()


def test_two_processes_on_postgresql_read_the_vendor_once_for_a_feed_polled_by_both(
    tmp_path: Path, slack: SlackStandIn, whosoff: SimServer, secret_key: str, request: pytest.FixtureRequest
) -> None:
    url = database("postgres", tmp_path, request)
    env = {**slack_env(slack, tmp_path, secret_key), **whosoff_env(whosoff), "DATABASE_URL": url}
    first = start(env, tmp_path, name="first")
    second = start(env, tmp_path, name="second")
    try:
        _, key = first.driver(slack).command("/timebot", "calendar")
        path = feed_path(slack.wait_response(key, timeout=20)[-1]["text"])
        whosoff.requests.clear()
        answers: list[int] = []

        def poll(url: str) -> None:
            for _ in range(10):
                answers.append(httpx.get(url + path, timeout=30).status_code)

        pollers = [threading.Thread(target=poll, args=(b.url,)) for b in (first, second, first, second)]
        for t in pollers:
            t.start()
        for t in pollers:
            t.join()
        assert answers == [200] * 40
        assert len([r for r in whosoff.requests if r.path.endswith("/whosoff/retrieve")]) == 1
    finally:
        assert first.terminate() == 0, first.log[-2000:]
        assert second.terminate() == 0, second.log[-2000:]
