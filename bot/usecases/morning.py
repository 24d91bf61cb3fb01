"""A manager's morning view: ``/whosin #team`` (or ``@group``, ``dept=``): of a scope's people,
who is clocked in, who is on leave and who is not in yet, each by their own time zone.

"Today" is each person's own: at 9:00 in London it is already afternoon in Helsinki and still
night in Chicago, so someone in Chicago is "not working yet" rather than "not in", and a person
whose today is a weekend or a public holiday is not expected in. The clocked-in read and the
leave read are one call each on a company-wide vendor; leave spans at most the two dates the
people's zones fall on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.domain import Actor, SickLeave
from bot.errors import UserError, VendorError
from bot.usecases.people import People
from bot.usecases.ranges import is_working_day
from bot.usecases.scope import Scope
from bot.usecases.whos_in import InEntry, WhosIn
from bot.usecases.whos_off import OffEntry, WhosOff
from bot.vendors.base import as_identity
from bot.vendors.registry import Router
from storage.store import Store


@dataclass(frozen=True)
class Member:
    slack_user_id: str
    name: str
    local: datetime  # their own wall clock now


@dataclass(frozen=True)
class MorningReport:
    now: datetime
    scope: Scope
    clocked_in: list[InEntry]
    on_leave: list[OffEntry]
    not_in: list[Member]  # a working day for them, not clocked in, not on leave
    not_working: list[Member]  # their today is a weekend or a public holiday
    notes: list[str] = field(default_factory=list)


class MorningView:
    def __init__(
        self,
        people: People,
        store: Store,
        router: Router,
        whos_in: WhosIn,
        whos_off: WhosOff,
        *,
        show_kind: bool,
        sick: SickLeave,
    ) -> None:
        self.people = people
        self.store = store
        self.router = router
        self.whos_in = whos_in
        self.whos_off = whos_off
        self.show_kind = show_kind
        self.sick = sick

    def view(self, actor: Actor, scope: Scope) -> MorningReport:
        members = self.members(actor.team_id, scope)
        now = self.people.now()
        known = {p.slack_user_id: p for p in self.store.people(actor.team_id) if p.slack_user_id in members}
        local = {sid: now.astimezone(self.people.zone(p.tz)) for sid, p in known.items()}
        days = {moment.date() for moment in local.values()} or {actor.today(now)}
        notes: list[str] = []
        try:
            clocked, clock_notes = self.whos_in.clocked_in(actor.team_id)
        except UserError as exc:  # no vendor here keeps clock sessions: leave still shows
            clocked, clock_notes = [], [exc.message]
        notes.extend(clock_notes)
        clocked = [e for e in clocked if e.slack_user_id in members]
        working = {e.slack_user_id for e in clocked}
        on_leave: list[OffEntry] = []
        holidays: set[date] = set()
        try:
            report = self.whos_off.whos_off(actor.team_id, min(days), max(days), scope).masked(
                show_kind=self.show_kind, sick=self.sick, viewer=actor.user_id, admin=actor.is_admin
            )
            holidays = {h.day for h in report.holidays}
            today = actor.today(now)
            seen: set[str] = set()
            for day in report.days:
                for entry in day.entries:
                    mine = local.get(entry.slack_user_id or "")
                    own_day = mine.date() if mine else today  # someone only the vendor knows: the asker's today
                    who = entry.slack_user_id or entry.name
                    if day.day == own_day and who not in seen and entry.slack_user_id not in working:
                        seen.add(who)
                        on_leave.append(entry)
        except VendorError as exc:  # who is in still answers when leave can't be read
            notes.append(f"Leave couldn't be read: {exc.user_message}")
        away = {e.slack_user_id for e in on_leave if e.slack_user_id}
        not_in: list[Member] = []
        not_working: list[Member] = []
        for sid, person in known.items():
            if sid in working or sid in away:
                continue
            member = Member(sid, person.name or sid, local[sid])
            (not_in if is_working_day(local[sid].date(), holidays) else not_working).append(member)
        unknown = len(members - set(known))
        if unknown:
            notes.append(
                f"{unknown} of them {'is' if unknown == 1 else 'are'} not known to Timebot yet (a bot, or "
                "someone who hasn't used it since the last directory read)."
            )
        on_leave.sort(key=lambda e: e.name.lower())
        not_in.sort(key=lambda m: m.name.lower())
        not_working.sort(key=lambda m: m.name.lower())
        return MorningReport(now, scope, clocked, on_leave, not_in, not_working, notes)

    def members(self, team_id: str, scope: Scope) -> frozenset[str]:
        """The Slack ids of a scope's people: a channel's members, a group's, or a department's
        (its vendor ids matched to Slack by link or by email)."""
        if scope.everyone:
            return frozenset(p.slack_user_id for p in self.store.people(team_id))
        in_slack, in_vendor = self.whos_off.in_scope(scope, fresh=True)
        if in_slack is not None:
            return in_slack
        assert in_vendor is not None
        vendor = self.router.departments()
        assert vendor is not None  # in_scope refused dept= without one
        found = {
            r.slack_user_id
            for r in self.store.identities_for_vendor(team_id, vendor.name)
            if r.vendor_user_id in in_vendor
        }
        identity = as_identity(vendor)
        if identity is not None:
            emails = {
                (p.email or "").lower()
                for p in self.people.directory(identity)
                if p.vendor_user_id in in_vendor and p.email
            }
            found |= {p.slack_user_id for p in self.store.people(team_id) if p.email and p.email.lower() in emails}
        return frozenset(found)
