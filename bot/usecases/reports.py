"""Team reports as CSV: hours (per person per day, with weekly totals) and absence (per person,
per kind, in working days), for a period and a scope.

Who may run one: admins for anyone; an approver for the people they approve (the vendor's
approver of each person, matched by email, or ``TIMEBOT_LEAVE_APPROVERS`` for people the vendor
names no approver for), the same rule the approvers' DMs follow. The command line is the
operator's and sees everyone.

The vendor reads are bounded: hours come from one company-wide read per pay period where the
vendor has one (SwipeClock's site timecards), else one read per linked person (TimeClock, whose
every call is its key owner's); absence from one who's-off read (one call per 365 days on
WhosOff). The CSV goes to the person's DM with one ``files.uploadV2`` (three Slack calls)."""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.crypto import UndecryptableSecret
from bot.domain import Actor, ClockSession, Portion, SickLeave
from bot.errors import UserError, VendorError
from bot.parse import InputError, parse_date_range, quote
from bot.usecases.hours import day_totals
from bot.usecases.morning import MorningView
from bot.usecases.people import People
from bot.usecases.ports import SlackError
from bot.usecases.scope import Scope
from bot.usecases.whos_off import WhosOff
from bot.vendors.base import as_identity
from bot.vendors.registry import Router
from storage.store import Store

log = logging.getLogger(__name__)

MAX_REPORT_DAYS = 92
REPORT_HELP = "`this month`, `last month`, `2026-11`, `week`, `last week` or `2026-11-01..2026-11-30`"
KINDS = ("hours", "absence")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@runtime_checkable
class EveryonesSessions(Protocol):
    """A clock vendor that reads everyone's sessions at once: (vendor id, name, session)."""

    def everyones_sessions(self, start: datetime, end: datetime) -> list[tuple[str, str | None, ClockSession]]: ...


def parse_report_period(text: str, today: date) -> tuple[date, date]:
    raw = " ".join(text.split()).lower()
    first_of_month = today.replace(day=1)
    monday = today - timedelta(days=today.weekday())
    if raw in {"month", "this month"}:
        return first_of_month, _month_end(first_of_month)
    if raw == "last month":
        start = (first_of_month - timedelta(days=1)).replace(day=1)
        return start, first_of_month - timedelta(days=1)
    if raw in {"week", "this week"}:
        return monday, monday + timedelta(days=6)
    if raw == "last week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if ".." in raw:
        return parse_date_range(raw, text, MAX_REPORT_DAYS, REPORT_HELP)
    try:
        month = date.fromisoformat(raw + "-01") if len(raw) == 7 else None
    except ValueError:
        month = None
    if month is None:
        raise InputError(f"I don't understand the period {quote(text)}. Try {REPORT_HELP}.")
    return month, _month_end(month)


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class Report:
    kind: str
    start: date
    end: date
    scope: Scope
    filename: str
    csv: str
    people: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Person:
    key: str  # slack id, or "vendor:<id>" for someone only the vendor knows
    slack_user_id: str | None
    name: str
    tz: ZoneInfo


