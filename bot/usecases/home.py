"""What a person sees about themselves: ``/timebot status`` and the App Home tab."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import Absence, Action, Actor, ClockSession
from bot.errors import NotLinked, UserError, VendorError
from bot.usecases.clock import Clock
from bot.usecases.people import LinkedIdentity, People
from bot.vendors.base import as_identity
from bot.vendors.registry import Router
from storage.store import Store


@dataclass(frozen=True)
class StatusReport:
    identities: list[LinkedIdentity]
    clock_vendor: str | None
    session: ClockSession | None
    clock_error: str | None
    needs_link: list[tuple[str, str]]  # (vendor name, label) the person must link themselves
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (label, what to do) for email vendors

    @property
    def clock_linked(self) -> bool:
        """The person can clock (and has hours to show): linked to the vendor clocking goes to."""
        return bool(self.clock_vendor) and self.clock_vendor in {i.label for i in self.identities}


@dataclass(frozen=True)
class HomeState:
    status: StatusReport
    leave_vendor: str | None
    upcoming: list[Absence]
    leave_error: str | None
    leave_ready: bool = True  # False: the person can't request leave yet (the Home shows how to link)


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
        identities, unmatched = self._by_email(actor, identities, linked)
        needs = []
        for action in (Action.CLOCK, Action.LEAVE):
            v = self.router.maybe(action)
            if v is not None and v.link_fields and v.name not in linked and (v.name, v.label) not in needs:
                needs.append((v.name, v.label))
        session = error = None
        clock_vendor = self.router.maybe(Action.CLOCK)
        if clock_vendor is not None and clock_vendor.name in {i.vendor for i in identities}:
            try:
                session = self.clock.clock_state(actor)
            except (VendorError, UserError) as exc:
                error = _words(exc)
        return StatusReport(identities, clock_vendor.label if clock_vendor else None, session, error, needs, unmatched)

    def _by_email(
        self,
        actor: Actor,
        identities: list[LinkedIdentity],
        linked: set[str],
    ) -> tuple[list[LinkedIdentity], list[tuple[str, str]]]:
        """Vendors that match people by email have no row until first use: match now, so status
        says how the person is known there (with their name), or what to do when nobody matches."""
        named = []
        for i in identities:
            vendor = self.router.vendors.get(i.vendor)
            directory = as_identity(vendor) if vendor is not None and i.linked_by == "email" else None
            if directory is not None:
                try:
                    person = next(
                        (p for p in self.people.directory(directory) if p.vendor_user_id == i.vendor_user_id), None
                    )
                except VendorError:
                    person = None
                i = LinkedIdentity(i.vendor, i.label, i.vendor_user_id, i.linked_by, person.name if person else None)
            named.append(i)
        unmatched = []
        for vendor in self.people.routed_vendors():
            if vendor.link_fields or vendor.name in linked or as_identity(vendor) is None:
                continue
            try:
                user = self.people.identity(actor, vendor)
            except NotLinked as exc:
                unmatched.append((vendor.label, exc.message))
                continue
            except VendorError as exc:
                unmatched.append((vendor.label, exc.user_message))
                continue
            directory = as_identity(vendor)
            assert directory is not None
            person = next(
                (p for p in self.people.directory(directory) if p.vendor_user_id == user.vendor_user_id), None
            )
            named.append(
                LinkedIdentity(vendor.name, vendor.label, user.vendor_user_id, "email", person.name if person else None)
            )
        return named, unmatched

    def home(self, actor: Actor) -> HomeState:
        status = self.status(actor)
        leave_vendor = self.router.maybe_leave()
        upcoming: list[Absence] = []
        error = None
        ready = (
            leave_vendor is not None
            and not any(name == leave_vendor.name for name, _ in status.needs_link)
            and not any(label == leave_vendor.label for label, _ in status.unmatched)
        )
        # the person's leave itself is listed once, by the follow-up's ``my_leave`` (with Cancel buttons)
        return HomeState(status, leave_vendor.label if leave_vendor else None, upcoming, error, ready)


def _words(exc: VendorError | UserError) -> str:
    return exc.user_message if isinstance(exc, VendorError) else exc.message
