"""The one protocol every vendor connector implements, and the types it speaks.

Handlers and use cases only ever see these types, so adding a vendor means adding one
module under ``bot/vendors/`` and listing it in ``registry.VENDOR_MODULES``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar, Protocol, runtime_checkable

from pydantic_settings import BaseSettings


class Action(enum.StrEnum):
    """What a person can ask of a vendor; each connector declares the ones it supports."""

    CLOCK = "clock"
    LEAVE = "leave"
    WHOS_OFF = "whos_off"
    HOLIDAYS = "holidays"
    IDENTITY = "identity"

    @property
    def phrase(self) -> str:
        """How the action reads in a sentence shown to people."""
        return {
            Action.CLOCK: "clocking in and out",
            Action.LEAVE: "leave requests",
            Action.WHOS_OFF: "who's off",
            Action.HOLIDAYS: "public holidays",
            Action.IDENTITY: "matching people by email",
        }[self]


class Portion(enum.StrEnum):
    """Which part of a day an absence covers."""

    FULL = "full"
    AM = "am"  # the morning only
    PM = "pm"  # the afternoon only


@dataclass(frozen=True)
class VendorUser:
    """Whom a call acts as: the vendor's id for the person and, for vendors that scope every
    call to the key's owner (TimeClock), that person's decrypted credential."""

    vendor_user_id: str
    secret: str | None = None


@dataclass(frozen=True)
class VendorPerson:
    """A directory entry, used to match Slack users by email."""

    vendor_user_id: str
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ClockSession:
    """A clocked work period; times are timezone-aware UTC."""

    session_id: str
    started_at: datetime
    ended_at: datetime | None = None
    project: str | None = None
    note: str | None = None

    @property
    def running(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class LeaveType:
    id: str
    name: str


@dataclass(frozen=True)
class LeaveRequest:
    """Inclusive whole-day range; the portions say whether the first/last day is half."""

    start: date
    end: date
    leave_type: str
    start_portion: Portion = Portion.FULL
    end_portion: Portion = Portion.FULL
    note: str | None = None


@dataclass(frozen=True)
class Absence:
    """One person's leave over an inclusive date range.

    ``reason`` is the person's own free text: it may be shown to them, never in a channel.
    """

    vendor_user_id: str
    start: date
    end: date
    start_portion: Portion = Portion.FULL
    end_portion: Portion = Portion.FULL
    kind: str | None = None
    reason: str | None = None
    status: str = "approved"
    absence_id: str | None = None
    person_name: str | None = None
    person_email: str | None = None

    def portion_on(self, day: date) -> Portion | None:
        """The part of ``day`` this absence covers, or None when it does not cover it."""
        if day < self.start or day > self.end:
            return None
        if day == self.start and self.start_portion is not Portion.FULL:
            return self.start_portion
        if day == self.end and self.end_portion is not Portion.FULL:
            return self.end_portion
        return Portion.FULL


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str


@dataclass(frozen=True)
class LinkField:
    """One input of the link modal, declared by the vendor so handlers stay generic."""

    name: str
    label: str
    hint: str = ""
    secret: bool = False


# --- errors -------------------------------------------------------------------------------


class VendorError(Exception):
    """Base of every failure a connector reports; ``user_message`` is safe to show a person."""

    def __init__(self, vendor: str, user_message: str, *, detail: str = "") -> None:
        super().__init__(f"{vendor}: {user_message}" + (f" ({detail})" if detail else ""))
        self.vendor = vendor
        self.user_message = user_message
        self.detail = detail


class VendorAuthError(VendorError):
    """The vendor refused our credentials (bad key, revoked key, wrong signature)."""


class VendorUnavailable(VendorError):
    """The vendor could not be reached, timed out, or its circuit is open."""


class VendorRejected(VendorError):
    """The vendor understood the request and refused it (validation, conflict, not found)."""

    def __init__(self, vendor: str, user_message: str, *, field: str | None = None, detail: str = "") -> None:
        super().__init__(vendor, user_message, detail=detail)
        self.field = field


class SessionCrossesMidnight(VendorRejected):
    """The vendor cannot end a session on a later day than it started (TimeClock)."""

    def __init__(self, vendor: str, session: ClockSession, day: date) -> None:
        super().__init__(vendor, "A session can't last through midnight.")
        self.session = session
        self.day = day


class OutcomeUnknown(VendorError):
    """A write was sent but no answer came back: it may or may not have happened.

    ``vendor_finished`` says the vendor is done with the request (it answered with an error), so
    a check made now shows whether it landed for good; after a timeout it may still be working.
    """

    def __init__(self, vendor: str, user_message: str, *, detail: str = "", vendor_finished: bool = False) -> None:
        super().__init__(vendor, user_message, detail=detail)
        self.vendor_finished = vendor_finished


class NotSupported(VendorError):
    """The vendor lacks the action; raised before anything is sent."""

    def __init__(self, vendor_label: str, action: Action) -> None:
        super().__init__(vendor_label, f"{vendor_label} doesn't support {action.phrase}.")
        self.action = action


class WithoutClock:
    """The clock half of the protocol for vendors that keep no attendance: declared missing,
    refused before anything is sent (the router also checks ``SPEC`` first)."""

    label: str
    clock_notes: ClassVar[bool] = False

    def current_session(self, user: VendorUser) -> ClockSession | None:
        raise NotSupported(self.label, Action.CLOCK)

    def clock_in(self, user: VendorUser, *, project: str | None = None, note: str | None = None) -> ClockSession:
        raise NotSupported(self.label, Action.CLOCK)

    def clock_out(self, user: VendorUser, session: ClockSession, *, at: datetime | None = None,
                  note: str | None = None) -> ClockSession:
        raise NotSupported(self.label, Action.CLOCK)


# --- the protocol ---------------------------------------------------------------------------


@runtime_checkable
class Vendor(Protocol):
    """A connector. Methods for actions outside ``capabilities`` raise ``NotSupported``."""

    name: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Action]]
    half_days: ClassVar[bool]
    clock_notes: ClassVar[bool]  # a clock-out note is kept; when not, the person is told it wasn't
    link_fields: ClassVar[tuple[LinkField, ...]]

    def link(self, fields: Mapping[str, str]) -> tuple[VendorUser, VendorPerson]:
        """Exchange what the person typed in the link modal for their identity."""
        ...

    def people(self) -> list[VendorPerson]:
        """Everyone in the vendor's directory (Action.IDENTITY)."""
        ...

    def current_session(self, user: VendorUser) -> ClockSession | None: ...

    def clock_in(self, user: VendorUser, *, project: str | None = None, note: str | None = None) -> ClockSession: ...

    def clock_out(
        self, user: VendorUser, session: ClockSession, *, at: datetime | None = None, note: str | None = None
    ) -> ClockSession: ...

    def leave_types(self) -> list[LeaveType]: ...

    def request_leave(self, user: VendorUser, request: LeaveRequest) -> Absence: ...

    def my_absences(self, user: VendorUser, start: date, end: date) -> list[Absence]:
        """The person's own absences overlapping [start, end] (App Home, outcome checks)."""
        ...

    def absences(self, start: date, end: date, users: Sequence[VendorUser]) -> list[Absence]:
        """Everyone's absences overlapping [start, end]. ``users`` are the linked people, for
        vendors that can only be asked per person; company-wide vendors may ignore it."""
        ...

    def holidays(self, start: date, end: date) -> list[Holiday]: ...

    def check(self) -> str:
        """Authenticate and make one read call; return a short description of what was read."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class VendorSpec:
    """How the registry finds, configures and builds one vendor."""

    name: str
    label: str
    settings_cls: type[BaseSettings]
    is_configured: Callable[[BaseSettings], bool]
    build: Callable[..., Vendor]
    settings_hint: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)


def unsupported(vendor: Vendor, action: Action) -> NotSupported:
    return NotSupported(vendor.label, action)
