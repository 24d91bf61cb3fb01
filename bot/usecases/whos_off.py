"""Who's off: everyone's absences (or a scope's) and the public holidays, per working day and as
compact ranges, named as the Slack directory knows them; sick leave masked for everyone else."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from bot.crypto import UndecryptableSecret
from bot.domain import Absence, Action, Holiday, Portion, SickLeave
from bot.errors import UserError, VendorError
from bot.parse import quote
from bot.usecases.people import People
from bot.usecases.ranges import OffSpan, compact_spans, is_working_day
from bot.usecases.scope import Scope, SlackDirectory
from bot.vendors.registry import Router
from storage.store import Store

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


def visible_kind(
    kind: str | None,
    slack_id: str | None,
    *,
    show_kind: bool,
    sick: SickLeave,
    viewer: str | None = None,
    admin: bool = False,
) -> str | None:
    """The kind of someone's leave as ``viewer`` (None: a channel) may read it: nothing when kinds
    are hidden, "off" for sick leave unless the viewer is the person or an admin."""
    if not show_kind or not kind:
        return None
    if sick(kind) and not admin and (viewer is None or viewer != slack_id):
        return "off"
    return kind


@dataclass(frozen=True)
class WhosOffReport:
    vendor: str
    start: date
    end: date
    days: list[DayReport]
    notes: list[str] = field(default_factory=list)
    spans: list[OffSpan] = field(default_factory=list)  # one per person per continuous absence
    holidays: list[Holiday] = field(default_factory=list)
    scope: Scope = field(default_factory=Scope)

    def masked(
        self, *, show_kind: bool, sick: SickLeave, viewer: str | None = None, admin: bool = False
    ) -> WhosOffReport:
        """What ``viewer`` (None: a channel) may read: see ``visible_kind``."""

        def kind(slack_id: str | None, value: str | None) -> str | None:
            return visible_kind(value, slack_id, show_kind=show_kind, sick=sick, viewer=viewer, admin=admin)

        days = [
            DayReport(d.day, [replace(e, kind=kind(e.slack_user_id, e.kind)) for e in d.entries], d.holidays)
            for d in self.days
        ]
        spans = [replace(s, kind=kind(s.slack_user_id, s.kind)) for s in self.spans]
        return replace(self, days=days, spans=spans)


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
    def __init__(self, people: People, store: Store, router: Router, directory: SlackDirectory | None = None) -> None:
        self.people = people
        self.store = store
        self.router = router
        self.directory = directory or SlackDirectory(people.slack, people.clock)
        # Given the Slack ids of a scope, reads the Slack directory when some aren't known yet: on
        # vendors that match people by email, a person without a row can't be matched (bot/runtime/app.py).
        self.meet: Callable[[str, frozenset[str]], None] | None = None
        self._unreadable_warned = False

    def whos_off(
        self, team_id: str, start: date, end: date, scope: Scope | None = None, *, fresh: bool = False
    ) -> WhosOffReport:
        """Absences on working days only (no weekend, no public holiday), of ``scope``'s people:
        for vendors asked per person (TimeClock) only those are asked."""
        scope = scope or Scope()
        vendor = self.router.whos_off()
        rows = self.store.identities_for_vendor(team_id, vendor.name)
        in_slack, in_vendor = self._in_scope(scope, fresh=fresh)
        if in_slack and self.meet is not None and Action.IDENTITY in vendor.capabilities:
            self.meet(team_id, in_slack)
        if in_slack is not None:
            rows = [r for r in rows if r.slack_user_id in in_slack]
        users = []
        unreadable = 0
        for row in rows:
            try:
                users.append(self.people.vendor_user(row))
            except UndecryptableSecret:  # one person's unreadable key must not hide everyone else
                unreadable += 1
        if unreadable and not self._unreadable_warned:  # once per run: every request would repeat it
            self._unreadable_warned = True
            log.warning(
                "who's off leaves out %d people: their stored keys cannot be decrypted (check "
                "TIMEBOT_SECRET_KEY and TIMEBOT_OLD_SECRET_KEYS)",
                unreadable,
            )
        absences = vendor.absences(start, end, users)
        _, holidays = holiday_days(self.router, start, end)
        off_days = {h.day for h in holidays}
        by_vendor_id = {r.vendor_user_id: r.slack_user_id for r in rows}
        people = {p.slack_user_id: p for p in self.store.people(team_id)}
        by_email = {p.email.lower(): p.slack_user_id for p in people.values() if p.email}
        named: list[tuple[Absence, str | None, str]] = []
        for a in absences:
            if a.status in {"denied", "cancelled"}:
                continue
            slack_id = by_vendor_id.get(a.vendor_user_id) or (
                by_email.get(a.person_email.lower()) if a.person_email else None
            )
            if (in_slack is not None and slack_id not in in_slack) or (
                in_vendor is not None and a.vendor_user_id not in in_vendor
            ):
                continue
            name = (
                (people[slack_id].name if slack_id in people and people[slack_id].name else None)
                or a.person_name
                or f"{vendor.label} user {a.vendor_user_id}"
            )
            named.append((a, slack_id, name))
        days = []
        day = start
        while day <= end:
            report = DayReport(day, holidays=[h for h in holidays if h.day == day])
            if is_working_day(day, off_days):
                for a, slack_id, name in named:
                    portion = a.portion_on(day)
                    if portion is not None:
                        report.entries.append(
                            OffEntry(slack_id, name, portion, a.kind, a.status, _back_on(a, holidays))
                        )
            report.entries.sort(key=lambda e: e.name.lower())
            if report.entries or report.holidays or day.weekday() < 5:
                days.append(report)
            day += timedelta(days=1)
        notes = []
        if unreadable:
            notes.append(
                f"{unreadable} {'person' if unreadable == 1 else 'people'} left out: their stored keys "
                "can't be read; an admin should check TIMEBOT_SECRET_KEY."
            )
        unlinked = {p for p in people if in_slack is None or p in in_slack} - {r.slack_user_id for r in rows}
        if Action.IDENTITY not in vendor.capabilities and unlinked:  # nobody left out: nothing to say
            notes.append(
                f"{vendor.label} only shows people who linked their account: {len(rows)} of "
                f"{len(rows) + len(unlinked)} so far."
            )
        spans = compact_spans(named, start, end, off_days)
        return WhosOffReport(vendor.label, start, end, days, notes, spans, holidays, scope)

    def in_scope(self, scope: Scope, *, fresh: bool = False) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """(Slack ids, vendor ids) the scope admits; None for no limit of that kind."""
        return self._in_scope(scope, fresh=fresh)

    def _in_scope(self, scope: Scope, *, fresh: bool) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """(Slack ids, vendor ids) the scope admits; None for no limit of that kind."""
        if scope.everyone:
            return None, None
        if scope.kind == "person":  # one person's own leave (their calendar feed)
            return frozenset({scope.ref}), None
        if scope.kind == "dept":
            vendor = self.router.departments()
            if vendor is None:
                raise UserError(
                    f"{self.router.label_for(Action.WHOS_OFF)} has no departments, so `dept=` can't "
                    "be used here. Use a channel's `members` or a user group instead."
                )
            wanted = scope.ref.strip().lower()
            found = frozenset(u for u, d in vendor.departments().items() if d.strip().lower() == wanted)
            if not found:
                raise UserError(f"{vendor.label} has no department called {quote(scope.ref)}.")
            return None, found
        return self.directory.people(scope, fresh=fresh), None

    def check_scope(self, scope: Scope) -> None:
        """Raises UserError when ``scope`` names a department the vendor doesn't have (as the
        digest would at every run), so a typo is caught when the digest is added."""
        if scope.kind == "dept":
            self._in_scope(scope, fresh=True)


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
