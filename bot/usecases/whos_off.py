"""Who's off: everyone's absences and the public holidays, per day, named as Slack knows them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.crypto import UndecryptableSecret
from bot.domain import Absence, Action, Holiday, Portion
from bot.errors import VendorError
from bot.usecases.people import People
from bot.vendors.registry import Router
from storage.queries import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OffEntry:
    slack_user_id: str | None
    name: str
    portion: Portion
    kind: str | None
    status: str
    back_on: date | None = None


@dataclass
class DayReport:
    day: date
    entries: list[OffEntry] = field(default_factory=list)
    holidays: list[Holiday] = field(default_factory=list)


@dataclass(frozen=True)
class WhosOffReport:
    vendor: str
    start: date
    end: date
    days: list[DayReport]
    notes: list[str] = field(default_factory=list)


def holiday_days(router: Router, start: date, end: date) -> tuple[set[date], list[Holiday]]:
    """Public holidays in [start, end] from the routed vendor; none when it has none or fails."""
    vendor = router.holidays()
    if vendor is None:
        return set(), []
    try:
        found = vendor.holidays(start, end)
    except VendorError as exc:
        log.warning("holidays unavailable: %s", exc)
        return set(), []
    return {h.day for h in found}, found


class WhosOff:
    def __init__(self, people: People, store: Store, router: Router) -> None:
        self.people = people
        self.store = store
        self.router = router
        self._unreadable_warned = False

    def whos_off(self, team_id: str, start: date, end: date) -> WhosOffReport:
        vendor = self.router.whos_off()
        rows = self.store.identities_for_vendor(team_id, vendor.name)
        users = []
        unreadable = 0
        for row in rows:
            try:
                users.append(self.people.vendor_user(row))
            except UndecryptableSecret:  # one person's unreadable key must not hide everyone else
                unreadable += 1
        if unreadable and not self._unreadable_warned:  # once per run: every request would repeat it
            self._unreadable_warned = True
            log.warning("who's off leaves out %d people: their stored keys cannot be decrypted (check "
                        "TIMEBOT_SECRET_KEY and TIMEBOT_OLD_SECRET_KEYS)", unreadable)
        absences = vendor.absences(start, end, users)
        _, holidays = holiday_days(self.router, start, end)
        by_vendor_id = {r.vendor_user_id: r.slack_user_id for r in rows}
        people = {p.slack_user_id: p for p in self.store.people(team_id)}
        by_email = {p.email.lower(): p.slack_user_id for p in people.values() if p.email}
        days = []
        day = start
        while day <= end:
            report = DayReport(day, holidays=[h for h in holidays if h.day == day])
            for a in absences:
                portion = a.portion_on(day)
                if portion is None or a.status in {"denied", "cancelled"}:
                    continue
                slack_id = by_vendor_id.get(a.vendor_user_id) or (
                    by_email.get(a.person_email.lower()) if a.person_email else None
                )
                name = (
                    (people[slack_id].name if slack_id in people and people[slack_id].name else None)
                    or a.person_name
                    or f"{vendor.label} user {a.vendor_user_id}"
                )
                report.entries.append(OffEntry(slack_id, name, portion, a.kind, a.status, _back_on(a, holidays)))
            report.entries.sort(key=lambda e: e.name.lower())
            if report.entries or report.holidays or day.weekday() < 5:
                days.append(report)
            day += timedelta(days=1)
        notes = []
        if unreadable:
            notes.append(f"{unreadable} {'person' if unreadable == 1 else 'people'} left out: their stored keys "
                         "can't be read; an admin should check TIMEBOT_SECRET_KEY.")
        if Action.IDENTITY not in vendor.capabilities:
            notes.append(f"{vendor.label} only shows people who linked their account ({len(rows)} so far).")
        return WhosOffReport(vendor.label, start, end, days, notes)


def _back_on(absence: Absence, holidays: list[Holiday]) -> date | None:
    """The first working day after the absence (skipping weekends and holidays)."""
    off = {h.day for h in holidays}
    day = absence.end
    if absence.end_portion is Portion.AM:
        return day  # back in the afternoon
    day += timedelta(days=1)
    for _ in range(14):
        if day.weekday() < 5 and day not in off:
            return day
        day += timedelta(days=1)
    return day
