"""Hours worked: the vendor's own sessions (or timecards) over a period of the person's days.

A session is cut at the person's local midnights, so one that runs over midnight counts on both
days; a running one counts up to now. Projects are totalled where the vendor records them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain import Action, Actor, ClockSession
from bot.errors import UserError, VendorError
from bot.parse import InputError, parse_date, parse_date_range, quote, working_week
from bot.usecases.people import People
from bot.vendors.registry import Router

MAX_HOURS_DAYS = 62
HOURS_HELP = "`today`, `week`, `last week` or `2026-12-01..2026-12-07`"


def parse_hours_period(text: str | None, today: date) -> tuple[date, date]:
    """``/timebot hours`` argument → inclusive range of the person's days, looking back."""
    raw = " ".join((text or "").split()).lower()
    if raw in {"", "today"}:
        return today, today
    if raw == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if raw in {"week", "this week"}:
        return working_week(today)
    if raw == "last week":
        first, last = working_week(today)
        return first - timedelta(days=7), last - timedelta(days=7)
    if ".." in raw:
        return parse_date_range(raw, text or "", MAX_HOURS_DAYS, HOURS_HELP)
    try:
        day = parse_date(raw)
    except InputError:
        raise InputError(f"I don't understand {quote(text or '')}. Try {HOURS_HELP}.") from None
    return day, day


@dataclass
class DayHours:
    day: date
    worked: timedelta = timedelta()
    running: bool = False  # includes the session still running, counted up to now


@dataclass(frozen=True)
class HoursReport:
    vendor: str
    start: date
    end: date
    tz: ZoneInfo
    days: list[DayHours]
    total: timedelta
    projects: dict[str, timedelta] = field(default_factory=dict)  # empty when no session has one
    running_since: datetime | None = None


def day_totals(sessions: list[ClockSession], start: date, end: date, tz: ZoneInfo, now: datetime) -> HoursReport:
    """Per-day and per-project totals of ``sessions`` over the person's days [start, end]."""
    days = {start + timedelta(days=i): DayHours(start + timedelta(days=i)) for i in range((end - start).days + 1)}
    projects: dict[str, timedelta] = defaultdict(timedelta)
    running_since = None
    for session in sessions:
        finish = session.ended_at or now
        if session.running:
            running_since = session.started_at
        day = session.started_at.astimezone(tz).date()
        while day <= end:
            lo = max(session.started_at, datetime.combine(day, time(0), tz))
            hi = min(finish, datetime.combine(day + timedelta(days=1), time(0), tz))
            if lo >= finish:
                break
            if day in days and hi > lo:
                days[day].worked += hi - lo
                days[day].running = days[day].running or session.running
                if session.project:
                    projects[session.project] += hi - lo
            day += timedelta(days=1)
    total = sum((d.worked for d in days.values()), timedelta())
    return HoursReport("", start, end, tz, list(days.values()), total, dict(projects), running_since)


class Hours:
    def __init__(self, people: People, router: Router) -> None:
        self.people = people
        self.router = router

    def hours(self, actor: Actor, start: date, end: date) -> HoursReport:
        vendor = self.router.sessions()  # NotSupported, said plainly, when the vendor can't
        user = self.people.identity(actor, vendor)
        now = self.people.now()
        lo = datetime.combine(start, time(0), actor.tz)
        hi = min(datetime.combine(end + timedelta(days=1), time(0), actor.tz), max(now, lo))
        sessions = vendor.sessions(user, lo, hi) if hi > lo else []
        report = day_totals(sessions, start, end, actor.tz, now)
        return HoursReport(
            vendor.label,
            report.start,
            report.end,
            report.tz,
            report.days,
            report.total,
            report.projects,
            report.running_since,
        )

    def today_and_week(self, actor: Actor) -> tuple[HoursReport, HoursReport] | None:
        """The App Home line: today, and the week so far (one vendor read); None when the clock
        vendor can't report hours or the person isn't linked yet."""
        if Action.HOURS not in getattr(self.router.maybe(Action.CLOCK), "capabilities", ()):
            return None
        today = actor.today(self.people.now())
        try:
            week = self.hours(actor, today - timedelta(days=today.weekday()), today)
        except (VendorError, UserError):
            return None
        day = week.days[-1]
        only_today = HoursReport(week.vendor, today, today, week.tz, [day], day.worked, {}, week.running_since)
        return only_today, week
