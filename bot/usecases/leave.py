"""Leave requests: the one place a request is validated, half days for vendors without them,
and the working days it costs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from bot import formatting as fmt
from bot.domain import Absence, Action, Actor, Balance, LeaveRequest, LeaveType, Portion, VendorUser
from bot.errors import FormErrors, OutcomeUnknown, VendorError, VendorUnavailable, outcome
from bot.telemetry import metrics
from bot.usecases.holidays import YEAR_AHEAD, HolidayCache
from bot.usecases.people import People
from bot.usecases.whos_off import holiday_days
from bot.usecases.writes import write_once
from bot.vendors.base import BalanceVendor, LeaveVendor
from bot.vendors.registry import Router

log = logging.getLogger(__name__)

MAX_LEAVE_DAYS = 366
TYPES_TTL = 12 * 3600.0  # seconds: a company's leave types change seldom, and the vendor still checks


@dataclass(frozen=True)
class LeaveResult:
    absence: Absence
    vendor: str
    working_days: float
    half_day_note: bool = False


@dataclass(frozen=True)
class LeaveForm:
    vendor: str
    types: list[LeaveType]
    half_days: bool
    balances: list[Balance] | None = None  # None: the vendor keeps no balance (never shown as 0)


def working_days(start: date, end: date, start_portion: Portion, end_portion: Portion, holidays: set[date]) -> float:
    """Weekdays in [start, end] that are not public holidays; half days count 0.5 (on a single
    day, the half marked at either end)."""
    if start == end and start_portion is Portion.FULL:
        start_portion = end_portion
    total = 0.0
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in holidays:
            portion = start_portion if day == start else end_portion if day == end else Portion.FULL
            total += 1.0 if portion is Portion.FULL else 0.5
        day += timedelta(days=1)
    return total


def named_type(types: list[LeaveType], words: str) -> tuple[LeaveType | None, bool]:
    """The type ``words`` name (part of its name, any case) and True; with no such type, the
    closest one (an "other" kind, else the first) and False; (None, True) when no words were typed."""
    wanted = " ".join(words.lower().split())
    if not wanted or not types:
        return None, not wanted
    matchers: tuple[Callable[[str], bool], ...] = (
        lambda name: wanted in name,
        lambda name: any(w in name for w in wanted.split() if len(w) > 2),
    )
    for match in matchers:
        found = next((t for t in types if match(t.name.lower())), None)
        if found is not None:
            return found, True
    return next((t for t in types if "other" in t.name.lower()), types[0]), False


NO_WORKING_DAYS = "Those days are all weekend or public holiday"


def validate_leave(
    request: LeaveRequest, today: date, backdate_days: int = 0, holidays: set[date] | None = None
) -> dict[str, str]:
    """Field errors for a leave request, keyed by field name (start, end, start_portion …). A
    request may start up to ``backdate_days`` ago (sick days, a day already taken): the vendor
    still has the last word on past dates. ``holidays`` known (cached before the ack, or from the
    vendor after it) make a request of holidays only an error too."""
    errors: dict[str, str] = {}
    if request.start < today - timedelta(days=backdate_days):
        errors["start"] = (
            "The first day is in the past."
            if not backdate_days
            else f"The first day is more than {backdate_days} days ago."
        )
    if request.end < request.start:
        errors["end"] = "The last day is before the first day."
    elif (request.end - request.start).days + 1 > MAX_LEAVE_DAYS:
        errors["end"] = f"That's over a year ({(request.end - request.start).days + 1} days). Split it up."
    if (
        request.start == request.end
        and request.start_portion is not Portion.FULL
        and request.end_portion is not Portion.FULL
        and request.start_portion != request.end_portion
    ):
        errors["end_portion"] = "A one-day request can be a morning or an afternoon, not both."
    if request.start != request.end and request.start_portion is Portion.AM:
        errors["start_portion"] = "A leave that goes on past its first day can only start in the afternoon."
    if request.start != request.end and request.end_portion is Portion.PM:
        errors["end_portion"] = "A leave that began earlier can only end after the morning."
    if not errors and not working_days(
        request.start, request.end, request.start_portion, request.end_portion, holidays or set()
    ):
        errors["start"] = NO_WORKING_DAYS
    return errors


class Leave:
    def __init__(self, people: People, router: Router) -> None:
        self.people = people
        self.router = router
        self.holidays = HolidayCache(router, people.now)
        self._backdate_asked: set[tuple[str, str, date, date, str]] = set()  # asked once in this process
        self._asked_lock = threading.Lock()
        self._types: tuple[str, float, list[LeaveType]] | None = None  # vendor, read at, its leave types
        # Called after each accepted request (the follow-up: approvers, status news).
        self.after: list[Callable[[Actor, LeaveResult, LeaveRequest], None]] = []

    @property
    def backdate_days(self) -> int:
        return self.people.settings.leave_backdate_days

    def leave_form(self, actor: Actor) -> LeaveForm:
        vendor = self.router.leave()
        user = self.people.identity(actor, vendor)
        balances: list[Balance] | None = None
        if Action.BALANCES in vendor.capabilities:
            try:
                balances = cast(BalanceVendor, vendor).balances(user)
            except VendorError as exc:
                log.info("balances left out of the form: %s", exc.user_message)
                balances = []
        return LeaveForm(vendor.label, self.leave_types(vendor), vendor.half_days, balances)

    def leave_types(self, vendor: LeaveVendor | None = None) -> list[LeaveType]:
        """The leave vendor's types, read now and kept for ``known_types``."""
        vendor = vendor or self.router.leave()
        types = vendor.leave_types()
        self._types = (vendor.name, self.people.clock(), types)
        return types

    def known_types(self) -> list[LeaveType] | None:
        """The leave types this process read in the last TYPES_TTL, for a decision before an ack
        (no vendor call there); None when none were read, or the leave vendor changed since."""
        kept, vendor = self._types, self.router.maybe_leave()
        if (
            kept is None
            or vendor is None
            or kept[0] != vendor.name
            or not 0 <= self.people.clock() - kept[1] < TYPES_TTL
        ):
            return None
        return kept[2]

    def problems(
        self,
        team_id: str,
        user_id: str,
        request: LeaveRequest,
        kind_name: str | None = None,
    ) -> dict[str, str]:
        """Field errors for the form, before the ack: today is the person's, from the cached profile,
        and holidays are those cached when a form was opened (none while the cache is cold: the
        check after the ack has them). Backdating is for sick days: leave of another kind
        (``kind_name``, as the form shows it) that starts in the past is questioned once, and goes
        through when sent again."""
        today = self.people.now().astimezone(self.people.cached_zone(team_id, user_id)).date()
        errors = validate_leave(request, today, self.backdate_days, self.holidays.known(request.start, request.end))
        sick = self.people.settings.sick_leave(kind_name)
        if not errors and request.start < today and not sick:
            key = (team_id, user_id, request.start, request.end, request.leave_type)
            with self._asked_lock:
                first = key not in self._backdate_asked
                self._backdate_asked.add(key)
            if first:
                ago = (today - request.start).days
                errors["start"] = (
                    f"That's {ago} day{'s' if ago != 1 else ''} ago: backdating is meant for sick days. "
                    "Send the form again to request it anyway."
                )
        return errors

    def warm_holidays(self, actor: Actor) -> None:
        """Cache the holidays a request from ``actor`` may cover (a year ahead, and the days it may
        go back), so the submission's ack can tell a request of holidays only. After an ack."""
        today = actor.today(self.people.now())
        self.holidays.warm(today - timedelta(days=self.backdate_days), today + YEAR_AHEAD)

    @metrics.attempted("request_leave")
    def request_leave(self, actor: Actor, request: LeaveRequest) -> LeaveResult:
        holidays, _ = holiday_days(self.router, request.start, request.end)
        errors = validate_leave(request, actor.today(self.people.now()), self.backdate_days, holidays)
        if errors:
            raise FormErrors(errors)
        vendor = self.router.leave()
        user = self.people.identity(actor, vendor)
        clash = _overlap(vendor, user, request)
        if clash:
            raise FormErrors({"start": clash})
        half_note = False
        if not vendor.half_days and (
            request.start_portion is not Portion.FULL or request.end_portion is not Portion.FULL
        ):
            half_note = True
            extra = (
                "Half day: "
                + fmt.half_days(request.start, request.end, request.start_portion, request.end_portion)
                + " only"
            )
            request = LeaveRequest(
                request.start,
                request.end,
                request.leave_type,
                request.start_portion,
                request.end_portion,
                f"{request.note} ({extra})" if request.note else extra,
            )
        try:
            absence = write_once(
                "a leave request",
                vendor.label,
                lambda: vendor.request_leave(user, request),
                lambda _: _find_leave(vendor, user, request),
                self.people.now,
            )
        except OutcomeUnknown:
            self.people.audit(actor.team_id, actor.user_id, vendor.name, "request_leave", "unknown")
            raise
        except VendorError as exc:
            self.people.audit(
                actor.team_id, actor.user_id, vendor.name, "request_leave", outcome(exc), exc.user_message
            )
            raise
        days = working_days(request.start, request.end, request.start_portion, request.end_portion, holidays)
        self.people.audit(
            actor.team_id,
            actor.user_id,
            vendor.name,
            "request_leave",
            "ok",
            f"{request.start}..{request.end} ({absence.absence_id})",
        )
        result = LeaveResult(absence, vendor.label, days, half_note)
        for hook in self.after:
            try:
                hook(actor, result, request)
            except Exception:  # the request went through: a follow-up failure must not hide that
                log.exception("leave follow-up after a request failed")
        return result


