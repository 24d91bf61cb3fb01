"""Who's in now: everyone clocked in, with since when; people on leave today shown apart.

A company-wide vendor is read once (a call per page) and names unlinked people itself; TimeClock
is asked per linked person, concurrently and bounded (the connector's ``TIMECLOCK_CONCURRENCY``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.crypto import UndecryptableSecret
from bot.domain import SickLeave
from bot.errors import VendorError
from bot.usecases.people import People
from bot.usecases.whos_off import OffEntry, WhosOff, visible_kind
from bot.vendors.registry import Router
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InEntry:
    slack_user_id: str | None
    name: str
    since: datetime
    project: str | None = None


@dataclass(frozen=True)
class WhosInReport:
    vendor: str
    now: datetime
    entries: list[InEntry]
    on_leave: list[OffEntry]
    notes: list[str] = field(default_factory=list)

    def masked(self, *, show_kind: bool, sick: SickLeave, viewer: str, admin: bool = False) -> WhosInReport:
        """What ``viewer`` may read of who is on leave: sick leave as "off" (see ``visible_kind``)."""
        return replace(
            self,
            on_leave=[
                replace(
                    e,
                    kind=visible_kind(
                        e.kind, e.slack_user_id, show_kind=show_kind, sick=sick, viewer=viewer, admin=admin
                    ),
                )
                for e in self.on_leave
            ],
        )


class WhosIn:
    def __init__(self, people: People, store: Store, router: Router, whos_off: WhosOff) -> None:
        self.people = people
        self.store = store
        self.router = router
        self.whos_off = whos_off

    def whos_in(self, team_id: str, today_for: str) -> WhosInReport:
        """``today_for``: whose "today" the leave is read for (the person asking)."""
        vendor = self.router.whos_in()
        entries, notes = self.clocked_in(team_id)
        on_leave: list[OffEntry] = []
        now = self.people.now()
        try:
            today = self.people.cached_zone(team_id, today_for)
            day = now.astimezone(today).date()
            report = self.whos_off.whos_off(team_id, day, day)
            working = {e.slack_user_id for e in entries if e.slack_user_id}
            on_leave = [
                e for d in report.days for e in d.entries if e.slack_user_id is None or e.slack_user_id not in working
            ]
        except VendorError as exc:  # who is in still answers when leave can't be read
            notes.append(f"Leave couldn't be read: {exc.user_message}")
        return WhosInReport(vendor.label, now, entries, on_leave, notes)

    def clocked_in(self, team_id: str) -> tuple[list[InEntry], list[str]]:
        """Everyone clocked in now (earliest first), and notes on whom the vendor couldn't show."""
        vendor = self.router.whos_in()
        rows = self.store.identities_for_vendor(team_id, vendor.name)
        users = []
        if not vendor.company_wide:
            for row in rows:
                try:
                    users.append(self.people.vendor_user(row))
                except UndecryptableSecret:
                    log.warning("who's in skips identity %s: its stored key cannot be decrypted", row.id)
        running = vendor.clocked_in(users)
        by_vendor_id = {r.vendor_user_id.lower(): r.slack_user_id for r in rows}
        people = {p.slack_user_id: p for p in self.store.people(team_id)}
        entries = []
        for item in running:
            slack_id = by_vendor_id.get(item.vendor_user_id.lower())
            person = people.get(slack_id) if slack_id else None
            name = (
                (person.name if person and person.name else None)
                or item.person_name
                or f"{vendor.label} user {item.vendor_user_id}"
            )
            entries.append(InEntry(slack_id, name, item.session.started_at, item.session.project))
        entries.sort(key=lambda e: (e.since, e.name.lower()))
        notes = []
        if not vendor.company_wide:
            notes.append(f"{vendor.label} only shows people who linked their account ({len(rows)} so far).")
        return entries, notes
