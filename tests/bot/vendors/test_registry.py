"""One company, several vendors: each action reaches the vendor configured for it.

Vendors are configured here exactly as in production, through environment variables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.swipeclock import SwipeClockSim
from sandbox.whosoff import WhosOffSim
from tests.conftest import BotUnderTest, make_settings, start_bot
from tests.support import datepicker, select, text_input


@pytest.fixture
def swipeclock() -> Iterator[tuple[SwipeClockSim, SimServer]]:
    sim = SwipeClockSim.demo()
    with SimServer(sim.handle, name="swipeclock") as server:
        yield sim, server


@pytest.fixture
def whosoff() -> Iterator[tuple[WhosOffSim, SimServer]]:
    sim = WhosOffSim.demo()
    with SimServer(sim.handle, name="whosoff") as server:
        yield sim, server


@pytest.fixture
def mixed_bot(
    tmp_path: Path,
    slack: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
    swipeclock: tuple[SwipeClockSim, SimServer],
    whosoff: tuple[WhosOffSim, SimServer],
) -> Iterator[BotUnderTest]:
    sc, sc_server = swipeclock
    wo, wo_server = whosoff
    service = next(u for u in wo.users.values() if u.email_address == "timebot@example.com")
    env = {
        "SWIPECLOCK_AUTH_URL": f"{sc_server.base_url}/AuthenticationService/oauth2/userToken",
        "SWIPECLOCK_API_URL": f"{sc_server.base_url}/api",
        "SWIPECLOCK_SITE_ID": str(sc.site_id),
        "SWIPECLOCK_API_SECRET": sc.site_secret,
        "WHOSOFF_BASE_URL": wo_server.base_url,
        "WHOSOFF_APP_ID": wo.app_id,
        "WHOSOFF_CLIENT_SECRET": wo.client_secret,
        "WHOSOFF_USERNAME": service.email_address,
        "WHOSOFF_PASSWORD": service.password,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
        "TIMEBOT_CLOCK_VENDOR": "swipeclock",
        "TIMEBOT_LEAVE_VENDOR": "whosoff",
        "TIMEBOT_WHOSOFF_VENDOR": "whosoff",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    settings = make_settings(tmp_path, slack, **{k: v for k, v in env.items() if k.startswith("TIMEBOT_")})
    bot = start_bot(settings, slack, None)  # type: ignore[arg-type]
    yield bot
    bot.close()


def test_clockin_goes_to_swipeclock_as_the_person_matched_by_email(
    mixed_bot: BotUnderTest,
    slack: SlackStandIn,
    swipeclock: tuple[SwipeClockSim, SimServer],
    whosoff: tuple[WhosOffSim, SimServer],
) -> None:
    sc, _ = swipeclock
    _, wo_server = whosoff
    _, key = mixed_bot.driver.command("/clockin")
    reply = slack.wait_response(key, timeout=20)[-1]["text"]
    assert "Clocked in" in reply and "SwipeClock" in reply
    ada = next(e for e in sc.employees.values() if e.email == "ada@example.com")
    assert sc.open_punch(ada.code) is not None
    assert not wo_server.requests


def test_a_clockout_note_swipeclock_cannot_keep_is_said_not_dropped_silently(
    mixed_bot: BotUnderTest, slack: SlackStandIn, swipeclock: tuple[SwipeClockSim, SimServer]
) -> None:
    _, key = mixed_bot.driver.command("/clockin")
    assert "Clocked in" in slack.wait_response(key, timeout=20)[-1]["text"]
    _, key = mixed_bot.driver.command("/clockout", "done for now")
    reply = slack.wait_response(key, timeout=20)[-1]["text"]
    assert "Clocked out" in reply and "SwipeClock keeps no notes on punches, so your note wasn't saved." in reply


def a_clear_weekday() -> date:
    """A weekday some weeks ahead, clear of the demo's Christmas holidays."""
    day = date.today() + timedelta(days=50)
    while day.weekday() >= 5 or (day.month, day.day) in {(12, 25), (12, 26), (1, 1)}:
        day += timedelta(days=1)
    return day


