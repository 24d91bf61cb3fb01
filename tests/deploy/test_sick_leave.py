"""Sick leave under the names companies give it reads "off" to colleagues and in channels, on
every vendor whose leave kinds a company names; the person and admins see it as it is. (TimeClock
has two fixed kinds, "Vacation" and "Other time off": no sick leave can come from it.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.slack import SlackStandIn
from sandbox.swipeclock import SwipeClockSim
from sandbox.timetap import TimeTapSim
from sandbox.whosoff import WhosOffSim
from tests.deploy.harness import slack_env, start
from tests.deploy.stand_ins import command, running, wait_answer
from tests.support import next_monday

# who is off with which kind, all of next week (and from today, for the digest); "Krankheit" is
# sick by the operator's TIMEBOT_SICK_LEAVE_TYPES, the rest by the built-in words
SICK = {
    "Ada Lovelace": "Sick day",
    "Grace Hopper": "Sick Leave (unpaid)",
    "Alan Turing": "Illness",
    "Katherine Johnson": "SICK",
    "Linus Torvalds": "Krankheit",
}
EMAIL = {name: f"{name.split()[0].lower()}@example.com" for name in SICK}
ADMIN, ADA, COLLEAGUE = "U0KATH", "U0ADA", "U0MARG"  # Margaret is in Slack, not in the vendor


def span(today: date) -> tuple[date, date]:
    return today, next_monday() + timedelta(days=4)


def whosoff(today: date) -> WhosOffSim:
    sim = WhosOffSim.demo()
    for name, kind in SICK.items():
        sim.add_leave_type(kind)
        who = next(u.user_id for u in sim.users.values() if u.email_address == EMAIL[name])
        sim.add_leave(who, *span(today), leave_type=kind)
    return sim


def timetap(today: date) -> TimeTapSim:
    sim = TimeTapSim.demo()
    for name, kind in SICK.items():
        reason = sim.add_reason(kind)["reasonId"]
        who = next(s for s, row in sim.staff.items() if row["emailAddress"] == EMAIL[name])
        sim.add_time_off(who, *span(today), reason_id=reason)
    return sim


def swipeclock(today: date) -> SwipeClockSim:
    sim = SwipeClockSim.demo()
    for name, kind in SICK.items():
        sim.categories.append(kind)
        who = next(e.code for e in sim.employees.values() if e.email == EMAIL[name])
        sim.add_time_off(who, *span(today), category=kind)
    return sim


def said(driver: Any, slack: SlackStandIn, text: str, user: str, needle: str) -> str:
    _, key = command(driver, "/whosoff" if not text.startswith("digest") else "/timebot", text, user=user)
    return wait_answer(slack, key, needle)


@pytest.mark.parametrize("vendor", ["whosoff", "timetap", "swipeclock"])
def test_sick_leave_reads_off_to_colleagues_and_channels_and_as_it_is_to_the_person_and_admins(
    tmp_path: Path, slack: SlackStandIn, secret_key: str, vendor: str
) -> None:
    seed: Callable[[date], Any] = {"whosoff": whosoff, "timetap": timetap, "swipeclock": swipeclock}[vendor]
    with running(vendor, seed(datetime.now(UTC).date())) as v:
        slack.add_user(COLLEAGUE, "Margaret Hamilton", "margaret@example.com")
        env = {
            **slack_env(slack, tmp_path, secret_key),
            **v.env,
            "TIMEBOT_ADMINS": ADMIN,
            "TIMEBOT_WHOSOFF_VENDOR": vendor,
            "TIMEBOT_SICK_LEAVE_TYPES": "krank",
        }
        bot = start(env, tmp_path)
        try:
            driver = bot.driver(slack)
            colleague = said(driver, slack, "next week", COLLEAGUE, "Alan Turing")
            channel = said(driver, slack, "digest preview <#C0TEAM|team>", ADMIN, "only you can see this")
            for seen in (colleague, channel):
                assert all(f"{name} · off" in seen for name in SICK), seen
                assert not any(kind in seen for kind in SICK.values()), seen
            own = said(driver, slack, "next week", ADA, "Alan Turing")
            assert "Ada Lovelace · Sick day" in own and "Alan Turing · off" in own and "Illness" not in own
            admin = said(driver, slack, "next week", ADMIN, "Alan Turing")
            assert all(f"{name} · {kind}" in admin for name, kind in SICK.items()), admin
        finally:
            assert bot.terminate() == 0, bot.log[-2000:]
