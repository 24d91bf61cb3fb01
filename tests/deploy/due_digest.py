"""The deployment suite's two-replica scenario, whatever started the replicas: two ``timebot run``
on one PostgreSQL database, a digest already due when they start. Both serve Slack's requests and
the digest is posted exactly once.

``a_due_digest`` starts the stand-ins (Slack, WhosOff) and gives the environment the replicas need
besides their database; ``DueDigest.seed`` readies the database (migrated, the company's people, a
due subscription); ``both_serve_and_post_the_due_digest_once`` checks two running replicas and
stops them. tests/deploy/test_postgres.py runs it on two subprocesses, tests/deploy/test_container.py on
compose.yaml's two containers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sandbox.driver import SlackDriver
from sandbox.people import DEMO_PEOPLE
from sandbox.server import Request, Response, SimServer
from sandbox.slack import SlackStandIn
from tests.bot.digests.support import (
    ADMIN,
    APP_ID,
    CHANNEL,
    CLIENT_SECRET,
    SERVICE_EMAIL,
    SERVICE_PASSWORD,
    company,
    migrated,
    posts,
    runs,
    seed_demo_people,
    subscribe,
    wait_until,
)
from tests.support import BOT_TOKEN, SIGNING_SECRET


class Replica(Protocol):
    """A started ``timebot run``: a subprocess (tests/deploy/harness.py ``Deployed``) or a container."""

    @property
    def log(self) -> str: ...

    def driver(self, slack: SlackStandIn) -> SlackDriver: ...

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM; the exit code."""
        ...


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


@dataclass
class DueDigest:
    slack: SlackStandIn
    held: HeldPosts
    env: dict[str, str]
    """What both replicas are given besides DATABASE_URL: Slack's tokens and URL, the secret key,
    the admin, WhosOff's settings."""
    engine: Any = None

    def seed(self, database_url: str) -> None:
        """``database_url`` migrated, with the demo company's people and a digest due ten minutes ago:
        each replica's start-up catch-up finds it."""
        self.engine = migrated(database_url)
        seed_demo_people(self.engine)
        tz = a_zone_in_daytime()
        due = datetime.now(ZoneInfo(tz)) - timedelta(minutes=10)
        subscribe(self.engine, hour=due.hour, minute=due.minute, tz=tz, since=datetime.now(UTC) - timedelta(days=2))


def a_zone_in_daytime() -> str:
    """A zone where it is past 01:00 and before 23:00, so "ten minutes ago" is still today there."""
    now = datetime.now(UTC)
    return next(tz for tz in ("UTC", "Asia/Tokyo", "America/New_York") if 1 <= now.astimezone(ZoneInfo(tz)).hour < 23)


@contextmanager
def a_due_digest(secret_key: str) -> Iterator[DueDigest]:
    """The stand-ins: Slack (holding the digest's post) with the digest's channel, and WhosOff with the
    demo company. The database comes next (``DueDigest.seed``), then the replicas."""
    wo_server = SimServer(company().handle, name="whosoff").start()
    held = HeldPosts()
    slack = SlackStandIn.demo(BOT_TOKEN)
    slack.server = SimServer(held.wrap(slack.handle), name="slack").start()
    slack.add_channel(CHANNEL, "digest", [p.slack_id for p in DEMO_PEOPLE])
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "TIMEBOT_SECRET_KEY": secret_key,
        "TIMEBOT_ADMINS": ADMIN,
        "WHOSOFF_BASE_URL": wo_server.base_url,
        "WHOSOFF_APP_ID": APP_ID,
        "WHOSOFF_CLIENT_SECRET": CLIENT_SECRET,
        "WHOSOFF_USERNAME": SERVICE_EMAIL,
        "WHOSOFF_PASSWORD": SERVICE_PASSWORD,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
    }
    digest = DueDigest(slack, held, env)
    try:
        yield digest
    finally:
        held.release.set()
        slack.stop()
        wo_server.stop()
        if digest.engine is not None:
            digest.engine.dispose()


def both_serve_and_post_the_due_digest_once(digest: DueDigest, replicas: Sequence[Replica]) -> None:
    """Two running replicas: one posts the due digest while the other finds it claimed; both answer a
    signed ``/timebot help``; both stop cleanly on SIGTERM; Slack got one post and the run is sent."""
    slack, held = digest.slack, digest.held
    try:
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
    assert codes == [0, 0], [r.log[-2000:] for r in replicas]
    assert len(posts(slack)) == 1
    assert sorted("posted: " in r.log for r in replicas) == [False, True]
    [run] = runs(digest.engine)
    assert run.status == "sent"
