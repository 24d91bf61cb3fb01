"""What Timebot does, independent of Slack's wire format and of any one vendor.

Handlers call these after acking; each use case resolves the person's identity in the vendor
routed for the action, talks to the vendor, writes the audit log, and returns a result object
that ``handlers/messages.py`` renders.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.admins import AdminCheck
from bot.config import Settings
from bot.crypto import SecretBox, UndecryptableSecret
from bot.vendors.base import (
    Absence,
    Action,
    ClockSession,
    Holiday,
    LeaveRequest,
    LeaveType,
    NotSupported,
    OutcomeUnknown,
    Portion,
    SessionCrossesMidnight,
    Vendor,
    VendorError,
    VendorPerson,
    VendorRejected,
    VendorUser,
)
from bot.vendors.registry import Router
from storage.models import Identity, utcnow
from storage.queries import AccountTaken, Store

log = logging.getLogger(__name__)

MAX_LEAVE_DAYS = 366
PERSON_TTL = timedelta(hours=12)
DIRECTORY_TTL = 600.0


class UserError(Exception):
    """Something the person must hear about, in words written for them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotLinked(UserError):
    pass


class Busy(UserError):
    pass


@dataclass(frozen=True)
class Actor:
    team_id: str
    user_id: str
    tz: ZoneInfo
    name: str | None = None
    email: str | None = None
    is_admin: bool = False  # as of the person cache (hours old): admin-only actions ask Timebot.is_admin

    def today(self, now: datetime | None = None) -> date:
        return (now or datetime.now(UTC)).astimezone(self.tz).date()


@dataclass(frozen=True)
class ClockResult:
    outcome: str  # clocked_in | already_in | clocked_out | not_in | crosses_midnight
    vendor: str
    session: ClockSession | None = None
    day: date | None = None
    tz: ZoneInfo = UTC  # type: ignore[assignment]
    latest_end: datetime | None = None
    note_dropped: bool = False  # the person wrote a note the vendor has nowhere to keep


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


@dataclass(frozen=True)
class WhosOffReport:
    vendor: str
    start: date
    end: date
    days: list[DayReport]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LinkedIdentity:
    vendor: str
    label: str
    vendor_user_id: str
    linked_by: str
    name: str | None = None  # as the vendor knows them: a wrong PIN shows up as someone else's name

    @property
    def who(self) -> str:
        return f"{self.name} (user {self.vendor_user_id})" if self.name else f"user {self.vendor_user_id}"


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


def end_for_picked_time(started: datetime, picked: wall_time, tz: ZoneInfo, latest: datetime | None) -> datetime:
    """The moment a person means by a wall-clock end time picked on their own clock: on the day
    they started, or, when the vendor's day runs past their midnight (``latest``), the next one."""
    day = started.astimezone(tz).date()
    end = datetime.combine(day, picked, tz)
    if end <= started and latest is not None:
        next_day = datetime.combine(day + timedelta(days=1), picked, tz)
        if next_day <= latest:
            return next_day
    return end


def validate_leave(request: LeaveRequest, today: date) -> dict[str, str]:
    """Field errors for a leave request, keyed by field name (start, end, start_portion …)."""
    errors: dict[str, str] = {}
    if request.start < today:
        errors["start"] = "The first day is in the past."
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
    return errors


