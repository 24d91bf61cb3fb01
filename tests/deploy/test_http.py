"""HTTP mode as deployed: ``timebot run`` configured by the environment, Slack posting signed requests.

One process serves the whole module (a start costs seconds); each test leaves it as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography.fernet import Fernet

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.harness import Deployed, link_timeclock, replies, slack_env, start
from tests.support import BOT_TOKEN, SlackDriver


@dataclass
class World:
    slack: SlackStandIn
    sim: TimeClockSim
    timeclock: SimServer
    bot: Deployed
    driver: SlackDriver


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp_path = tmp_path_factory.mktemp("http")
    slack = SlackStandIn.demo(BOT_TOKEN).start()
    sim = TimeClockSim.demo()
    timeclock = SimServer(sim.handle, name="timeclock").start()
    env = {**slack_env(slack, tmp_path, Fernet.generate_key().decode()), "TIMECLOCK_BASE_URL": timeclock.base_url}
    bot = start(env, tmp_path)
    driver = bot.driver(slack)
    try:
        yield World(slack, sim, timeclock, bot, driver)
    finally:
        driver.close()
        code = bot.terminate()
        timeclock.stop()
        slack.stop()
    assert code == 0, bot.log[-2000:]


def test_healthz_answers_ok_while_the_database_takes_writes(world: World) -> None:
    answer = httpx.get(f"{world.bot.url}/healthz", timeout=5)
    assert answer.status_code == 200
    assert answer.json()["ok"] is True


def test_help_answers_a_signed_slash_command(world: World) -> None:
    response, key = world.driver.command("/timebot", "help")
    assert response.status_code == 200
    assert "/clockin" in response.text or "/clockin" in world.slack.wait_response(key)[-1]["text"]


def test_a_linked_person_clocks_in_and_out_through_signed_requests(world: World) -> None:
    slack, sim = world.slack, world.sim
    link_timeclock(world.driver.submit_view, slack, f"1{sim.users[1].pin}")
    response, key = world.driver.command("/clockin")
    assert response.status_code == 200
    replies(slack, key, "Clocked in")
    assert len(sim.running_sessions(1)) == 1
    response, key = world.driver.command("/clockout", "done for today")
    assert response.status_code == 200
    replies(slack, key, "Clocked out")
    assert not sim.running_sessions(1)


def test_a_request_with_a_bad_signature_is_refused_and_reaches_no_vendor(world: World) -> None:
    before = len(world.timeclock.requests)
    response, _ = world.driver.command("/clockin", user="U0ALAN", secret="not-the-signing-secret")
    assert response.status_code == 401
    assert len(world.timeclock.requests) == before
