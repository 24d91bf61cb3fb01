"""What a person reads, end to end over real HTTP (Slack stand-in -> bot -> TimeClock simulator):
typed words honoured, one meaning of "week", one date style, one leave list."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import start_digest_bot, user_id
from tests.conftest import BotUnderTest
from tests.support import leave_values, next_monday

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
    return (
        "\n".join(b["text"]["text"] for b in reply["blocks"] if b.get("text"))
        + "\n"
        + "\n".join(e["text"] for b in reply["blocks"] for e in b.get("elements", []) if isinstance(e.get("text"), str))
    )


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
    assert view["callback_id"] == ids.LEAVE_CALLBACK
    assert (field(view, "start"), field(view, "end")) == (day.isoformat(), day.isoformat())


def test_timeoff_with_a_range_and_half_end_fills_both_days_and_a_morning_only_last_day(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    view = leave_form(bot, slack, f"{monday}..{monday + timedelta(days=1)} half-end")
    assert (field(view, "start"), field(view, "end")) == (monday.isoformat(), (monday + timedelta(days=1)).isoformat())
    assert (field(view, "start_portion"), field(view, "end_portion")) == ("Full day", "Morning only")


def test_timeoff_with_part_of_a_type_name_chooses_that_type_on_the_form(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    view = leave_form(bot, slack, f"{next_monday()} half other")  # which half: a doubt, so the form
    assert field(view, "leave_type") == "Other time off"


def test_timeoff_sick_on_timeclock_says_on_the_form_it_has_no_sick_type_and_offers_its_closest(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    view = leave_form(bot, slack, f"{next_monday()} half sick")
    assert field(view, "leave_type") == "Other time off"
    assert "TimeClock has no “sick” leave type" in str(view["blocks"])


def test_timeoff_with_words_that_are_not_days_opens_the_form_saying_so(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    view = leave_form(bot, slack, "2026-13-01")
    assert view["callback_id"] == ids.LEAVE_CALLBACK
    assert "isn't a real date" in str(view["blocks"])


def test_timeoff_with_text_too_long_answers_in_the_ack_and_opens_nothing(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    response, _ = bot.driver.command("/timeoff", "sick " * 100)
    assert "too long" in response.text
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
    assert "Mon 30 Nov – Fri 4 Dec" in text


def test_hours_week_on_a_friday_is_the_same_working_week(world_factory) -> None:
    world = world_factory(FRIDAY_NOON)
    world.link("U0ADA", 1)
    world.sim.add_session(
        1, datetime(2026, 11, 30, 9, tzinfo=UTC).timestamp(), datetime(2026, 11, 30, 17, tzinfo=UTC).timestamp()
    )
    _, key = world.bot.driver.command("/timebot", "hours week")
    text = reply_text(world.slack, key)
    assert "Mon 30 Nov – Fri 4 Dec" in text


def test_a_weekly_digest_posted_on_a_friday_shows_that_working_week(world_factory) -> None:
    world = world_factory(FRIDAY_NOON, TIMEBOT_ADMINS="U0ADA")
    world.link("U0ADA", 1)
    world.slack.add_channel("C0TEAM", "team", ["U0ADA"])
    _, key = world.bot.driver.command("/timebot", "digest add <#C0TEAM|team> fri 09:00 weekly")
    world.slack.wait_response(key)
    _, key = world.bot.driver.command("/timebot", "digest preview <#C0TEAM|team>")
    text = str(world.slack.wait_response(key))
    assert "Mon 30 Nov – Fri 4 Dec" in text


def test_whosoff_tomorrow_on_a_friday_says_saturday_is_a_weekend_and_shows_monday(world_factory) -> None:
    world = world_factory(FRIDAY_NOON)
    world.link("U0ADA", 1)
    _, key = world.bot.driver.command("/whosoff", "tomorrow")
    text = reply_text(world.slack, key)
    assert "Sat 5 Dec is a weekend" in text
    assert "Who's off on Mon 7 Dec" in text


# --- one date style ------------------------------------------------------------------------


def test_a_leave_confirmation_reads_its_range_in_the_one_style(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    tuesday = next_monday() + timedelta(days=1)
    thursday = tuesday + timedelta(days=2)
    bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(tuesday, thursday, start_portion="pm"))
    [dm] = slack.wait_for(
        lambda: [c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args.get("text", "")]
    )
    assert f"*{fmt.day_range(tuesday, thursday)}*, 2.5 working days" in dm.args["text"]
    assert fmt.day_range(tuesday, thursday).count(" – ") == 1 and " to " not in dm.args["text"]


def test_the_cancel_message_names_a_one_day_leave_once_in_the_day_style(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    off = tc_sim.add_off_time(1, monday, monday)
    _, key = bot.driver.command("/timeoff", "list")
    [button] = [
        b["accessory"]
        for b in slack.wait_response(key)[-1]["blocks"]
        if b.get("accessory", {}).get("action_id") == "leave_cancel"
    ]
    bot.driver.click("leave_cancel", value=button["value"], container="message")
    [dm] = slack.wait_for(
        lambda: [c for c in slack.calls_to("chat.postMessage") if "Cancelled" in c.args.get("text", "")]
    )
    assert dm.args["text"] == f"Cancelled your Vacation: {fmt.day(monday)}."
    assert off["id"] not in tc_sim.off_times


# --- App Home --------------------------------------------------------------------------------


def home_text(bot: BotUnderTest, slack: SlackStandIn, user: str = "U0ADA") -> str:
    mark = len(slack.calls_to("views.publish"))
    bot.driver.event({"type": "app_home_opened", "user": user, "tab": "home"})
    published = slack.wait_for(lambda: slack.calls_to("views.publish")[mark:] or None)
    return json.dumps(published[-1].args["view"], ensure_ascii=False)


def test_home_lists_the_persons_leave_once_with_its_status_and_cancel_button(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    tc_sim.add_off_time(1, monday, monday + timedelta(days=1))
    tc_sim.add_off_time(1, monday + timedelta(days=14), monday + timedelta(days=14))
    home = home_text(bot, slack)
    assert "Upcoming leave" not in home and home.count("*Your leave*") == 1
    assert home.count('"leave_cancel"') == 2 and home.count("pending") == 2
    assert home.index(fmt.day_range(monday, monday + timedelta(days=1))) < home.index(
        fmt.day(monday + timedelta(days=14))
    )  # soonest first
    assert "home_request_leave" in home


def test_home_tells_an_employee_to_ask_their_admin_without_setting_names(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    home = home_text(bot, slack, "U0ADA")
    assert "ask your Timebot admin" in home
    assert "SLACK_CLIENT_ID" not in home and "TIMEBOT_PUBLIC_URL" not in home


def test_home_gives_an_admin_the_setting_names(bot: BotUnderTest, slack: SlackStandIn) -> None:
    home = home_text(bot, slack, "U0GRACE")  # TIMEBOT_ADMINS in the test settings
    assert "TIMEBOT_PUBLIC_URL" in home and "SLACK_CLIENT_ID" in home


# --- /timebot link @person on a vendor that matches by email ----------------------------------


def test_link_at_person_without_an_id_reports_that_persons_email_match(
    tmp_path: Path, slack: SlackStandIn, wo_sim: WhosOffSim, wo_server: SimServer
) -> None:
    bot = start_digest_bot(tmp_path, slack, wo_server)
    try:
        _, key = bot.driver.command("/timebot", "link <@U0ALAN|alan>", user="U0GRACE")  # Grace is the admin
        text = slack.wait_response(key)[-1]["text"]
    finally:
        bot.close()
    assert f"<@U0ALAN> is linked to WhosOff as user {user_id(wo_sim, 'alan@example.com')}" in text
    assert str(user_id(wo_sim, "grace@example.com")) not in text


def test_link_at_person_without_an_id_asks_for_their_id_when_their_email_matches_nobody(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer
) -> None:
    slack.add_user("U0NEW", "Nova Newcomer", "nova@elsewhere.example", "Europe/London")
    bot = start_digest_bot(tmp_path, slack, wo_server)
    try:
        _, key = bot.driver.command("/timebot", "link <@U0NEW|nova>", user="U0GRACE")
        text = slack.wait_response(key)[-1]["text"]
    finally:
        bot.close()
    assert "couldn't find <@U0NEW> in WhosOff" in text and "`/timebot link @them ID`" in text


# --- overlapping leave ------------------------------------------------------------------------


def test_leave_overlapping_a_pending_request_is_refused_in_one_wording_before_the_vendor_is_asked(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    tc_sim.add_off_time(1, monday + timedelta(days=1), monday + timedelta(days=1))  # pending
    bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday + timedelta(days=4)))
    [dm] = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if "leave" in c.args.get("text", "")])
    assert f"You already have leave on {fmt.day(monday + timedelta(days=1))} (pending)" in dm.args["text"]
    assert not [r for r in tc_server.requests if r.method == "POST" and "off" in r.path.lower()]


def test_a_morning_next_to_an_afternoon_already_booked_is_no_overlap(
    slack: SlackStandIn, wo_sim: WhosOffSim, wo_server: SimServer, tmp_path: Path
) -> None:
    wo_bot = start_digest_bot(tmp_path, slack, wo_server)
    try:
        monday = next_monday()
        types = str(next(iter(wo_sim.leave_types)))
        for portion in ({"start_portion": "pm"}, {"end_portion": "am"}):
            before = len(wo_sim.leave)
            wo_bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday, leave_type=types, **portion))
            slack.wait_for(lambda b=before: len(wo_sim.leave) > b or None)
    finally:
        wo_bot.close()


# --- backdating is for sick days -------------------------------------------------------------


def a_past_weekday() -> date:
    day = date.today() - timedelta(days=7)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def test_a_backdated_holiday_is_questioned_once_then_goes_through_when_sent_again(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    day = a_past_weekday()
    first = bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(day, day)).json()
    assert first["response_action"] == "errors" and "backdating is meant for sick days" in first["errors"]["start"]
    again = bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(day, day)).json()
    assert again["response_action"] == "update"
    slack.wait_for(
        lambda: [c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args.get("text", "")]
    )


def test_a_backdated_sick_day_goes_through_without_a_question(bot: BotUnderTest, tc_sim: TimeClockSim) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    day = a_past_weekday()
    values = leave_values(day, day, leave_type="0")
    values["leave_type"]["selected_option"]["text"]["text"] = "Sickness"  # the type's name, as the form shows it
    assert bot.driver.submit_view(ids.LEAVE_CALLBACK, values).json()["response_action"] == "update"


# --- smaller points -------------------------------------------------------------------------


def test_hours_over_a_month_list_the_days_with_hours_and_a_subtotal_per_week(world_factory) -> None:
    world = world_factory(FRIDAY_NOON)
    world.link("U0ADA", 1)
    world.sim.add_session(
        1, datetime(2026, 11, 10, 9, tzinfo=UTC).timestamp(), datetime(2026, 11, 10, 12, tzinfo=UTC).timestamp()
    )
    _, key = world.bot.driver.command("/timebot", "hours 2026-11-01..2026-11-30")
    text = reply_text(world.slack, key)
    assert "• Tue 10 Nov: *3h 00m*" in text
    assert "Mon 9 Nov:" not in text  # no zero days
    assert "_Week Mon 9 – Sun 15 Nov: 3h 00m_" in text and "_Week Mon 16 – Sun 22 Nov: 0h 00m_" in text


def test_whosoff_on_timeclock_says_who_is_left_out_only_when_someone_is_not_linked(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    _, key = bot.driver.command("/whosoff", "week")
    assert "only shows people who linked" not in str(slack.wait_response(key))  # Ada is everyone it knows
    bot.runtime.services.people.actor("T0DEMO", "U0ALAN")  # Alan is known to Timebot, not linked
    _, key = bot.driver.command("/whosoff", "week")
    text = str(slack.wait_response(key))
    assert "TimeClock only shows people who linked their account: 1 of 2 so far." in text
