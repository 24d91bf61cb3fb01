"""What a vendor connector is, split by capability.

Every connector is a ``Vendor``; for each ``Action`` it declares in ``capabilities`` it also
implements that action's protocol, and nothing else: an action it lacks has no method to call.
The router checks the declaration against the methods once, when it is built, and hands use
cases a connector typed for the action (``Router.clock()`` is a ``ClockVendor``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Generic, Protocol, TypeVar, cast, runtime_checkable

from pydantic_settings import BaseSettings

from bot.domain import (
    Absence,
    Action,
    Balance,
    ClockSession,
    Holiday,
    LeaveRequest,
    LeaveType,
    LinkField,
    RunningSession,
    VendorPerson,
    VendorUser,
)
from bot.vendors.http import HttpPolicy
from bot.vendors.settings import env_name


@runtime_checkable
class Vendor(Protocol):
    """What every connector does, whatever it can: link a person, check itself, close."""

    name: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Action]]
    link_fields: ClassVar[tuple[LinkField, ...]]

    def link(self, fields: Mapping[str, str]) -> tuple[VendorUser, VendorPerson]:
        """Exchange what the person typed in the link modal for their identity."""
        ...

    def check(self) -> str:
        """Authenticate and make one read call; return a short description of what was read."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ClockVendor(Vendor, Protocol):
    """Action.CLOCK."""

    clock_notes: ClassVar[bool]  # a clock-out note is kept; when not, the person is told it wasn't
    clock_in_at: ClassVar[bool]  # a clock-in can be recorded at a given time (``at``); when not, ``at`` is ignored

    def current_session(self, user: VendorUser) -> ClockSession | None: ...

    def clock_in(
        self, user: VendorUser, *, project: str | None = None, note: str | None = None, at: datetime | None = None
    ) -> ClockSession: ...

    def clock_out(
        self, user: VendorUser, session: ClockSession, *, at: datetime | None = None, note: str | None = None
    ) -> ClockSession: ...

    def session_day_end(self, session: ClockSession) -> datetime | None:
        """The latest end the vendor accepts for ``session`` (its day's midnight), or None."""
        ...


@runtime_checkable
class LeaveVendor(Vendor, Protocol):
    """Action.LEAVE."""

    half_days: ClassVar[bool]

    def leave_types(self) -> list[LeaveType]: ...

    def request_leave(self, user: VendorUser, request: LeaveRequest) -> Absence: ...

    def my_absences(self, user: VendorUser, start: date, end: date) -> list[Absence]:
        """The person's own absences overlapping [start, end] (App Home, outcome checks)."""
        ...


@runtime_checkable
class WhosOffVendor(Vendor, Protocol):
    """Action.WHOS_OFF."""

    def absences(self, start: date, end: date, users: Sequence[VendorUser]) -> list[Absence]:
        """Everyone's absences overlapping [start, end]. ``users`` are the linked people, for
        vendors that can only be asked per person; company-wide vendors may ignore it."""
        ...


@runtime_checkable
class HolidaysVendor(Vendor, Protocol):
    """Action.HOLIDAYS."""

    def holidays(self, start: date, end: date) -> list[Holiday]: ...


@runtime_checkable
class IdentityVendor(Vendor, Protocol):
    """Action.IDENTITY: people are matched by email."""

    def people(self) -> list[VendorPerson]:
        """Everyone in the vendor's directory."""
        ...


@runtime_checkable
class DepartmentsVendor(Vendor, Protocol):
    """Action.DEPARTMENTS: people belong to departments (a ``dept=NAME`` scope)."""

    def departments(self) -> dict[str, str]:
        """Each vendor user id's department name."""
        ...


