"""``/timeoff`` with typed text, as Slack sends it: clear text is filed at the vendor at once and
can be undone; text with a doubt opens the form filled in, saying what was understood."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import start_digest_bot, user_id
from tests.conftest import BotUnderTest
from tests.e2e.test_what_people_see import ada_pin, field, link
from tests.support import next_monday


def button(reply: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(e for b in reply.get("blocks") or [] for e in b.get("elements", []) if e.get("action_id") == action_id)


def test_clear_text_files_the_leave_at_the_vendor_at_once_and_opens_no_form(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    day = next_monday() + timedelta(days=14)
    _, key = bot.driver.command("/timeoff", f"vacation {day:%d %b %Y}")
    [reply] = slack.wait_response(key)
    assert "Leave requested in TimeClock" in reply["text"]
    [off] = tc_sim.off_times.values()
    assert (off["start_at"], off["end_at"], str(off["type"])) == (day.isoformat(), day.isoformat(), "1")
    assert not slack.calls_to("views.open")


def test_undo_cancels_the_leave_just_sent(bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    day = next_monday() + timedelta(days=14)
    _, key = bot.driver.command("/timeoff", f"vac {day.isoformat()}")
    [reply] = slack.wait_response(key)
    undo = button(reply, ids.LEAVE_UNDO)
    assert json.loads(undo["value"])["id"] in {str(i) for i in tc_sim.off_times}
    bot.driver.click(ids.LEAVE_UNDO, value=undo["value"], container="message")
    slack.wait_for(lambda: not tc_sim.off_times)
    slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if "ancel" in c.args["text"]])


def test_text_whose_days_read_two_ways_opens_the_form_filled_in_and_says_so(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    bot.driver.command("/timeoff", "vacation 12/07")
    [opened] = slack.wait_call("views.open")
    assert opened.args["view"]["title"]["text"] == "Request leave"
    view = slack.wait_call("views.update")[0].args["view"]
    assert view["callback_id"] == ids.LEAVE_CALLBACK
    assert field(view, "leave_type") == "Vacation"
    assert "“12/07” could be" in json.dumps(view["blocks"], ensure_ascii=False)
    assert not tc_sim.off_times


def test_text_without_a_kind_opens_the_form_on_its_days(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    bot.driver.command("/timeoff", f"{monday + timedelta(days=14)} afternoon")
    view = slack.wait_call("views.update")[0].args["view"]
    assert field(view, "start") == (monday + timedelta(days=14)).isoformat()
    assert field(view, "start_portion") == "Afternoon only"
    assert "Which type of leave is it?" in json.dumps(view["blocks"])
    assert not tc_sim.off_times


def test_a_kind_the_vendor_has_no_type_for_sends_nothing_and_offers_the_form(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    day = next_monday() + timedelta(days=14)
    _, key = bot.driver.command("/timeoff", f"sick {day.isoformat()}")
    [reply] = slack.wait_response(key)
    assert "TimeClock has no leave type called “sick”" in reply["text"]
    assert not tc_sim.off_times
    bot.driver.click(ids.TYPED_LEAVE_FORM, value=button(reply, ids.TYPED_LEAVE_FORM)["value"], container="message")
    view = slack.wait_call("views.update")[0].args["view"]
    assert (field(view, "start"), field(view, "leave_type")) == (day.isoformat(), "Other time off")


def test_a_kind_naming_no_type_opens_the_form_at_once_once_the_types_are_known(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    bot.driver.command("/timeoff")  # the empty form: its types are read, and kept
    slack.wait_call("views.update")
    day = next_monday() + timedelta(days=14)
    _, key = bot.driver.command("/timeoff", f"sick {day.isoformat()}")
    view = slack.wait_call("views.update", 2)[-1].args["view"]
    assert (field(view, "start"), field(view, "leave_type")) == (day.isoformat(), "Other time off")
    assert "Which type of leave is it?" in json.dumps(view["blocks"])
    assert not slack.responses[key] and not tc_sim.off_times


@pytest.fixture
def wo_bot(tmp_path: Path, slack: SlackStandIn, wo_server: SimServer) -> Iterator[BotUnderTest]:
    bot = start_digest_bot(tmp_path, slack, wo_server)
    yield bot
    bot.close()


def test_clear_text_files_the_leave_in_whosoff_with_the_type_its_words_name(
    wo_bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    day = next_monday() + timedelta(days=14)
    _, key = wo_bot.driver.command("/timeoff", f"sickness {day:%d %b %Y}")
    [reply] = slack.wait_response(key)
    assert "Leave requested in WhosOff" in reply["text"], reply["text"]
    [leave] = [x for x in wo_sim.leave.values() if x.user_id == user_id(wo_sim, "ada@example.com")]
    sickness = next(t.leave_type_id for t in wo_sim.leave_types.values() if t.name == "Sickness")
    assert leave.leave_type_id == sickness
    assert not slack.calls_to("views.open")
