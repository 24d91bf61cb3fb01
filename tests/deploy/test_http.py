"""HTTP mode as deployed: ``timebot run`` configured by the environment, Slack posting signed requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.harness import healthy, slack_env, start


@pytest.fixture
def timeclock() -> Iterator[SimServer]:
    server = SimServer(TimeClockSim.demo().handle, name="timeclock").start()
    yield server
    server.stop()


def test_http_mode_answers_a_command_and_stops_on_sigterm(tmp_path: Path, slack: SlackStandIn,
                                                          timeclock: SimServer, secret_key: str) -> None:
    env = {**slack_env(slack, tmp_path, secret_key), "TIMECLOCK_BASE_URL": timeclock.base_url}
    bot = start(env, tmp_path)
    try:
        assert healthy(bot)
        driver = bot.driver(slack)
        response, key = driver.command("/timebot", "help")
        assert response.status_code == 200
        assert "/clockin" in response.text or "/clockin" in slack.wait_response(key)[-1]["text"]
    finally:
        code = bot.terminate()
    assert code == 0, bot.log[-2000:]