def _overlap(vendor: LeaveVendor, user: VendorUser, request: LeaveRequest) -> str:
    """Why the request clashes with the person's own pending or approved leave ("" when it doesn't):
    said here in one way, before the vendor refuses it in its own words (or, worse, accepts it)."""
    try:
        mine = vendor.my_absences(user, request.start, request.end)
    except VendorUnavailable:
        raise  # down or hanging: the write would be too, and nothing has been sent yet (said so)
    except VendorError:
        return ""  # the vendor still checks when the request reaches it
    wanted = Absence(
        "", request.start, request.end, start_portion=request.start_portion, end_portion=request.end_portion
    )
    for a in sorted(mine, key=lambda a: a.start):
        if a.status not in {"pending", "approved"}:
            continue
        days = [
            d
            for d in _days(max(a.start, request.start), min(a.end, request.end))
            if _clash(a.portion_on(d), wanted.portion_on(d))
        ]
        if days:
            return f"You already have leave on {fmt.day_range(days[0], days[-1])} ({a.status})."
    return ""


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _clash(mine: Portion | None, wanted: Portion | None) -> bool:
    """A morning and an afternoon of the same day don't clash; anything else on a day does."""
    return mine is not None and wanted is not None and (Portion.FULL in (mine, wanted) or mine == wanted)


def find_leave(leave: Leave, actor: Actor, request: LeaveRequest) -> tuple[Absence | None, bool]:
    """The person's request for exactly these dates at the leave vendor, if it has one; and
    whether the vendor could be read (a resumed request looks before it sends again)."""
    vendor = leave.router.leave()
    return _find_leave(vendor, leave.people.identity(actor, vendor), request)


def _find_leave(vendor: LeaveVendor, user: VendorUser, request: LeaveRequest) -> tuple[Absence | None, bool]:
    """The person's request for exactly these days, if the vendor has it; and whether the
    vendor could be asked at all."""
    try:
        mine = vendor.my_absences(user, request.start, request.end)
    except VendorError:
        return None, False
    return next((a for a in mine if a.start == request.start and a.end == request.end), None), True
