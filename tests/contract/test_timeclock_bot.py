"""The whole bot on each TimeClock server: ``timebot run`` started as deployed (environment only),
Slack's signed requests, and the server reached over real HTTP. One person's day: link by PIN,
clock in and out, ask for leave, hear it approved, see who's off on a holiday, read last week's
hours, cancel the leave."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from handlers import ids
from sandbox.slack import SlackStandIn
from tests.contract.conftest import TimeClockServer, open_server
from tests.contract.test_timeclock import call, stamp
from tests.deploy.harness import Deployed, slack_env, start
from tests.support import SlackDriver, leave_values, next_monday, text_input


@pytest.fixture
def deployed(server: TimeClockServer, slack: SlackStandIn, tmp_path: Path) -> Iterator[Deployed]:
    yield from deploy(server, slack, tmp_path)


@pytest.fixture
def sim_server() -> Iterator[TimeClockServer]:
    yield from open_server("sim")


@pytest.fixture
def bot_on_sim(sim_server: TimeClockServer, slack: SlackStandIn, tmp_path: Path) -> Iterator[Deployed]:
    yield from deploy(sim_server, slack, tmp_path)


def deploy(server: TimeClockServer, slack: SlackStandIn, tmp_path: Path) -> Iterator[Deployed]:
    """``timebot run`` on ``server``, with a service key (it may fetch holidays) and a 1 s leave poll."""
    service = server.people[0]
    env = {
        **slack_env(slack, tmp_path, Fernet.generate_key().decode()),
        "TIMECLOCK_BASE_URL": server.base_url,
        "TIMECLOCK_SERVICE_USER_ID": str(service.id),
        "TIMECLOCK_SERVICE_API_KEY": service.api_key,
        "TIMEBOT_LEAVE_APPROVERS": "U0GRACE",
        "TIMEBOT_LEAVE_POLL_SECONDS": "1",
    }
    bot = start(env, tmp_path)
    try:
        yield bot
    finally:
        code = bot.terminate()
        assert code == 0, bot.log[-2000:]


def dms_to(slack: SlackStandIn, user: str) -> list[str]:
    return [json.dumps(c.args) for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


def reply_text(reply: dict[str, Any]) -> str:
    return json.dumps(reply)


def test_a_persons_day_on_timeclock_through_the_deployed_bot(
    server: TimeClockServer, slack: SlackStandIn, deployed: Deployed
) -> None:
    driver: SlackDriver = deployed.driver(slack)
    monday = next_monday()
    holiday = monday + timedelta(days=1)
    server.publish_holiday(holiday)  # before the bot first reads the year (it fetches a year once)
    try:
        a_day(server, slack, driver, monday, holiday)
    finally:
        server.drop_holiday(holiday)


def a_day(server: TimeClockServer, slack: SlackStandIn, driver: SlackDriver, monday: date, holiday: date) -> None:
    ada = server.people[0]

    # link by PIN, through the link form
    driver.submit_view(
        ids.LINK_CALLBACK,
        {"link_pin": text_input(ada.pin)},
        private_metadata=json.dumps({"vendor": "timeclock", "target": None}),
    )
    slack.wait_for(
        lambda: [
            c for c in slack.calls_to("views.update") if f"linked to TimeClock as {ada.name}" in json.dumps(c.args)
        ],
        timeout=20,
    )

    # clock in and out: one session on the server, ended
    _, key = driver.command("/clockin")
    assert "Clocked in" in slack.wait_response(key, timeout=20)[-1]["text"]
    _, key = driver.command("/clockout")
    assert "Clocked out" in slack.wait_response(key, timeout=20)[-1]["text"]
    sessions = call(server, "GET", "/api/sessions", ada, params={"sort": "-clockIn"}).json()
    assert len(sessions) == 1 and sessions[0]["clockOut"] is not None

    # the leave form: the approver's DM links to the leave's own month on the approval page
    driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday, leave_type="1", note="contract trip"))
    ask = slack.wait_for(lambda: dms_to(slack, "U0GRACE"), timeout=20)[0]
    assert f"{server.base_url}/admin/off/{monday.month}/{monday.year}" in ask
    [off] = call(server, "GET", "/api/off-times", ada).json()
    assert (off["startAt"], off["approved"]) == (monday.isoformat(), 0)

    # approval news: approved on the server, told to the requester by the bot's own poll
    server.decide(off["id"], 1)
    news = slack.wait_for(lambda: [t for t in dms_to(slack, "U0ADA") if "approved" in t], timeout=20)
    assert len(news) == 1

    # who's off on a public holiday: the holiday, and Ada off the day before
    _, key = driver.command("/whosoff", f"{monday.isoformat()}..{holiday.isoformat()}")
    text = reply_text(slack.wait_response(key, timeout=20)[-1])
    assert "Public holiday" in text and "Ada Lovelace" in text

    # hours: a session last week, totalled
    today = datetime.now(UTC).date()
    last_wednesday = today - timedelta(days=today.weekday() + 5)
    made = call(
        server,
        "POST",
        "/api/sessions",
        ada,
        json={"clockIn": stamp(last_wednesday, 9), "clockOut": stamp(last_wednesday, 11, 30)},
    )
    assert made.status_code == 201, made.text
    _, key = driver.command("/timebot", "hours last week")
    assert "Total: 2h 30m" in reply_text(slack.wait_response(key, timeout=20)[-1])

    # cancel, from the list
    _, key = driver.command("/timeoff", "list")
    button = next(
        b["accessory"]
        for b in slack.wait_response(key, timeout=20)[-1]["blocks"]
        if b.get("accessory", {}).get("action_id") == "leave_cancel"
    )
    driver.interaction(driver.make.click("leave_cancel", value=button["value"], container="message"))
    slack.wait_for(lambda: call(server, "GET", "/api/off-times", ada).json() == [], timeout=20)


def test_whosoff_on_a_holiday_of_an_unfetched_year_has_the_bot_fetch_it_and_shows_it(
    sim_server: TimeClockServer, slack: SlackStandIn, bot_on_sim: Deployed
) -> None:
    """On the simulator only: the real server's fetch scrapes a public site this machine cannot reach."""
    server, driver = sim_server, bot_on_sim.driver(slack)
    ada = server.people[0]
    driver.submit_view(
        ids.LINK_CALLBACK,
        {"link_pin": text_input(ada.pin)},
        private_metadata=json.dumps({"vendor": "timeclock", "target": None}),
    )
    slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)], timeout=20
    )
    holiday = next_monday() + timedelta(days=2)
    server.publish_holiday(holiday)
    assert call(server, "GET", "/api/holidays", ada, params={"filter[year]": holiday.year}).json() == []
    _, key = driver.command("/whosoff", holiday.isoformat())
    assert "Public holiday" in reply_text(slack.wait_response(key, timeout=20)[-1])
    assert call(server, "GET", "/api/holidays", ada, params={"filter[year]": holiday.year}).json() == [
        {"year": holiday.year, "month": holiday.month, "day": holiday.day}
    ]
