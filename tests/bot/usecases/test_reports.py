"""Team reports: hours from one company-wide read per pay period, absence in working days, each a
CSV uploaded to the person's DM with files.uploadV2; admins for anyone, approvers for theirs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import Portion
from bot.usecases.directory import refresh_directory
from bot.vendors.http import HttpPolicy
from bot.vendors.swipeclock import SwipeClock, SwipeClockSettings
from sandbox.people import DEMO_PEOPLE
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.swipeclock import PunchLine, SwipeClockSim
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import (
    APP_ID,
    CLIENT_SECRET,
    SERVICE_EMAIL,
    SERVICE_PASSWORD,
    company,
    user_id,
    whosoff_vendor,
)
from tests.conftest import SECRET_KEY, BotUnderTest, make_settings, start_bot
from tests.deploy.harness import run_to_end
from tests.support import BOT_TOKEN

SITE_SECRET = "report-site-secret-0123456789abcdefghijklmnopqrstuvwxyz0123456789"
MONDAY = date(2026, 11, 2)
ADMIN, APPROVER, NOBODY = "U0GRACE", "U0ADA", "U0LINUS"


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _uploaded(slack: SlackStandIn) -> list:
    return [f for f in slack.files.values() if f.completed]


def _report(bot: BotUnderTest, slack: SlackStandIn, text: str, user: str) -> str:
    _, key = bot.driver.command("/timebot", f"report {text}", user=user)
    [reply] = slack.wait_response(key)
    return str(reply["text"])


# --- hours on a company-wide clock vendor --------------------------------------------------------


@pytest.fixture
def swipe() -> SwipeClockSim:
    sim = SwipeClockSim(site_id=77, site_secret=SITE_SECRET, timezone="Europe/London")
    for n, person in enumerate(DEMO_PEOPLE):
        first, last = person.name.split()
        sim.add_employee(f"E{n}", first, last, person.email)
    for day in range(10):  # Ada: 8 h on each working day of two weeks
        d = MONDAY + timedelta(days=day + (2 if day >= 5 else 0))
        sim.punches.append(
            PunchLine(
                "E0",
                datetime.combine(d, datetime.min.time()) + timedelta(hours=9),
                datetime.combine(d, datetime.min.time()) + timedelta(hours=17),
            )
        )
    sim.punches.append(PunchLine("E2", datetime(2026, 11, 3, 8, 0), datetime(2026, 11, 3, 12, 30)))  # Alan 4.5 h
    return sim


@pytest.fixture
def swipe_bot(tmp_path: Path, slack: SlackStandIn, swipe: SwipeClockSim) -> Iterator[tuple[BotUnderTest, SimServer]]:
    with SimServer(swipe.handle, name="swipeclock") as server:
        vendor = SwipeClock(
            SwipeClockSettings(  # type: ignore[call-arg]
                _env_file=None,
                auth_url=f"{server.base_url}/AuthenticationService/oauth2/userToken",
                api_url=f"{server.base_url}/api",
                site_id=77,
                api_secret=SITE_SECRET,
                timezone="Europe/London",
            ),
            HttpPolicy(),
        )
        bot = start_bot(make_settings(tmp_path, slack, TIMEBOT_SCHEDULER=False), slack, {"swipeclock": vendor})
        refresh_directory(bot.runtime.services.store, bot.runtime.services.people.slack)
        yield bot, server
        bot.close()


def test_an_hours_report_lists_each_person_per_day_with_weekly_totals(swipe_bot, slack) -> None:
    bot, _ = swipe_bot
    answer = _report(bot, slack, "hours 2026-11-02..2026-11-15", ADMIN)
    assert "is in your DM" in answer
    [upload] = _uploaded(slack)
    rows = _rows(upload.content.decode())
    assert rows[0] == ["person", "week starting", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "week total"]
    ada = [r for r in rows if r[0] == "Ada Lovelace"]
    assert ada == [
        ["Ada Lovelace", "2026-11-02", "8.00", "8.00", "8.00", "8.00", "8.00", "0.00", "0.00", "40.00"],
        ["Ada Lovelace", "2026-11-09", "8.00", "8.00", "8.00", "8.00", "8.00", "0.00", "0.00", "40.00"],
    ]
    alan = [r for r in rows if r[0] == "Alan Turing"]
    assert alan[0][3] == "4.50" and alan[0][-1] == "4.50"


def test_an_hours_report_reads_the_site_timecards_once_per_pay_period_and_uploads_once(swipe_bot, slack) -> None:
    bot, server = swipe_bot
    server.requests.clear()
    _report(bot, slack, "hours 2026-11-02..2026-11-15", ADMIN)
    timecards = [r for r in server.requests if r.path.endswith("/timecards")]
    assert all("ids" not in r.query for r in timecards)  # company-wide: nobody asked one by one
    assert len(timecards) <= 3  # the pay periods the range (and a day either side) touches
    assert [c.method for c in slack.calls if c.method.startswith(("files.", "upload"))] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [upload] = _uploaded(slack)
    assert upload.shared_to == ["D0GRACE"] and upload.filename.endswith(".csv")


# --- absence, rights and the command line -------------------------------------------------------


@pytest.fixture
def wo() -> WhosOffSim:
    sim = company()
    ada, alan, linus = (user_id(sim, f"{n}@example.com") for n in ("ada", "alan", "linus"))
    sim.users[alan].approver_id = ada  # Ada approves Alan's leave, nobody else's
    sim.add_leave(alan, MONDAY, MONDAY + timedelta(days=2), leave_type="Annual Leave")
    sim.add_leave(alan, MONDAY + timedelta(days=7), leave_type="Sickness", start_portion=Portion.AM)
    sim.add_leave(
        linus, MONDAY + timedelta(days=3), MONDAY + timedelta(days=4), leave_type="Annual Leave", status="pending"
    )
    return sim


@pytest.fixture
def wo_bot(tmp_path: Path, slack: SlackStandIn, wo: WhosOffSim) -> Iterator[tuple[BotUnderTest, SimServer]]:
    with SimServer(wo.handle, name="whosoff") as server:
        bot = start_bot(
            make_settings(tmp_path, slack, TIMEBOT_SCHEDULER=False), slack, {"whosoff": whosoff_vendor(server)}
        )
        refresh_directory(bot.runtime.services.store, bot.runtime.services.people.slack)
        for person in ("U0ADA", "U0ALAN", "U0LINUS"):  # matched by email, as on first use
            bot.runtime.services.people.identity(
                bot.runtime.services.people.actor("T0DEMO", person), bot.runtime.services.router.whos_off()
            )
        yield bot, server
        bot.close()


def test_an_absence_report_counts_working_days_per_person_and_kind(wo_bot, slack) -> None:
    bot, _ = wo_bot
    _report(bot, slack, "absence 2026-11 everyone", ADMIN)
    [upload] = _uploaded(slack)
    rows = _rows(upload.content.decode())
    assert rows[0] == ["person", "kind", "working days approved", "working days pending"]
    assert ["Alan Turing", "Annual Leave", "3", "0"] in rows
    assert ["Alan Turing", "Sickness", "0.5", "0"] in rows  # admins see the kind
    assert ["Linus Torvalds", "Annual Leave", "0", "2"] in rows


def test_an_approver_gets_only_the_people_they_approve_and_no_sick_kind(wo_bot, slack) -> None:
    bot, _ = wo_bot
    _report(bot, slack, "absence 2026-11", APPROVER)
    [upload] = _uploaded(slack)
    rows = _rows(upload.content.decode())[1:]
    assert {r[0] for r in rows} == {"Alan Turing"}
    assert ["Alan Turing", "off", "0.5", "0"] in rows
    assert upload.shared_to == ["D0ADA"]


def test_someone_who_approves_nobody_is_refused_and_nothing_is_uploaded(wo_bot, slack) -> None:
    bot, _ = wo_bot
    answer = _report(bot, slack, "absence 2026-11", NOBODY)
    assert "for admins and leave approvers" in answer
    assert slack.calls_to("files.getUploadURLExternal") == []


def test_a_bad_period_is_answered_in_the_ack(wo_bot) -> None:
    bot, _ = wo_bot
    response, _ = bot.driver.command("/timebot", "report hours someday", user=ADMIN)
    assert "I don't understand the period" in response.text


def test_timebot_report_on_the_command_line_prints_the_same_csv(wo_bot, slack, tmp_path) -> None:
    bot, server = wo_bot
    _report(bot, slack, "absence 2026-11", ADMIN)
    [upload] = _uploaded(slack)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timebot.db'}",
        "TIMEBOT_SECRET_KEY": SECRET_KEY,
        "WHOSOFF_BASE_URL": server.base_url,
        "WHOSOFF_APP_ID": APP_ID,
        "WHOSOFF_CLIENT_SECRET": CLIENT_SECRET,
        "WHOSOFF_USERNAME": SERVICE_EMAIL,
        "WHOSOFF_PASSWORD": SERVICE_PASSWORD,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
    }
    done = run_to_end(env, tmp_path, "report", "absence", "2026-11")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == upload.content.decode().replace("\r\n", "\n")  # text mode reads CSV's CRLF as \n


def test_on_timeclock_an_hours_report_reads_each_linked_person(world_factory) -> None:
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    world = world_factory(datetime(2026, 11, 9, 12, 0, tzinfo=london))
    refresh_directory(world.services.store, world.services.people.slack)
    world.link("U0ADA", 1)
    world.link("U0ALAN", 3)
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=london)
    world.sim.add_session(1, monday.timestamp(), (monday + timedelta(hours=7, minutes=30)).timestamp())
    tuesday = monday + timedelta(days=1)
    world.sim.add_session(3, tuesday.timestamp(), (tuesday + timedelta(hours=2)).timestamp())
    _report(world.bot, world.slack, "hours last week", ADMIN)
    [upload] = _uploaded(world.slack)
    rows = {r[0]: r for r in _rows(upload.content.decode())[1:]}
    assert rows["Ada Lovelace"][1:] == ["2026-11-02", "7.50", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "7.50"]
    assert rows["Alan Turing"][3] == "2.00"
