"""What a person sees about themselves: ``/timebot status`` and the App Home tab."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain import Absence, Action, Actor, ClockSession
from bot.errors import UserError, VendorError
from bot.usecases.clock import Clock
from bot.usecases.people import LinkedIdentity, People
from bot.vendors.registry import Router
from storage.queries import Store


@dataclass(frozen=True)
class StatusReport:
    identities: list[LinkedIdentity]
    clock_vendor: str | None
    session: ClockSession | None
    clock_error: str | None
    needs_link: list[tuple[str, str]]  # (vendor name, label) the person must link themselves


@dataclass(frozen=True)
class HomeState:
    status: StatusReport
    leave_vendor: str | None
    upcoming: list[Absence]
    leave_error: str | None


class Home:
    def __init__(self, people: People, clock: Clock, store: Store, router: Router) -> None:
        self.people = people
        self.clock = clock
        self.store = store
        self.router = router

    def status(self, actor: Actor) -> StatusReport:
        rows = self.store.identities_of(actor.team_id, actor.user_id)
        identities = [
            LinkedIdentity(
                r.vendor,
                self.router.vendors[r.vendor].label if r.vendor in self.router.vendors else r.vendor,
                r.vendor_user_id,
                r.linked_by,
            )
            for r in rows
        ]
        linked = {r.vendor for r in rows}
        needs = []
        for action in (Action.CLOCK, Action.LEAVE):
            v = self.router.maybe(action)
            if v is not None and v.link_fields and v.name not in linked and (v.name, v.label) not in needs:
                needs.append((v.name, v.label))
        session = error = None
        clock_vendor = self.router.maybe(Action.CLOCK)
        if clock_vendor is not None and (clock_vendor.name in linked or not clock_vendor.link_fields):
            try:
                session = self.clock.clock_state(actor)
            except (VendorError, UserError) as exc:
                error = _words(exc)
        return StatusReport(identities, clock_vendor.label if clock_vendor else None, session, error, needs)

    def home(self, actor: Actor) -> HomeState:
        status = self.status(actor)
        leave_vendor = self.router.maybe_leave()
        upcoming: list[Absence] = []
        error = None
        if leave_vendor is not None:
            try:
                user = self.people.identity(actor, leave_vendor)
                today = actor.today(self.people.now())
                upcoming = sorted(
                    leave_vendor.my_absences(user, today, today + timedelta(days=180)), key=lambda a: a.start
                )
            except (VendorError, UserError) as exc:
                error = _words(exc)
        return HomeState(status, leave_vendor.label if leave_vendor else None, upcoming, error)


def _words(exc: VendorError | UserError) -> str:
    return exc.user_message if isinstance(exc, VendorError) else exc.message
