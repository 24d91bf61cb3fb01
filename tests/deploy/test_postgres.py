"""Two replicas on one PostgreSQL database, as a Deployment with ``replicas: 2`` runs them: both
serve Slack's requests, and a claimed job (a digest that is due) is done by exactly one of them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sandbox.people import DEMO_PEOPLE
from sandbox.server import Request, Response, SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import (
    ADMIN,
    APP_ID,
    CHANNEL,
    CLIENT_SECRET,
    SERVICE_EMAIL,
    SERVICE_PASSWORD,
    company,
    migrated,
    postgres_url,  # noqa: F401 - fixture
    posts,
    runs,
    seed_demo_people,
    subscribe,
    wait_until,
)
from tests.deploy.harness import Deployed, launch, slack_env, wait_running
from tests.support import BOT_TOKEN


class HeldPosts:
    """Slack holding the digest's ``chat.postMessage`` (recorded, not yet answered) until released:
    the winner keeps its claim while the other replica reaches the same digest."""

    def __init__(self) -> None:
        self.seen = threading.Event()
        self.release = threading.Event()

    def wrap(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def held(request: Request) -> Response:
            response = handler(request)
            if request.path.endswith("chat.postMessage") and CHANNEL.encode() in request.body:
                self.seen.set()
                self.release.wait(30)
            return response

        return held


@pytest.fixture
def whosoff() -> Iterator[tuple[WhosOffSim, SimServer]]:
    sim = company()
    server = SimServer(sim.handle, name="whosoff").start()
    yield sim, server
    server.stop()


def a_zone_in_daytime() -> str:
    """A zone where it is past 01:00 and before 23:00, so "ten minutes ago" is still today there."""
    now = datetime.now(UTC)
    return next(tz for tz in ("UTC", "Asia/Tokyo", "America/New_York") if 1 <= now.astimezone(ZoneInfo(tz)).hour < 23)


def test_two_replicas_on_one_postgresql_database_both_serve_and_post_a_due_digest_once(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
    whosoff: tuple[WhosOffSim, SimServer],
    secret_key: str,
) -> None:
    _, wo_server = whosoff
    held = HeldPosts()
    slack = SlackStandIn.demo(BOT_TOKEN)
    slack.server = SimServer(held.wrap(slack.handle), name="slack").start()
    slack.add_channel(CHANNEL, "digest", [p.slack_id for p in DEMO_PEOPLE])
    engine = migrated(postgres_url)
    seed_demo_people(engine)
    tz = a_zone_in_daytime()
    due = datetime.now(ZoneInfo(tz)) - timedelta(minutes=10)  # due, unposted: each replica's start-up catch-up
    subscribe(engine, hour=due.hour, minute=due.minute, tz=tz, since=datetime.now(UTC) - timedelta(days=2))
    env = {
        **slack_env(slack, tmp_path, secret_key),
        "DATABASE_URL": postgres_url,
        "TIMEBOT_ADMINS": ADMIN,
        "WHOSOFF_BASE_URL": wo_server.base_url,
        "WHOSOFF_APP_ID": APP_ID,
        "WHOSOFF_CLIENT_SECRET": CLIENT_SECRET,
        "WHOSOFF_USERNAME": SERVICE_EMAIL,
        "WHOSOFF_PASSWORD": SERVICE_PASSWORD,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
    }
    replicas: list[Deployed] = [launch(env, tmp_path, name=f"replica{i}") for i in range(2)]
    try:
        for replica in replicas:
            wait_running(replica)
        assert held.seen.wait(30), "no replica posted the due digest"
        wait_until(
            lambda: any("not posted by this process" in r.log for r in replicas),
            timeout=30,
            what="the other replica to find the digest claimed",
        )
        held.release.set()
        wait_until(lambda: any("posted: " in r.log for r in replicas), timeout=30, what="the post to be recorded")
        for replica in replicas:
            response, key = replica.driver(slack).command("/timebot", "help")
            assert response.status_code == 200
            assert "/whosoff" in response.text or "/whosoff" in slack.wait_response(key)[-1]["text"]
    finally:
        held.release.set()
        codes = [replica.terminate() for replica in replicas]
        slack.stop()
    assert codes == [0, 0], [r.log[-2000:] for r in replicas]
    assert len(posts(slack)) == 1
    assert sorted("posted: " in r.log for r in replicas) == [False, True]
    [run] = runs(engine)
    assert run.status == "sent"
