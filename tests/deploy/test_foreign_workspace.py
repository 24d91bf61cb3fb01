"""A request from a workspace other than the bot token's (another install of the same app) gets
one line and nothing else: no vendor call, no row written. TIMEBOT_ALLOWED_TEAMS lets it through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.bolt import FOREIGN_WORKSPACE
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from sandbox.whosoff import WhosOffSim
from tests.deploy.harness import Deployed, slack_env, start
from tests.deploy.stand_ins import Running, answers, command, row_counts, running, wait_answer

OTHER_TEAM = "T9"


@pytest.fixture
def whosoff() -> Iterator[Running]:
    sim = WhosOffSim.demo()
    grace = next(u.user_id for u in sim.users.values() if u.email_address == "grace@example.com")
    sim.add_leave(grace, sim.today(), leave_type="Annual Leave")
    with running("whosoff", sim) as wo:
        yield wo


@pytest.fixture
def timeclock() -> Iterator[Running]:
    with running("timeclock", TimeClockSim.demo()) as tc:
        yield tc


def deploy(tmp_path: Path, slack: SlackStandIn, secret_key: str, vendor: Running, **more: str) -> Deployed:
    # no scheduler: the vendor's request count moves only for what a command does
    env = {**slack_env(slack, tmp_path, secret_key), **vendor.env, "TIMEBOT_SCHEDULER": "false", **more}
    return start(env, tmp_path)


def refused_with_one_line(bot: Deployed, slack: SlackStandIn, vendor: Running, name: str, text: str = "") -> None:
    database = f"sqlite:///{bot.log_path.parent / 'timebot.db'}"
    rows, calls = row_counts(database), vendor.requests
    body, key = command(bot.driver(slack), name, text, team=OTHER_TEAM)
    assert body == ""
    assert slack.responses[key] == [{"text": FOREIGN_WORKSPACE}]
    assert vendor.requests == calls
    assert row_counts(database) == rows


def test_whosoff_from_another_workspace_reads_no_leave(
    tmp_path: Path, slack: SlackStandIn, whosoff: Running, secret_key: str
) -> None:
    bot = deploy(tmp_path, slack, secret_key, whosoff)
    try:
        refused_with_one_line(bot, slack, whosoff, "/whosoff", "today")
        _, key = command(bot.driver(slack), "/whosoff", "today")  # the bot's own workspace still sees it
        wait_answer(slack, key, "Grace Hopper")
    finally:
        assert bot.terminate() == 0, bot.log[-2000:]


def test_clockin_from_another_workspace_writes_nothing(
    tmp_path: Path, slack: SlackStandIn, timeclock: Running, secret_key: str
) -> None:
    bot = deploy(tmp_path, slack, secret_key, timeclock)
    try:
        refused_with_one_line(bot, slack, timeclock, "/clockin")
        assert timeclock.sim.sessions == {}
    finally:
        assert bot.terminate() == 0, bot.log[-2000:]


def test_an_allowed_workspace_reads_whosoff(
    tmp_path: Path, slack: SlackStandIn, whosoff: Running, secret_key: str
) -> None:
    bot = deploy(tmp_path, slack, secret_key, whosoff, TIMEBOT_ALLOWED_TEAMS=f"E7,{OTHER_TEAM}")
    try:
        _, key = command(bot.driver(slack), "/whosoff", "today", team=OTHER_TEAM)
        wait_answer(slack, key, "Grace Hopper")
        assert FOREIGN_WORKSPACE not in " ".join(answers(slack, key))
    finally:
        assert bot.terminate() == 0, bot.log[-2000:]


def test_an_allowed_workspace_reaches_timeclock(
    tmp_path: Path, slack: SlackStandIn, timeclock: Running, secret_key: str
) -> None:
    bot = deploy(tmp_path, slack, secret_key, timeclock, TIMEBOT_ALLOWED_TEAMS=OTHER_TEAM)
    try:
        body, key = command(bot.driver(slack), "/clockin", team=OTHER_TEAM)
        # served: nobody there has linked TimeClock yet, so the bot says how to
        said = body + " ".join(answers(slack, key)) or slack.wait_for(lambda: answers(slack, key))
        assert FOREIGN_WORKSPACE not in str(said) and "link" in str(said).lower()
    finally:
        assert bot.terminate() == 0, bot.log[-2000:]
