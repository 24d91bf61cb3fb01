"""Leave from typed text in the deployed bot (``timebot run``, configured by its environment):
clear text is filed at the vendor at once and Undo withdraws it; text without a kind opens the
form filled in; ``TIMEBOT_DATE_ORDER`` decides what ``9/1`` means."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from handlers import ids
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.harness import Deployed, slack_env, start
from tests.deploy.stand_ins import Running, command, link_timeclock, one_deployment_per_module, running
from tests.support import next_monday

tmp_path, slack = one_deployment_per_module("typed_leave")


@pytest.fixture(scope="module")
def timeclock() -> Iterator[Running]:
    with running("timeclock", TimeClockSim.demo()) as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def bot(tmp_path: Path, slack: SlackStandIn, timeclock: Running) -> Iterator[Deployed]:
    env = {**slack_env(slack, tmp_path, Fernet.generate_key().decode()), **timeclock.env, "TIMEBOT_DATE_ORDER": "dmy"}
    deployed = start(env, tmp_path)
    link_timeclock(deployed.driver(slack), slack, f"1{timeclock.sim.users[1].pin}")
    yield deployed
    deployed.terminate()


@pytest.fixture(autouse=True)
def _no_leave_before(timeclock: Running) -> None:
    timeclock.sim.off_times.clear()


def a_working_day(weeks_ahead: int, *, reads_two_ways: bool = False) -> date:
    """A Wednesday some weeks ahead; ``reads_two_ways``: one whose ``day/month`` is a real day read
    either way round (a different one), so only the configured order picks it."""
    day = next_monday() + timedelta(days=7 * weeks_ahead + 2)
    while reads_two_ways and not (day.day <= 12 and day.day != day.month):
        day += timedelta(days=7)
    return day


def reply_with(slack: SlackStandIn, key: str, needle: str) -> dict[str, Any]:
    return slack.wait_for(lambda: next((r for r in slack.responses[key] if needle in r.get("text", "")), None), 20)  # type: ignore[no-any-return]


def test_clear_text_is_filed_at_once_and_undo_withdraws_it(
    bot: Deployed, slack: SlackStandIn, timeclock: Running
) -> None:
    day = a_working_day(3)
    _, key = command(bot.driver(slack), "/timeoff", f"vacation {day:%b} {day.day}")
    reply = reply_with(slack, key, "Leave requested in TimeClock")
    [off] = timeclock.sim.off_times.values()
    assert (off["start_at"], str(off["type"])) == (day.isoformat(), "1")
    undo = next(e for b in reply["blocks"] for e in b.get("elements", []) if e.get("action_id") == ids.LEAVE_UNDO)
    bot.driver(slack).click(ids.LEAVE_UNDO, value=undo["value"], container="message")
    slack.wait_for(lambda: not timeclock.sim.off_times, 20)


def test_a_numeric_date_reads_in_the_configured_order(bot: Deployed, slack: SlackStandIn, timeclock: Running) -> None:
    day = a_working_day(4, reads_two_ways=True)
    _, key = command(bot.driver(slack), "/timeoff", f"vac {day.day}/{day.month}")
    reply_with(slack, key, "Leave requested in TimeClock")
    assert [o["start_at"] for o in timeclock.sim.off_times.values()] == [day.isoformat()]


def test_text_without_a_kind_opens_the_form_filled_in(bot: Deployed, slack: SlackStandIn, timeclock: Running) -> None:
    day = a_working_day(5)
    before = len(slack.calls_to("views.update"))
    command(bot.driver(slack), "/timeoff", f"{day:%d %B} morning")
    view = slack.wait_call("views.update", before + 1, timeout=20)[-1].args["view"]
    assert view["callback_id"] == ids.LEAVE_CALLBACK
    start = next(b["element"]["initial_date"] for b in view["blocks"] if b.get("block_id") == "start")
    assert start == day.isoformat()
    assert "Which type of leave is it?" in json.dumps(view["blocks"])
    assert not timeclock.sim.off_times
