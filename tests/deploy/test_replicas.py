"""Two ``timebot run`` replicas on one PostgreSQL database; the one that took a rush of clock-ins
is killed with SIGKILL halfway through. The survivor finishes or reports every accepted action,
with one answer each and no second TimeClock write. (How long it takes, against the takeover
window plus 10 s, is measured by ``bench/crash.py --replica``: tests assert no timings.)"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.harness import link_people, postgres_database, slack_env, start

N = 200
TAKEOVER = 5
_BEARER_USER = re.compile(r"^Bearer (\d+):")


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def timeclock_sim() -> TimeClockSim:
    sim = TimeClockSim()
    for i in range(1, N + 1):
        sim.add_user(i, f"Person {i}", f"p{i}@example.com", api_key=f"key-{i}")
    return sim


@pytest.fixture
def timeclock(timeclock_sim: TimeClockSim) -> Iterator[SimServer]:
    server = SimServer(timeclock_sim.handle, name="timeclock").start()
    server.faults.latency = 1.0  # every call takes a second, a write three: the rush is in flight at the kill
    server.faults.method_latency["POST"] = 2.0
    yield server
    server.stop()


def slack_id(i: int) -> str:
    return f"UP{i:04d}"


def test_the_surviving_replica_finishes_every_clock_in_of_a_replica_killed_mid_rush(
    tmp_path: Path,
    slack: SlackStandIn,
    timeclock: SimServer,
    timeclock_sim: TimeClockSim,
    secret_key: str,
    database_url: str,
) -> None:
    link_people(database_url, secret_key, [(slack_id(i), str(i), f"key-{i}") for i in range(1, N + 1)])
    env = {
        **slack_env(slack, tmp_path, secret_key),
        "DATABASE_URL": database_url,
        "TIMECLOCK_BASE_URL": timeclock.base_url,
        "TIMEBOT_TAKEOVER_SECONDS": str(TAKEOVER),
        "TIMEBOT_WORKERS": "128",
        "TIMEBOT_HYGIENE_CHECK_SECONDS": "3600",
    }
    first = start(env, tmp_path, name="replica-a")
    survivor = start(env, tmp_path, name="replica-b")
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
        time.sleep(TAKEOVER + 1)  # a second answer to anyone would come now
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
        assert all(len(timeclock_sim.running_sessions(i)) == 1 for i in range(1, N + 1))
    finally:
        first.kill()
        survivor.kill()
