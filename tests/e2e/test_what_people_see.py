"""What a person reads, end to end over real HTTP (Slack stand-in -> bot -> TimeClock simulator):
typed words honoured, one meaning of "week", one date style, one leave list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from handlers.render import blocks
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import BotUnderTest
from tests.support import next_monday

FRIDAY_NOON = datetime(2026, 12, 4, 12, 0, tzinfo=ZoneInfo("Europe/London"))


def link(bot: BotUnderTest, user: str, pin: str) -> None:
    services = bot.runtime.services
    services.people.link(services.people.actor("T0DEMO", user), "timeclock", {"pin": pin})


def ada_pin(sim: TimeClockSim) -> str:
    return f"1{sim.users[1].pin}"


def leave_form(bot: BotUnderTest, slack: SlackStandIn, text: str) -> dict[str, Any]:
    """The leave form ``/timeoff text`` opens, once the vendor's types are in."""
    bot.driver.command("/timeoff", text)
    return slack.wait_call("views.update")[0].args["view"]  # type: ignore[no-any-return]


def reply_text(slack: SlackStandIn, key: str) -> str:
    [reply] = slack.wait_response(key)
    return "\n".join(b["text"]["text"] for b in reply["blocks"] if b.get("text")) + "\n" + "\n".join(
        e["text"] for b in reply["blocks"] for e in b.get("elements", []) if isinstance(e.get("text"), str))


def field(view: dict[str, Any], block_id: str) -> Any:
    element = next(b["element"] for b in view["blocks"] if b.get("block_id") == block_id)
    if element["type"] == "datepicker":
        return element["initial_date"]
    return element["initial_option"]["text"]["text"]


# --- /timeoff with typed words ----------------------------------------------------------------


def test_timeoff_with_a_date_opens_the_form_on_that_date(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    day = next_monday() + timedelta(days=14)
    view = leave_form(bot, slack, day.isoformat())
    assert view["callback_id"] == blocks.LEAVE_CALLBACK
    assert (field(view, "start"), field(view, "end")) == (day.isoformat(), day.isoformat())


def test_timeoff_with_a_range_and_half_end_fills_both_days_and_a_morning_only_last_day(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    view = leave_form(bot, slack, f"{monday}..{monday + timedelta(days=1)} half-end")
    assert (field(view, "start"), field(view, "end")) == (monday.isoformat(), (monday + timedelta(days=1)).isoformat())
    assert (field(view, "start_portion"), field(view, "end_portion")) == ("Full day", "Morning only")


def test_timeoff_with_part_of_a_type_name_chooses_that_type(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    view = leave_form(bot, slack, f"{next_monday()} other")
    assert field(view, "leave_type") == "Other time off"


def test_timeoff_sick_on_timeclock_says_it_has_no_sick_type_and_offers_its_closest(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    view = leave_form(bot, slack, f"{next_monday()} sick")
    assert field(view, "leave_type") == "Other time off"
    assert "TimeClock has no “sick” leave type" in str(view["blocks"])


def test_timeoff_with_words_that_are_not_days_answers_in_the_ack_and_opens_nothing(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    response, _ = bot.driver.command("/timeoff", "2026-13-01")
    assert "isn't a real date" in response.text
    assert not slack.calls_to("views.open")


def test_timeoff_list_still_lists_the_persons_leave(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    _, key = bot.driver.command("/timeoff", "list")
    assert "Your leave" in str(slack.wait_response(key)[-1])
    assert not slack.calls_to("views.open")




# --- one meaning of "week" ------------------------------------------------------------------


def test_whosoff_week_on_a_friday_is_that_working_week_monday_to_friday(world_factory) -> None:
    world = world_factory(FRIDAY_NOON)
    world.link("U0ADA", 1)
    _, key = world.bot.driver.command("/whosoff", "week")
    text = reply_text(world.slack, key)
    assert f"{blocks.fmt_day(date(2026, 11, 30))} to {blocks.fmt_day(date(2026, 12, 4))}" in text


def test_hours_week_on_a_friday_is_the_same_working_week(world_factory) -> None:
    world = world_factory(FRIDAY_NOON)
    world.link("U0ADA", 1)
    world.sim.add_session(1, datetime(2026, 11, 30, 9, tzinfo=UTC).timestamp(),
                          datetime(2026, 11, 30, 17, tzinfo=UTC).timestamp())
    _, key = world.bot.driver.command("/timebot", "hours week")
    text = reply_text(world.slack, key)
    assert f"{blocks.fmt_day(date(2026, 11, 30))} to {blocks.fmt_day(date(2026, 12, 4))}" in text


def test_a_weekly_digest_posted_on_a_friday_shows_that_working_week(world_factory) -> None:
    world = world_factory(FRIDAY_NOON, TIMEBOT_ADMINS="U0ADA")
    world.link("U0ADA", 1)
    world.slack.add_channel("C0TEAM", "team", ["U0ADA"])
    _, key = world.bot.driver.command("/timebot", "digest add <#C0TEAM|team> fri 09:00 weekly")
    world.slack.wait_response(key)
    _, key = world.bot.driver.command("/timebot", "digest preview <#C0TEAM|team>")
    text = str(world.slack.wait_response(key))
    assert "Mon 30 Nov – Fri 04 Dec" in text


def test_whosoff_tomorrow_on_a_friday_says_saturday_is_a_weekend_and_shows_monday(world_factory) -> None:
    world = world_factory(FRIDAY_NOON)
    world.link("U0ADA", 1)
    _, key = world.bot.driver.command("/whosoff", "tomorrow")
    text = reply_text(world.slack, key)
    assert f"{blocks.fmt_day(date(2026, 12, 5))} is a weekend" in text
    assert f"Who's off on {blocks.fmt_day(date(2026, 12, 7))}" in text