@runtime_checkable
class LeaveDecisionVendor(LeaveVendor, Protocol):
    """Action.LEAVE_DECISION: requests carry approved / pending / denied / cancelled."""

    company_wide_status: ClassVar[bool]  # one call (per page) answers for everyone

    def leave_requests(self, start: date, end: date, users: Sequence[VendorUser]) -> list[Absence]:
        """Every request overlapping [start, end] in any status, cancelled and denied included:
        everyone's for company-wide vendors (``users`` ignored), else ``users``' own."""
        ...

    def approval_url(self, absence: Absence) -> str:
        """The vendor's own page where an approver decides (no vendor documents an approve call)."""
        ...

    def approvers(self, user: VendorUser) -> list[VendorPerson]:
        """The approvers the vendor names for ``user`` (empty: none named)."""
        ...


@runtime_checkable
class SessionsReader(ClockVendor, Protocol):
    """Action.HOURS: a person's own sessions, read back from the vendor (hours worked)."""

    def sessions(self, user: VendorUser, start: datetime, end: datetime) -> list[ClockSession]:
        """The person's sessions overlapping [start, end), a running one included (ended_at None)."""
        ...


@runtime_checkable
class CancelVendor(LeaveVendor, Protocol):
    """Action.CANCEL."""

    def cancel_leave(self, user: VendorUser, absence_id: str) -> None:
        """Withdraw ``user``'s request; a request already gone counts as done."""
        ...


@runtime_checkable
class CompanyClockState(ClockVendor, Protocol):
    """Action.WHOS_IN: who is clocked in right now."""

    company_wide: ClassVar[bool]  # one read (a call per page) sees everyone; else one read per linked person

    def clocked_in(self, users: Sequence[VendorUser]) -> list[RunningSession]:
        """Everyone with a running session. ``users`` are the linked people, for vendors that can
        only be asked per person; company-wide vendors may ignore it and name people themselves."""
        ...


@runtime_checkable
class BalanceVendor(Vendor, Protocol):
    """Action.BALANCES."""

    def balances(self, user: VendorUser) -> list[Balance]: ...


# `type[object]`: a protocol class is a fine isinstance() argument but not a concrete `type[Vendor]`.
PROTOCOLS: Mapping[Action, type[object]] = {
    Action.LEAVE_DECISION: LeaveDecisionVendor,
    Action.CANCEL: CancelVendor,
    Action.BALANCES: BalanceVendor,
    Action.CLOCK: ClockVendor,
    Action.LEAVE: LeaveVendor,
    Action.WHOS_OFF: WhosOffVendor,
    Action.HOLIDAYS: HolidaysVendor,
    Action.IDENTITY: IdentityVendor,
    Action.DEPARTMENTS: DepartmentsVendor,
    Action.HOURS: SessionsReader,
    Action.WHOS_IN: CompanyClockState,
}


def undeclared(vendor: Vendor) -> list[Action]:
    """Actions ``vendor`` declares without implementing their protocol (a connector bug)."""
    return [a for a in vendor.capabilities if not isinstance(vendor, PROTOCOLS[a])]


def as_identity(vendor: Vendor) -> IdentityVendor | None:
    """``vendor`` as a directory to match people by email, when it declares one."""
    return cast(IdentityVendor, vendor) if Action.IDENTITY in vendor.capabilities else None


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


@dataclass(frozen=True)
class VendorSpec(Generic[SettingsT]):
    """How the registry finds, configures and builds one vendor (``SettingsT``: its settings class)."""

    name: str
    label: str
    settings_cls: type[SettingsT]
    is_configured: Callable[[SettingsT], bool]
    build: Callable[[SettingsT, HttpPolicy], Vendor]
    settings_hint: str = ""
    required: tuple[str, ...] = ()  # settings fields without which the vendor is not configured
    credentials_hint: str = ""  # for an operator: the settings holding the credentials ``check()`` uses
    url_hint: str = ""  # … and where the vendor is

    def missing(self, settings: SettingsT) -> list[str]:
        """The required settings ``settings`` lacks, by their environment names."""

        def empty(value: object) -> bool:
            return not (value.get_secret_value() if hasattr(value, "get_secret_value") else value)

        return [env_name(self.settings_cls, f) for f in self.required if empty(getattr(settings, f, None))]