class Timebot:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        router: Router,
        box: SecretBox,
        slack: WebClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.router = router
        self.box = box
        self.slack = slack
        self.clock = clock
        self._directory: dict[str, tuple[float, list[VendorPerson]]] = {}
        self._dir_lock = threading.Lock()
        self._user_locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.admins = AdminCheck(slack, settings.admin_ids, clock)
        self._unreadable_warned = False

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # --- people ----------------------------------------------------------------------------

    def zone(self, name: str | None) -> ZoneInfo:
        try:
            return ZoneInfo(name or self.settings.default_tz)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.settings.default_tz)

    def actor(self, team_id: str, user_id: str) -> Actor:
        """Who is asking, with their Slack time zone; Slack is asked at most every 12 hours."""
        person = self.store.person(team_id, user_id)
        if person is None or utcnow() - person.updated_at > PERSON_TTL:
            try:
                info = self.slack.users_info(user=user_id)["user"]
                person = self.store.save_person(
                    team_id,
                    user_id,
                    name=info.get("real_name") or info.get("name"),
                    email=(info.get("profile") or {}).get("email"),
                    tz=info.get("tz"),
                    is_admin=bool(info.get("is_admin") or info.get("is_owner")),
                )
            except SlackApiError as exc:
                log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        is_admin = user_id in self.settings.admin_ids or bool(person and person.is_admin)
        return Actor(
            team_id,
            user_id,
            self.zone(person.tz if person else None),
            person.name if person else None,
            person.email if person else None,
            is_admin,
        )

    def audit(self, team_id: str, slack_user_id: str, vendor: str, action: str, outcome: str,
               detail: str = "") -> None:
        """Record an action; a failed write is logged, never reported as the action failing (it
        often comes after the vendor did the work: "nothing was changed" would be untrue)."""
        try:
            self.store.audit(team_id, slack_user_id, vendor, action, outcome, detail)
        except Exception as exc:
            log.error("could not write the audit row for %s %s (%s): %s", action, outcome, slack_user_id,
                      type(exc).__name__)

    def is_admin(self, actor: Actor) -> bool:
        """Admin rights right now (Slack, cached a minute), not as of the person cache."""
        return self.admins.is_admin(actor.user_id)

    def require_admin(self, actor: Actor, what: str) -> None:
        if not self.is_admin(actor):
            log.warning("refused admin-only %s for %s in %s", what, actor.user_id, actor.team_id)
            self.audit(actor.team_id, actor.user_id, "-", what, "refused", "not an admin")
            raise UserError("Only Timebot admins can do that: ask a workspace admin, or whoever runs Timebot.")

    # --- identity --------------------------------------------------------------------------

    def directory(self, vendor: Vendor) -> list[VendorPerson]:
        with self._dir_lock:
            cached = self._directory.get(vendor.name)
            if cached and self.clock() - cached[0] < DIRECTORY_TTL:
                return cached[1]
        people = vendor.people()
        with self._dir_lock:
            self._directory[vendor.name] = (self.clock(), people)
        return people

    def _vendor_user(self, row: Identity) -> VendorUser:
        return VendorUser(row.vendor_user_id, self.box.decrypt(row.secret_enc) if row.secret_enc else None)

    def identity(self, actor: Actor, vendor: Vendor) -> VendorUser:
        """The person's identity in ``vendor``; matched by email on first use where possible."""
        row = self.store.identity(actor.team_id, actor.user_id, vendor.name)
        if row is not None:
            return self._vendor_user(row)
        if Action.IDENTITY in vendor.capabilities and actor.email:
            match = self._match_email(vendor, actor.email)
            if match is not None:
                self._not_linked_to_someone_else(actor.user_id, vendor, match.vendor_user_id)
                self._save_identity(
                    actor.team_id,
                    actor.user_id,
                    vendor,
                    match.vendor_user_id,
                    secret_enc=None,
                    email=match.email,
                    linked_by="email",
                )
                return VendorUser(match.vendor_user_id)
        if vendor.link_fields:
            raise NotLinked(f"Link your {vendor.label} account first: type `/timebot link`.")
        raise NotLinked(
            f"I couldn't find you in {vendor.label} by your Slack email ({actor.email or 'none'}). "
            f"Ask a Timebot admin to link you: `/timebot link @you` followed by your {vendor.label} id."
        )

    def _match_email(self, vendor: Vendor, email: str) -> VendorPerson | None:
        wanted = email.strip().lower()
        for person in self.directory(vendor):
            if person.email and person.email.strip().lower() == wanted:
                return person
        return None

    def link_vendor(self) -> Vendor:
        """The vendor people link themselves to: the first routed vendor that asks for fields."""
        seen = []
        for action in (Action.CLOCK, Action.LEAVE, Action.WHOS_OFF):
            vendor = self.router.maybe(action)
            if vendor is not None and vendor not in seen:
                seen.append(vendor)
        for vendor in seen:
            if vendor.link_fields:
                return vendor
        if seen:
            return seen[0]
        raise UserError("No vendor is configured yet. An admin needs to set one up (see the README).")

    def link(
        self, actor: Actor, vendor_name: str, fields: dict[str, str], target_user_id: str | None = None
    ) -> LinkedIdentity:
        """Exchange what was typed in the link modal (a TimeClock PIN …) for stored credentials."""
        target = target_user_id or actor.user_id
        if target != actor.user_id:
            self.require_admin(actor, "link")
        vendor = self.router.vendors[vendor_name]
        try:
            user, person = vendor.link(fields)
        except VendorError as exc:
            self.audit(actor.team_id, target, vendor.name, "link", "rejected", exc.user_message)
            raise
        secret = self.box.encrypt(user.secret) if user.secret else None
        by = "self" if target == actor.user_id else f"admin:{actor.user_id}"
        try:
            self._not_linked_to_someone_else(target, vendor, user.vendor_user_id)
            self._save_identity(
                actor.team_id, target, vendor, user.vendor_user_id, secret_enc=secret, email=person.email, linked_by=by
            )
        except UserError as exc:
            self.audit(actor.team_id, target, vendor.name, "link", "rejected", exc.message)
            raise
        self.audit(actor.team_id, target, vendor.name, "link", "ok", f"vendor user {user.vendor_user_id}")
        return LinkedIdentity(vendor.name, vendor.label, user.vendor_user_id, by, person.name)

    def admin_link(
        self, actor: Actor, target_user_id: str, vendor_user_id: str, vendor_name: str | None = None
    ) -> LinkedIdentity:
        """An admin points a Slack user at a vendor id (for vendors matched by email)."""
        self.require_admin(actor, "link")
        vendor = self.router.vendors[vendor_name] if vendor_name else (
            self.router.maybe(Action.IDENTITY) or self.link_vendor())
        if vendor.link_fields:
            raise UserError(
                f"{vendor.label} needs the person's own key: use `/timebot link @person` and enter "
                f"their {vendor.link_fields[0].label}."
            )
        email = next((p.email for p in self.directory(vendor) if p.vendor_user_id == vendor_user_id), None)
        if Action.IDENTITY in vendor.capabilities and email is None:
            raise UserError(f"{vendor.label} has nobody with id {vendor_user_id}.")
        self._not_linked_to_someone_else(target_user_id, vendor, vendor_user_id)
        self._save_identity(
            actor.team_id,
            target_user_id,
            vendor,
            vendor_user_id,
            secret_enc=None,
            email=email,
            linked_by=f"admin:{actor.user_id}",
        )
        self.audit(actor.team_id, target_user_id, vendor.name, "link", "ok", f"by admin {actor.user_id}")
        return LinkedIdentity(vendor.name, vendor.label, vendor_user_id, f"admin:{actor.user_id}")

    def _save_identity(self, team_id: str, target: str, vendor: Vendor, vendor_user_id: str, *,
                       secret_enc: str | None, email: str | None, linked_by: str) -> None:
        """Save the link; when someone else won a race for the account, say so as the check would."""
        try:
            self.store.save_identity(team_id, target, vendor.name, vendor_user_id, secret_enc=secret_enc,
                                     email=email, linked_by=linked_by)
        except AccountTaken:
            self._not_linked_to_someone_else(target, vendor, vendor_user_id)
            raise UserError(f"That {vendor.label} account is already linked to someone else.") from None

    def _not_linked_to_someone_else(self, target: str, vendor: Vendor, vendor_user_id: str) -> None:
        """One vendor account, one Slack person: otherwise one of them clocks the other in and out."""
        others = [i for i in self.store.identity_holders(vendor.name, vendor_user_id) if i.slack_user_id != target]
        if others:
            person = self.store.person(others[0].team_id, others[0].slack_user_id)
            who = person.name if person and person.name else "someone else"
            raise UserError(
                f"That {vendor.label} account is already linked to {who}. If it's yours, ask them "
                "or a Timebot admin to unlink it first (`/timebot unlink`)."
            )

    def unlink(self, actor: Actor, target_user_id: str | None = None) -> int:
        target = target_user_id or actor.user_id
        if target != actor.user_id:
            self.require_admin(actor, "unlink")
        removed = self.store.delete_identity(actor.team_id, target)
        self.audit(actor.team_id, target, "-", "unlink", "ok", f"{removed} identities")
        return removed

    # --- clock -----------------------------------------------------------------------------

    @contextmanager
    def _one_at_a_time(self, actor: Actor, what: str) -> Iterator[None]:
        """One clock action per person at a time, across processes (double clicks, retries)."""
        key = (actor.team_id, actor.user_id)
        with self._locks_lock:
            lock = self._user_locks.setdefault(key, threading.Lock())
        if not lock.acquire(timeout=30):
            raise Busy("I'm still working on your last request. Give it a moment.")
        db_key = f"inflight:{actor.team_id}:{actor.user_id}:{what}"
        try:
            lease = self.store.claim_lock(db_key, ttl=timedelta(minutes=2))
            if lease is None:
                raise Busy("I'm still working on your last request. Give it a moment.")
            try:
                yield
            finally:
                self.store.release_lock(db_key, lease)
        finally:
            lock.release()

    def clock_in(self, actor: Actor, project: str | None = None, note: str | None = None) -> ClockResult:
        vendor = self.router.for_action(Action.CLOCK)
        user = self.identity(actor, vendor)
        with self._one_at_a_time(actor, "clock"):
            current = vendor.current_session(user)
            if current is not None:
                return ClockResult("already_in", vendor.label, current, tz=actor.tz)
            try:
                session = self._clock_in_once(vendor, user, project, note)
            except OutcomeUnknown:
                self.audit(actor.team_id, actor.user_id, vendor.name, "clock_in", "unknown")
                raise
            except VendorError as exc:
                self.audit(actor.team_id, actor.user_id, vendor.name, "clock_in", _outcome(exc), exc.user_message)
                raise
            self.audit(
                actor.team_id, actor.user_id, vendor.name, "clock_in", "ok", f"session {session.session_id}"
            )
            return ClockResult("clocked_in", vendor.label, session, tz=actor.tz)

    def _clock_in_once(
        self, vendor: Vendor, user: VendorUser, project: str | None, note: str | None
    ) -> ClockSession:
        """Clock in; after a lost answer, ask the vendor whether it landed rather than guess, and
        send it once more only when the vendor is done with the first try and shows nothing."""
        asked_at = self.now()
        try:
            return vendor.clock_in(user, project=project, note=note)
        except OutcomeUnknown as exc:
            session, absent = self._confirm_clock_in(vendor, user, asked_at)
            if session is not None:
                return session
            if not (absent and exc.vendor_finished):
                raise
        log.info("%s failed a clock-in without recording it; sending it once more", vendor.label)
        asked_at = self.now()
        try:
            return vendor.clock_in(user, project=project, note=note)
        except OutcomeUnknown as exc:
            session, absent = self._confirm_clock_in(vendor, user, asked_at)
            if session is None and absent and exc.vendor_finished:
                raise _not_recorded(exc) from exc
            if session is None:
                raise
            return session

    def _confirm_clock_in(
        self, vendor: Vendor, user: VendorUser, asked_at: datetime
    ) -> tuple[ClockSession | None, bool]:
        """After a lost answer: the session the clock-in made, if any, and whether the vendor
        showed for certain that nothing is running (False when it could not be asked)."""
        try:
            session = vendor.current_session(user)
        except VendorError:
            return None, False
        if session is not None and session.started_at >= asked_at - timedelta(minutes=2):
            return session, False
        return None, session is None

    def clock_out(self, actor: Actor, note: str | None = None, at: datetime | None = None) -> ClockResult:
        vendor = self.router.for_action(Action.CLOCK)
        user = self.identity(actor, vendor)
        with self._one_at_a_time(actor, "clock"):
            current = vendor.current_session(user)
            if current is None:
                return ClockResult("not_in", vendor.label, tz=actor.tz)
            if at is not None and at <= current.started_at:
                raise UserError("The end time must be after you clocked in.")
            try:
                session = vendor.clock_out(user, current, at=at, note=note)
            except SessionCrossesMidnight as exc:
                latest = getattr(vendor, "session_day_end", None)
                return ClockResult(
                    "crosses_midnight", vendor.label, current, exc.day, actor.tz, latest(current) if latest else None
                )
            except OutcomeUnknown as unknown:
                try:
                    still = vendor.current_session(user)
                except VendorError:  # can't tell: say so rather than claim either way
                    self.audit(actor.team_id, actor.user_id, vendor.name, "clock_out", "unknown")
                    raise unknown from None
                if still is None or still.session_id != current.session_id:
                    self.audit(actor.team_id, actor.user_id, vendor.name, "clock_out", "ok", "confirmed")
                    return ClockResult("clocked_out", vendor.label, current, tz=actor.tz)
                self.audit(actor.team_id, actor.user_id, vendor.name, "clock_out", "unknown")
                raise
            except VendorError as exc:
                self.audit(
                    actor.team_id, actor.user_id, vendor.name, "clock_out", _outcome(exc), exc.user_message
                )
                raise
            self.audit(
                actor.team_id, actor.user_id, vendor.name, "clock_out", "ok", f"session {session.session_id}"
            )
            return ClockResult("clocked_out", vendor.label, session, tz=actor.tz,
                               note_dropped=bool(note) and not vendor.clock_notes)

    def clock_state(self, actor: Actor) -> ClockSession | None:
        vendor = self.router.for_action(Action.CLOCK)
        return vendor.current_session(self.identity(actor, vendor))

    # --- leave -----------------------------------------------------------------------------

    def leave_form(self, actor: Actor) -> LeaveForm:
        vendor = self.router.for_action(Action.LEAVE)
        self.identity(actor, vendor)
        return LeaveForm(vendor.label, vendor.leave_types(), vendor.half_days)

    def _holiday_days(self, start: date, end: date) -> tuple[set[date], list[Holiday]]:
        vendor = self.router.maybe(Action.HOLIDAYS)
        if vendor is None:
            return set(), []
        try:
            found = vendor.holidays(start, end)
        except VendorError as exc:
            log.warning("holidays unavailable: %s", exc)
            return set(), []
        return {h.day for h in found}, found

    def request_leave(self, actor: Actor, request: LeaveRequest) -> LeaveResult:
        errors = validate_leave(request, actor.today(self.now()))
        if errors:
            raise VendorRejected("Timebot", next(iter(errors.values())), field=next(iter(errors)))
        vendor = self.router.for_action(Action.LEAVE)
        user = self.identity(actor, vendor)
        half_note = False
        if not vendor.half_days and (
            request.start_portion is not Portion.FULL or request.end_portion is not Portion.FULL
        ):
            half_note = True
            parts = []
            if request.start_portion is not Portion.FULL:
                parts.append(f"{request.start.isoformat()} {_portion_word(request.start_portion)} only")
            if request.end_portion is not Portion.FULL and request.end != request.start:
                parts.append(f"{request.end.isoformat()} {_portion_word(request.end_portion)} only")
            extra = "Half day: " + ", ".join(parts)
            request = LeaveRequest(
                request.start,
                request.end,
                request.leave_type,
                request.start_portion,
                request.end_portion,
                f"{request.note} ({extra})" if request.note else extra,
            )
        try:
            absence = self._request_leave_once(vendor, user, request)
        except OutcomeUnknown:
            self.audit(actor.team_id, actor.user_id, vendor.name, "request_leave", "unknown")
            raise
        except VendorError as exc:
            self.audit(
                actor.team_id, actor.user_id, vendor.name, "request_leave", _outcome(exc), exc.user_message
            )
            raise
        holidays, _ = self._holiday_days(request.start, request.end)
        days = working_days(request.start, request.end, request.start_portion, request.end_portion, holidays)
        self.audit(
            actor.team_id,
            actor.user_id,
            vendor.name,
            "request_leave",
            "ok",
            f"{request.start}..{request.end} ({absence.absence_id})",
        )
        return LeaveResult(absence, vendor.label, days, half_note)

    def _request_leave_once(self, vendor: Vendor, user: VendorUser, request: LeaveRequest) -> Absence:
        """Request the leave; after a lost answer, look for it at the vendor, and send it once more
        only when the vendor is done with the first try and shows no such request."""
        try:
            return vendor.request_leave(user, request)
        except OutcomeUnknown as exc:
            found, checked = self._find_leave(vendor, user, request)
            if found is not None:
                return found
            if not (checked and exc.vendor_finished):
                raise
        log.info("%s failed a leave request without recording it; sending it once more", vendor.label)
        try:
            return vendor.request_leave(user, request)
        except OutcomeUnknown as exc:
            found, checked = self._find_leave(vendor, user, request)
            if found is None and checked and exc.vendor_finished:
                raise _not_recorded(exc) from exc
            if found is None:
                raise
            return found

    def _find_leave(self, vendor: Vendor, user: VendorUser, request: LeaveRequest) -> tuple[Absence | None, bool]:
        """The person's request for exactly these days, if the vendor has it; and whether the
        vendor could be asked at all."""
        try:
            mine = vendor.my_absences(user, request.start, request.end)
        except VendorError:
            return None, False
        return next((a for a in mine if a.start == request.start and a.end == request.end), None), True

    # --- who's off -------------------------------------------------------------------------

    def whos_off(self, team_id: str, start: date, end: date) -> WhosOffReport:
        vendor = self.router.for_action(Action.WHOS_OFF)
        rows = self.store.identities_for_vendor(team_id, vendor.name)
        users = []
        unreadable = 0
        for row in rows:
            try:
                users.append(self._vendor_user(row))
            except UndecryptableSecret:  # one person's unreadable key must not hide everyone else
                unreadable += 1
        if unreadable and not self._unreadable_warned:  # once per run: every request would repeat it
            self._unreadable_warned = True
            log.warning("who's off leaves out %d people: their stored keys cannot be decrypted (check "
                        "TIMEBOT_SECRET_KEY and TIMEBOT_OLD_SECRET_KEYS)", unreadable)
        absences = vendor.absences(start, end, users)
        _, holidays = self._holiday_days(start, end)
        by_vendor_id = {r.vendor_user_id: r.slack_user_id for r in rows}
        people = {p.slack_user_id: p for p in self.store.people(team_id)}
        by_email = {p.email.lower(): p.slack_user_id for p in people.values() if p.email}
        days = []
        day = start
        while day <= end:
            report = DayReport(day, holidays=[h for h in holidays if h.day == day])
            for a in absences:
                portion = a.portion_on(day)
                if portion is None or a.status in {"denied", "cancelled"}:
                    continue
                slack_id = by_vendor_id.get(a.vendor_user_id) or (
                    by_email.get(a.person_email.lower()) if a.person_email else None
                )
                name = (
                    (people[slack_id].name if slack_id in people and people[slack_id].name else None)
                    or a.person_name
                    or f"{vendor.label} user {a.vendor_user_id}"
                )
                report.entries.append(OffEntry(slack_id, name, portion, a.kind, a.status, _back_on(a, holidays)))
            report.entries.sort(key=lambda e: e.name.lower())
            if report.entries or report.holidays or day.weekday() < 5:
                days.append(report)
            day += timedelta(days=1)
        notes = []
        if unreadable:
            notes.append(f"{unreadable} {'person' if unreadable == 1 else 'people'} left out: their stored keys "
                         "can't be read; an admin should check TIMEBOT_SECRET_KEY.")
        if Action.IDENTITY not in vendor.capabilities:
            notes.append(f"{vendor.label} only shows people who linked their account ({len(rows)} so far).")
        return WhosOffReport(vendor.label, start, end, days, notes)

    # --- status and home -------------------------------------------------------------------

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
                session = self.clock_state(actor)
            except (VendorError, UserError) as exc:
                error = getattr(exc, "user_message", None) or getattr(exc, "message", str(exc))
        return StatusReport(identities, clock_vendor.label if clock_vendor else None, session, error, needs)

    def home(self, actor: Actor) -> HomeState:
        status = self.status(actor)
        leave_vendor = self.router.maybe(Action.LEAVE)
        upcoming: list[Absence] = []
        error = None
        if leave_vendor is not None:
            try:
                user = self.identity(actor, leave_vendor)
                today = actor.today(self.now())
                upcoming = sorted(
                    leave_vendor.my_absences(user, today, today + timedelta(days=180)), key=lambda a: a.start
                )
            except (VendorError, UserError) as exc:
                error = getattr(exc, "user_message", None) or getattr(exc, "message", str(exc))
        return HomeState(status, leave_vendor.label if leave_vendor else None, upcoming, error)

    # --- capability answers ----------------------------------------------------------------

    def explain(self, exc: Exception) -> str:
        """The one line a person sees for any failure we know how to describe."""
        if isinstance(exc, NotSupported):
            return exc.user_message
        if isinstance(exc, OutcomeUnknown):
            return f"{exc.user_message} Check with `/timebot status` (or in {exc.vendor}) before trying again."
        if isinstance(exc, VendorError):
            return exc.user_message
        if isinstance(exc, UserError):
            return exc.message
        if isinstance(exc, UndecryptableSecret):
            return ("I can no longer read the key you linked with. Nothing was changed; please link again with "
                    "`/timebot link` (and let a Timebot admin know).")
        return "Something went wrong on my side. Nothing was changed; please try again."


def _outcome(exc: VendorError) -> str:
    if isinstance(exc, VendorRejected):
        return "rejected"
    if isinstance(exc, OutcomeUnknown):
        return "unknown"
    return "failed"


def _not_recorded(exc: OutcomeUnknown) -> VendorError:
    """The vendor failed the write and its own records, read back, hold nothing: a plain failure."""
    return VendorError(exc.vendor, f"{exc.vendor} had an error and recorded nothing, so this didn't go through. "
                       "Try again in a moment.", detail=exc.detail)


def _portion_word(portion: Portion) -> str:
    return {Portion.AM: "morning", Portion.PM: "afternoon", Portion.FULL: "all day"}[portion]


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