def test_timeoff_goes_to_whosoff_and_comes_back_in_whosoff(
    mixed_bot: BotUnderTest,
    slack: SlackStandIn,
    swipeclock: tuple[SwipeClockSim, SimServer],
    whosoff: tuple[WhosOffSim, SimServer],
) -> None:
    wo, _ = whosoff
    _, sc_server = swipeclock
    mixed_bot.driver.command("/timeoff")
    form = slack.wait_call("views.update", timeout=20)[0].args["view"]
    options = form["blocks"][0]["element"]["options"]
    assert "Annual Leave" in [o["text"]["text"] for o in options]
    annual = next(o["value"] for o in options if o["text"]["text"] == "Annual Leave")
    day = a_clear_weekday()
    values = {
        "leave_type": select(annual),
        "start": datepicker(day.isoformat()),
        "start_portion": select("pm"),
        "end": datepicker(day.isoformat()),
        "end_portion": select("full"),
        "note": text_input("dentist"),
    }
    response = mixed_bot.driver.submit_view(ids.LEAVE_CALLBACK, values)
    assert json.loads(response.text)["response_action"] == "update"
    dm = slack.wait_for(
        lambda: [c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args.get("text", "")],
        timeout=20,
    )
    assert "WhosOff" in dm[0].args["text"] and "0.5 working days" in dm[0].args["text"]
    ada = next(u for u in wo.users.values() if u.email_address == "ada@example.com")
    assert [lv.note for lv in wo.leave.values() if lv.user_id == ada.user_id] == ["dentist"]
    assert not sc_server.requests

    _, key = mixed_bot.driver.command("/whosoff", day.isoformat())
    text = json.dumps(slack.wait_response(key, timeout=20)[-1]["blocks"])
    assert "Ada Lovelace" in text and "afternoon" in text
    assert "dentist" not in text  # reasons are private


def test_leave_overlapping_a_booking_is_refused_once_in_timebots_words(
    mixed_bot: BotUnderTest, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer]
) -> None:
    mixed_bot.driver.command("/timeoff")
    options = slack.wait_call("views.update", timeout=20)[0].args["view"]["blocks"][0]["element"]["options"]
    annual = next(o["value"] for o in options if o["text"]["text"] == "Annual Leave")
    day = a_clear_weekday()
    values = {
        "leave_type": select(annual),
        "start": datepicker(day.isoformat()),
        "start_portion": select("full"),
        "end": datepicker(day.isoformat()),
        "end_portion": select("full"),
        "note": text_input(None),
    }
    mixed_bot.driver.submit_view(ids.LEAVE_CALLBACK, values)
    slack.wait_for(
        lambda: [c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args["text"]], timeout=20
    )
    mixed_bot.driver.submit_view(ids.LEAVE_CALLBACK, values)
    refusal = slack.wait_for(
        lambda: [c.args["text"] for c in slack.calls_to("chat.postMessage") if "already have leave" in c.args["text"]],
        timeout=20,
    )[0]
    assert refusal.count("already have leave") == 1


def test_whosoff_for_a_day_half_the_company_is_off_lists_everyone(
    mixed_bot: BotUnderTest, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer]
) -> None:
    wo, _ = whosoff
    day = a_clear_weekday()
    names = [f"Person {n:03d} {'Surname' * 6}" for n in range(150)]
    for n, name in enumerate(names):
        wo.add_leave(wo.add_user(name, f"p{n}@big.example"), day)
    _, key = mixed_bot.driver.command("/whosoff", day.isoformat())
    reply = slack.wait_response(key, timeout=20)[-1]
    texts = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts) and len(reply["blocks"]) <= 50
    assert all(name in "\n".join(texts) for name in names)


def test_whosoff_lists_people_nobody_linked_by_their_vendor_name(mixed_bot: BotUnderTest, slack: SlackStandIn) -> None:
    _, key = mixed_bot.driver.command("/whosoff", "next week")
    text = json.dumps(slack.wait_response(key, timeout=20)[-1]["blocks"])
    assert "Grace Hopper" in text and "<@U0GRACE>" not in text


def test_a_vendor_without_the_action_gets_a_one_line_answer_and_no_request(
    tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.timetap import TimeTapSim

    sim = TimeTapSim.demo()
    with SimServer(sim.handle, name="timetap") as server:
        for k, v in {
            "TIMETAP_BASE_URL": server.base_url,
            "TIMETAP_ENVIRONMENT": "test",
            "TIMETAP_API_KEY": sim.api_key,
            "TIMETAP_PRIVATE_KEY": sim.private_key,
        }.items():
            monkeypatch.setenv(k, v)
        bot = start_bot(make_settings(tmp_path, slack), slack, None)  # type: ignore[arg-type]
        try:
            _, key = bot.driver.command("/clockin")
            reply = slack.wait_response(key, timeout=20)[-1]["text"]
        finally:
            bot.close()
    assert reply == "TimeTap doesn't support clocking in and out."
    assert not server.requests


def test_the_readme_capability_table_matches_what_the_connectors_declare() -> None:
    from bot.cli.capabilities import README, capability_table, readme_section

    assert readme_section(README.read_text()) == capability_table(), (
        "README is stale: run `python -m bot.cli.capabilities --write`"
    )


def test_routing_to_an_unconfigured_vendor_stops_start_up_with_the_setting_named(
    tmp_path: Path, slack: SlackStandIn
) -> None:
    from bot.config import ConfigError
    from bot.runtime.app import create_app

    settings = make_settings(tmp_path, slack, TIMEBOT_LEAVE_VENDOR="whosoff")
    with pytest.raises(ConfigError, match="TIMEBOT_LEAVE_VENDOR=whosoff"):
        create_app(settings, vendors={})
