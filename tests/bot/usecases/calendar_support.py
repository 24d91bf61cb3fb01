"""The calendar feed tests' world: a WhosOff company with full days, half days, sick leave across
a weekend and a public holiday; the bot over HTTP; and a reader that turns a feed back into
absences with ``icalendar`` and ``recurring-ical-events``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import recurring_ical_events
from icalendar import Calendar

from bot.domain import Portion
from bot.usecases.whos_off import WhosOffReport
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import user_id
from tests.conftest import BotUnderTest
from tests.support import next_monday

PUBLIC_URL = "https://timebot.example.com"
ZONES = {
    "Ada Lovelace": "Europe/London",
    "Grace Hopper": "America/New_York",
    "Alan Turing": "Europe/London",
    "Katherine Johnson": "America/Chicago",
    "Linus Torvalds": "Europe/Helsinki",
}


@dataclass(frozen=True)
class Off:
    name: str
    day: date
    portion: Portion
    kind: str | None


def book_company_leave(sim: WhosOffSim) -> tuple[date, date]:
    """Next week and the one after: the window the comparisons read."""
    monday = next_monday()
    ada, grace = user_id(sim, "ada@example.com"), user_id(sim, "grace@example.com")
    alan, kath = user_id(sim, "alan@example.com"), user_id(sim, "katherine@example.com")
    sim.add_leave(ada, monday, monday + timedelta(days=2), leave_type="Annual Leave")
    sim.add_leave(ada, monday + timedelta(days=7), leave_type="Sickness")
    sim.add_leave(alan, monday + timedelta(days=1), leave_type="Annual Leave", start_portion=Portion.PM)
    sim.add_leave(grace, monday + timedelta(days=4), monday + timedelta(days=7), leave_type="Sickness")
    sim.add_leave(
        kath,
        monday + timedelta(days=2),
        monday + timedelta(days=3),
        leave_type="Annual Leave",
        start_portion=Portion.PM,
        end_portion=Portion.AM,
        status="pending",
    )
    sim.add_holiday(monday + timedelta(days=10), "Founders' Day")
    return monday, monday + timedelta(days=13)


def links(bot: BotUnderTest, slack: SlackStandIn, text: str = "", user: str = "U0ADA") -> list[str]:
    _, key = bot.driver.command("/timebot", f"calendar {text}".strip(), user=user)
    [reply] = slack.wait_response(key)
    return re.findall(r"https?://\S+\.ics", str(reply.get("text")))


def fetch(bot: BotUnderTest, url: str, **headers: str) -> httpx.Response:
    """GET a feed link from the bot itself (the link names the public address)."""
    return httpx.get(bot.url + urlsplit(url).path, headers=headers, timeout=10)


def absences_in_feed(body: str, start: date, end: date, holidays: set[date]) -> set[Off]:
    """Each working day an event covers: all-day events day by day, timed ones as the half they cover."""
    found: set[Off] = set()
    cal = Calendar.from_ical(body)
    for event in recurring_ical_events.of(cal).between(start, end + timedelta(days=1)):
        summary = str(event["SUMMARY"])
        if summary.startswith("Public holiday"):
            continue
        half = re.search(r" \((morning|afternoon)\)$", summary)
        summary = re.sub(r" \((morning|afternoon|pending)\)", "", summary)
        name, _, kind = summary.partition(" · ")
        first = event["DTSTART"].dt
        if isinstance(first, datetime):
            local = first.astimezone(ZoneInfo(ZONES[name]))
            assert half is not None
            found.add(Off(name, local.date(), Portion.AM if local.hour < 12 else Portion.PM, kind))
            continue
        day = first
        while day < event["DTEND"].dt:
            if start <= day <= end and day.weekday() < 5 and day not in holidays:
                found.add(Off(name, day, Portion.FULL, kind))
            day += timedelta(days=1)
    return found


def absences_in_report(report: WhosOffReport) -> set[Off]:
    return {Off(e.name, d.day, e.portion, e.kind or "off") for d in report.days for e in d.entries}


def holidays_in_feed(body: str) -> dict[date, str]:
    cal = Calendar.from_ical(body)
    return {e["DTSTART"].dt: str(e["SUMMARY"]) for e in cal.walk("VEVENT") if str(e["SUMMARY"]).startswith("Public")}
