"""The deployment suite's other two-replica scenario, whatever started the replicas: two ``timebot run``
on one PostgreSQL database; the one that took a rush of clock-ins is killed with SIGKILL halfway
through. The survivor finishes or reports every accepted action, with one answer each and no second
TimeClock write.

``a_rush`` starts the stand-ins (Slack, a slow TimeClock with ``N`` people) and gives the environment
the replicas need besides their database; ``Rush.seed`` links everyone in the database before the
replicas start; ``the_survivor_finishes_every_clock_in`` sends the rush to the first replica, kills
it, and checks. tests/deploy/test_replicas.py runs it on two subprocesses, tests/deploy/test_container.py
on compose.yaml's two containers. (How long it takes, against the takeover window plus 10 s, is
measured by ``bench/crash.py --replica``: tests assert no timings.)"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from sandbox.driver import SlackDriver
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.harness import link_people
from tests.support import BOT_TOKEN, SIGNING_SECRET

N = 200
TAKEOVER = 5
CONNECT_TIMEOUT, READ_TIMEOUT = 1.0, 4.0  # a 3 s write fits in them
# a takeover also waits out the vendor timeouts after the dead replica's last heartbeat
WINDOW = max(TAKEOVER * 3 / 4, TAKEOVER / 4 + CONNECT_TIMEOUT + READ_TIMEOUT)
_BEARER_USER = re.compile(r"^Bearer (\d+):")


class Replica(Protocol):
    """A started ``timebot run``: a subprocess (tests/deploy/harness.py ``Deployed``) or a container."""

    def driver(self, slack: SlackStandIn) -> SlackDriver: ...

    def kill(self) -> None:
        """SIGKILL: nothing runs on the way out, as in an OOM kill or a lost node."""
        ...


def slack_id(i: int) -> str:
    return f"UP{i:04d}"


@dataclass
class Rush:
    slack: SlackStandIn
    timeclock: SimServer
    timeclock_sim: TimeClockSim
    secret_key: str
    env: dict[str, str]
    """What both replicas are given besides DATABASE_URL."""

    def seed(self, database_url: str) -> None:
        """Everyone linked to TimeClock (with their own API key) before the replicas start."""
        link_people(database_url, self.secret_key, [(slack_id(i), str(i), f"key-{i}") for i in range(1, N + 1)])


@contextmanager
def a_rush(secret_key: str) -> Iterator[Rush]:
    sim = TimeClockSim()
    for i in range(1, N + 1):
        sim.add_user(i, f"Person {i}", f"p{i}@example.com", api_key=f"key-{i}")
    slack = SlackStandIn.demo(BOT_TOKEN).start()
    timeclock = SimServer(sim.handle, name="timeclock").start()
    timeclock.faults.latency = 1.0  # every call takes a second, a write three: the rush is in flight at the kill
    timeclock.faults.method_latency["POST"] = 2.0
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "TIMEBOT_SECRET_KEY": secret_key,
        "TIMECLOCK_BASE_URL": timeclock.base_url,
        "TIMEBOT_TAKEOVER_SECONDS": str(TAKEOVER),
        "TIMEBOT_HTTP_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "TIMEBOT_HTTP_READ_TIMEOUT": str(READ_TIMEOUT),
        "TIMEBOT_WORKERS": "128",
        "TIMEBOT_HYGIENE_CHECK_SECONDS": "3600",
    }
    try:
        yield Rush(slack, timeclock, sim, secret_key, env)
    finally:
        timeclock.stop()
        slack.stop()


def the_survivor_finishes_every_clock_in(rush: Rush, first: Replica, survivor: Replica) -> None:
    """The rush sent to ``first``, killed with writes in flight; ``survivor`` answers everyone once."""
    slack, timeclock = rush.slack, rush.timeclock
    try:
        driver = first.driver(slack)
        with ThreadPoolExecutor(16) as senders:  # the morning rush: everyone at once
            sent = list(senders.map(lambda i: driver.command("/clockin", user=slack_id(i)), range(1, N + 1)))
        assert {response.status_code for response, _ in sent} == {200}
        keys = [key for _, key in sent]
        writes_sent = lambda: sum(1 for method, path in timeclock.arrived if method == "POST")  # noqa: E731
        slack.wait_for(writes_sent, timeout=60)
        first_write = time.monotonic()
        while writes_sent() < N // 4 and time.monotonic() - first_write < 1.5:
            time.sleep(0.01)
        # Killed with writes in flight and none answered yet (a write takes 3 s here), so no answer
        # was on its way to Slack: one sent just before a kill and not yet marked done would be
        # given a second time by the takeover.
        first.kill()

        def told(key: str) -> list[str]:
            return [r.get("text", "") for r in slack.responses[key] if not r.get("text", "").startswith(":hourglass")]

        slack.wait_for(lambda: all(told(k) for k in keys), timeout=120)
        time.sleep(WINDOW + 1)  # a second answer to anyone would come now
        assert {k: told(k) for k in keys if len(told(k)) != 1} == {}
        assert all("clocked in" in told(k)[0].lower() for k in keys), {told(k)[0] for k in keys}
        posts = Counter(
            m.group(1)
            for r in timeclock.requests
            if r.method == "POST"
            and r.path == "/api/sessions"
            and (m := _BEARER_USER.match(r.headers.get("authorization", "")))
        )
        assert sorted(posts) == sorted(str(i) for i in range(1, N + 1)) and set(posts.values()) == {1}
        assert all(len(rush.timeclock_sim.running_sessions(i)) == 1 for i in range(1, N + 1))
    finally:
        first.kill()
        survivor.kill()
