"""The types Timebot speaks: what use cases, handlers and vendor connectors pass each other.

They know nothing of Slack or of any one vendor's wire format.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


class Action(enum.StrEnum):
    """What a person can ask of a vendor; each connector declares the ones it supports."""

    CLOCK = "clock"
    LEAVE = "leave"
    WHOS_OFF = "whos_off"
    HOLIDAYS = "holidays"
    IDENTITY = "identity"
    DEPARTMENTS = "departments"
    HOURS = "hours"  # the person's own sessions over a period (hours worked)
    WHOS_IN = "whos_in"  # who is clocked in right now
    LEAVE_DECISION = "leave_decision"  # the vendor reports approved / declined / cancelled
    CANCEL = "cancel"  # a person can withdraw their own request
    BALANCES = "balances"  # the vendor states what is left of a person's allowance

    @property
    def phrase(self) -> str:
        """How the action reads in a sentence shown to people."""
        return {
            Action.CLOCK: "clocking in and out",
            Action.LEAVE: "leave requests",
            Action.WHOS_OFF: "who's off",
            Action.HOLIDAYS: "public holidays",
            Action.IDENTITY: "matching people by email",
            Action.DEPARTMENTS: "departments",
            Action.HOURS: "hours worked",
            Action.WHOS_IN: "who's in now",
            Action.LEAVE_DECISION: "approval status",
            Action.CANCEL: "cancelling leave",
            Action.BALANCES: "leave balances",
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


def email_index(people: Iterable[VendorPerson]) -> dict[str, VendorPerson]:
    """A directory keyed by email as people type it in either system (case and spaces aside);
    the first entry wins when two share one. Used by the lazy match and by ``users sync``."""
    index: dict[str, VendorPerson] = {}
    for person in people:
        if person.email:
            index.setdefault(email_key(person.email), person)
    return index


def email_key(email: str) -> str:
    return email.strip().lower()


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
class RunningSession:
    """Someone clocked in right now, as a company-wide or per-person read found them."""

    vendor_user_id: str
    session: ClockSession
    person_name: str | None = None


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
    decided_by: str | None = None  # who approved or declined it, where the vendor says

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


@dataclass(frozen=True)
class Actor:
    """Who is asking: their Slack identity, time zone and whether they may administer."""

    team_id: str
    user_id: str
    tz: ZoneInfo
    name: str | None = None
    email: str | None = None
    is_admin: bool = False  # as of the person cache (hours old): admin-only actions ask People.is_admin

    def today(self, now: datetime | None = None) -> date:
        return (now or datetime.now(UTC)).astimezone(self.tz).date()


@dataclass(frozen=True)
class QuietHours:
    """A daily span in each person's own zone when no reminder is sent (it may wrap midnight)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """``21:00-07:00``; empty or ``off`` for none."""
        raw = text.strip().lower()
        if raw in {"", "off", "none"}:
            return None
        left, sep, right = raw.partition("-")
        try:
            if not sep:
                raise ValueError
            return cls(time.fromisoformat(left.strip()), time.fromisoformat(right.strip()))
        except ValueError:
            raise ValueError(f"{text!r} is not a span like 21:00-07:00 (or off)") from None

    def contains(self, local: datetime) -> bool:
        now = local.time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end


@dataclass(frozen=True)
class Balance:
    """What is left of an allowance, in the vendor's own figure and unit: shown, never recomputed.

    ``applies_to`` names the leave types it is drawn from (empty: every type)."""

    label: str
    remaining: str
    unit: str = ""
    applies_to: frozenset[str] = frozenset()


# Words that make a leave kind sick leave, by part of its name in any case: "Sick day", "Sick Leave
# (unpaid)", "Sickness", "Illness", "Ill health", "Medical leave". Kept to words that mean illness,
# not merely health: a "Doctor's appointment" or "Dentist" kind stays visible unless added.
SICK_WORDS = ("sick", "illness", "ill health", "medical")


@dataclass(frozen=True)
class SickLeave:
    """The one rule for which leave kinds are sick leave: a kind is sick when its name contains one
    of ``words`` (case-insensitive). Sick leave reads "off" to everyone but the person and admins,
    in every list, digest, DM and status; its note is never shown to others."""

    words: tuple[str, ...] = SICK_WORDS

    @classmethod
    def with_extra(cls, extra: str) -> SickLeave:
        """The built-in words plus ``extra`` (``TIMEBOT_SICK_LEAVE_TYPES``: comma-separated)."""
        added = [w.strip().lower() for w in extra.split(",") if w.strip()]
        return cls(tuple(dict.fromkeys([*SICK_WORDS, *added])))

    def __call__(self, kind: str | None) -> bool:
        name = (kind or "").casefold()
        return bool(name) and any(word.casefold() in name for word in self.words)


SICK_LEAVE = SickLeave()  # the built-in words alone, where no setting reaches (defaults)