class Reports:
    def __init__(
        self,
        people: People,
        store: Store,
        router: Router,
        whos_off: WhosOff,
        morning: MorningView,
        *,
        approvers: Callable[[], list[str]],
        sick: SickLeave,
    ) -> None:
        self.people = people
        self.store = store
        self.router = router
        self.whos_off = whos_off
        self.morning = morning
        self.configured_approvers = approvers
        self.sick = sick

    # --- rights ----------------------------------------------------------------------------

    def allowed(self, actor: Actor | None) -> Callable[[str | None], bool]:
        """Whom ``actor`` may report on (None: the operator, on the command line: everyone)."""
        if actor is None or self.people.is_admin(actor):
            return lambda _slack_id: True
        approvees = self._approvees(actor)
        if not approvees:
            self.people.audit(actor.team_id, actor.user_id, "-", "team report", "refused", "not an approver")
            raise UserError("Team reports are for admins and leave approvers: you approve nobody's leave here.")
        return lambda slack_id: slack_id is not None and slack_id in approvees

    def _approvees(self, actor: Actor) -> frozenset[str]:
        vendor = self.router.decision()
        configured = actor.user_id in set(self.configured_approvers())
        found: set[str] = set()
        rows = self.store.identities_for_vendor(actor.team_id, vendor.name) if vendor is not None else []
        named_by_vendor: set[str] = set()
        email = (actor.email or "").lower()
        for row in rows:
            assert vendor is not None  # there are rows only with a vendor
            try:
                approvers = vendor.approvers(self.people.vendor_user(row))
            except (VendorError, UndecryptableSecret):
                approvers = []
            if approvers:
                named_by_vendor.add(row.slack_user_id)
                if email and any((p.email or "").lower() == email for p in approvers):
                    found.add(row.slack_user_id)
        if configured:  # the approvers of everyone the vendor names no approver for
            found |= {p.slack_user_id for p in self.store.people(actor.team_id)} - named_by_vendor
        found.discard(actor.user_id)
        return frozenset(found)

    # --- building --------------------------------------------------------------------------

    def build(
        self, actor: Actor | None, team_id: str, kind: str, start: date, end: date, scope: Scope, tz: ZoneInfo
    ) -> Report:
        if kind not in KINDS:
            raise InputError(f"There's no {quote(kind)} report: `hours` or `absence`.")
        may = self.allowed(actor)
        members = None if scope.everyone else self.morning.members(team_id, scope)

        def wanted(slack_id: str | None) -> bool:
            return may(slack_id) and (members is None or slack_id in members)

        people = {p.slack_user_id: p for p in self.store.people(team_id)}
        if kind == "hours":
            text, count, notes = self._hours(team_id, start, end, wanted, people, tz)
        else:
            text, count, notes = self._absence(actor, team_id, start, end, scope, wanted)
        if actor is not None:
            self.people.audit(
                team_id,
                actor.user_id,
                "-",
                f"{kind} report",
                "ok",
                f"{start}..{end} {scope.stored() or 'everyone'}: {count} people",
            )
        filename = f"timebot-{kind}-{start.isoformat()}-to-{end.isoformat()}.csv"
        return Report(kind, start, end, scope, filename, text, count, tuple(notes))

    def _hours(
        self,
        team_id: str,
        start: date,
        end: date,
        wanted: Callable[[str | None], bool],
        people: dict[str, Any],
        tz: ZoneInfo,
    ) -> tuple[str, int, list[str]]:
        vendor = self.router.sessions()
        rows = self.store.identities_for_vendor(team_id, vendor.name)
        by_vendor_id = {r.vendor_user_id.lower(): r.slack_user_id for r in rows}
        by_email = {p.email.lower(): sid for sid, p in people.items() if p.email}
        lo = datetime.combine(start - timedelta(days=1), time(0), tz)  # zones up to a day behind the report's
        hi = datetime.combine(end + timedelta(days=2), time(0), tz)
        sessions: dict[str, list[ClockSession]] = defaultdict(list)
        who: dict[str, _Person] = {}
        notes: list[str] = []

        def person(slack_id: str | None, vendor_id: str, name: str | None) -> _Person:
            known = people.get(slack_id) if slack_id else None
            zone = self.people.zone(known.tz) if known and known.tz else tz
            label = (known.name if known and known.name else None) or name or f"{vendor.label} user {vendor_id}"
            return _Person(slack_id or f"vendor:{vendor_id}", slack_id, label, zone)

        if isinstance(vendor, EveryonesSessions) and getattr(vendor, "company_wide", False):
            directory: dict[str, str | None] | None = None  # read only for someone not linked yet

            def email_of(code: str) -> str:
                nonlocal directory
                if directory is None:
                    identity = as_identity(vendor)
                    directory = (
                        {p.vendor_user_id.lower(): p.email for p in self.people.directory(identity)}
                        if identity is not None
                        else {}
                    )
                return (directory.get(code.lower()) or "").lower()

            for code, name, session in vendor.everyones_sessions(lo, hi):
                slack_id = by_vendor_id.get(code.lower()) or by_email.get(email_of(code))
                if not wanted(slack_id):
                    continue
                p = who.setdefault(slack_id or f"vendor:{code}", person(slack_id, code, name))
                sessions[p.key].append(session)
        else:
            for row in rows:
                if not wanted(row.slack_user_id):
                    continue
                try:
                    user = self.people.vendor_user(row)
                except UndecryptableSecret:
                    notes.append(f"{row.slack_user_id}: stored key unreadable, left out")
                    continue
                p = who.setdefault(row.slack_user_id, person(row.slack_user_id, row.vendor_user_id, None))
                sessions[p.key].extend(vendor.sessions(user, lo, hi))
            notes.append(f"{vendor.label} shows people who linked their account only ({len(rows)} so far).")
        now = self.people.now()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["person", "week starting", *WEEKDAYS, "week total"])
        for p in sorted(who.values(), key=lambda x: x.name.lower()):
            totals = {d.day: d.worked for d in day_totals(sessions[p.key], start, end, p.tz, now).days}
            monday = start - timedelta(days=start.weekday())
            while monday <= end:
                week = [monday + timedelta(days=i) for i in range(7)]
                cells = [_hours(totals[d]) if d in totals else "" for d in week]
                total = sum((totals[d] for d in week if d in totals), timedelta())
                writer.writerow([_cell(p.name), monday.isoformat(), *cells, _hours(total)])
                monday += timedelta(days=7)
        return out.getvalue(), len(who), notes

    def _absence(
        self,
        actor: Actor | None,
        team_id: str,
        start: date,
        end: date,
        scope: Scope,
        wanted: Callable[[str | None], bool],
    ) -> tuple[str, int, list[str]]:
        report = self.whos_off.whos_off(team_id, start, end, scope)
        if actor is not None:  # the sick rule: someone else's sick leave reads "off" except to admins
            report = report.masked(
                show_kind=True, sick=self.sick, viewer=actor.user_id, admin=self.people.is_admin(actor)
            )
        days: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        names: dict[str, str] = {}
        for day in report.days:
            for entry in day.entries:
                if not wanted(entry.slack_user_id):
                    continue
                key = entry.slack_user_id or f"name:{entry.name}"
                names[key] = entry.name
                days[(key, entry.kind or "off")][entry.status] += 1.0 if entry.portion is Portion.FULL else 0.5
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["person", "kind", "working days approved", "working days pending"])
        for (key, kind), by_status in sorted(days.items(), key=lambda kv: (names[kv[0][0]].lower(), kv[0][1])):
            writer.writerow(
                [
                    _cell(names[key]),
                    _cell(kind),
                    _days(by_status.get("approved", 0.0)),
                    _days(by_status.get("pending", 0.0)),
                ]
            )
        return out.getvalue(), len(names), list(report.notes)

    # --- delivery --------------------------------------------------------------------------

    def upload(self, actor: Actor, report: Report) -> None:
        """The CSV into the person's DM with Timebot: one files.uploadV2 (get URL, upload, complete)."""
        period = fmt.day_range(report.start, report.end)
        try:
            self.people.slack.upload(
                actor.user_id,
                report.filename,
                report.csv.encode(),
                title=f"{report.kind.capitalize()} report, {period}",
                comment=f"Your {report.kind} report for {period} ({report.scope.describe()}, {report.people} people).",
            )
        except SlackError as exc:
            log.warning("report upload refused: %s", exc.error)
            raise UserError(f"Slack wouldn't take the report file ({exc.error}).") from None


def _cell(text: str) -> str:
    """A spreadsheet opens a cell starting with = + - @ as a formula: a name can't run one."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _hours(worked: timedelta) -> str:
    return f"{worked.total_seconds() / 3600:.2f}"


def _days(value: float) -> str:
    return f"{value:g}"


def approver_ids(text: str) -> Iterable[str]:
    return [x.strip() for x in text.split(",") if x.strip() and x.strip()[0] in "UW"]
