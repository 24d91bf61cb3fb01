"""Clocking in and out: one action per person at a time, and a lost answer checked with the
vendor before anything is said or sent again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo

from bot.domain import Actor, ClockSession, VendorUser
from bot.errors import Busy, OutcomeUnknown, SessionCrossesMidnight, UserError, VendorError, outcome
from bot.telemetry import metrics
from bot.usecases.people import People
from bot.usecases.writes import write_once
from bot.vendors.base import ClockVendor
from bot.vendors.registry import Router
from storage.ledger import AuditRow, Row
from storage.models import utcnow
from storage.store import Store

log = logging.getLogger(__name__)

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class ClockResult:
    outcome: str  # clocked_in | already_in | clocked_out | not_in | crosses_midnight
    vendor: str
    session: ClockSession | None = None
    day: date | None = None
    tz: ZoneInfo = UTC_ZONE  # every result names the person's zone: this is only a fallback
    latest_end: datetime | None = None
    note_dropped: bool = False  # the person wrote a note the vendor has nowhere to keep
    backdated: bool = False  # a resumed clock-in recorded at the time it was asked, not now


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


class Clock:
    def __init__(self, people: People, store: Store, router: Router) -> None:
        self.people = people
        self.store = store
        self.router = router
        self._user_locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        # The per-person lease: a dead holder blocks nobody beyond this; a live one renews it.
        self.lease_ttl = timedelta(minutes=2)
        self._held: dict[str, datetime] = {}  # lease key -> its current start, as renewed
        self._held_lock = threading.Lock()
        # What the person's new request waits behind, in words that are true (set with the intake).
        self.waiting_note: Callable[[Actor], str | None] = lambda actor: None
        # clock hygiene: the rows to write when someone's clock changed (a watch, or watches ended)
        self.on_change: list[Callable[[Actor, str, ClockResult], Sequence[Row]]] = []

    def _told(self, actor: Actor, vendor: str, result: ClockResult, rows: list[Row]) -> ClockResult:
        for listener in self.on_change:
            try:
                rows.extend(listener(actor, vendor, result))
            except Exception:  # the person's clock action happened; a watcher's failure must not hide it
                log.exception("clock change listener failed")
        return result

    @staticmethod
    def _audit(rows: list[Row], actor: Actor, vendor: str, action: str, result: str, detail: str = "") -> None:
        metrics.action(action, result)
        rows.append(AuditRow(actor.team_id, actor.user_id, vendor, action, result, detail))

    @contextmanager
    def _one_at_a_time(self, actor: Actor, what: str) -> Iterator[list[Row]]:
        """One clock action per person at a time, across processes (double clicks, retries).

        Yields the action's bookkeeping rows (audit, watches): they are written with the lease's
        release, in one transaction."""
        key = (actor.team_id, actor.user_id)
        with self._locks_lock:
            lock = self._user_locks.setdefault(key, threading.Lock())
        if not lock.acquire(timeout=30):
            raise Busy(self._busy(actor))
        db_key = f"inflight:{actor.team_id}:{actor.user_id}:{what}"
        try:
            lease = self.store.claim_lock(db_key, ttl=self.lease_ttl)
            if lease is None:
                raise Busy(self._busy(actor))
            with self._held_lock:
                self._held[db_key] = lease
            rows: list[Row] = []
            try:
                yield rows
            finally:
                with self._held_lock:  # a renewal in progress finishes first: release the renewed lease
                    lease = self._held.pop(db_key, lease)
                self.store.release_lock(db_key, lease, rows)
        finally:
            lock.release()

    def _busy(self, actor: Actor) -> str:
        try:
            note = self.waiting_note(actor)
        except Exception:
            note = None
        return note or "I'm still working on your last request. Give it a moment."

    def renew_leases(self) -> None:
        """Renew the leases held longer than half their life (the intake's heartbeat calls this):
        a slow vendor must not let a second action of the same person in, while a dead process's
        lease lapses within ``lease_ttl``. Short actions end before they need it."""
        due = utcnow() - self.lease_ttl / 2
        with self._held_lock:
            for key, lease in list(self._held.items()):
                if lease < due:
                    renewed = self.store.renew_lock(key, lease)
                    if renewed is not None:
                        self._held[key] = renewed

    @metrics.attempted("clock_in")
    def clock_in(
        self,
        actor: Actor,
        project: str | None = None,
        note: str | None = None,
        *,
        at: datetime | None = None,
        write: bool = True,
    ) -> ClockResult:
        """Clock in unless a session runs already. ``at``: the time the person asked (a resumed
        clock-in), used where the vendor takes one; ``write=False`` only reads (``not_in``)."""
        vendor = self.router.clock()
        user = self.people.identity(actor, vendor)
        with self._one_at_a_time(actor, "clock") as rows:
            current = vendor.current_session(user)
            if current is not None:
                return self._told(
                    actor, vendor.name, ClockResult("already_in", vendor.label, current, tz=actor.tz), rows
                )
            if not write:
                return ClockResult("not_in", vendor.label, tz=actor.tz)
            backdated = at is not None and vendor.clock_in_at
            try:
                session = write_once(
                    "a clock-in",
                    vendor.label,
                    lambda: vendor.clock_in(user, project=project, note=note, at=at if backdated else None),
                    lambda asked_at: _confirm_clock_in(vendor, user, min(asked_at, at or asked_at)),
                    self.people.now,
                )
            except OutcomeUnknown:
                self._audit(rows, actor, vendor.name, "clock_in", "unknown")
                raise
            except VendorError as exc:
                self._audit(rows, actor, vendor.name, "clock_in", outcome(exc), exc.user_message)
                raise
            self._audit(rows, actor, vendor.name, "clock_in", "ok", f"session {session.session_id}")
            return self._told(
                actor,
                vendor.name,
                ClockResult("clocked_in", vendor.label, session, tz=actor.tz, backdated=backdated),
                rows,
            )

    @metrics.attempted("clock_out")
    def clock_out(
        self,
        actor: Actor,
        note: str | None = None,
        at: datetime | None = None,
        *,
        asked_at: datetime | None = None,
        write: bool = True,
    ) -> ClockResult:
        """``asked_at``: when a resumed clock-out was asked; a session begun after it is a newer
        one and is left running (``started_after``). ``write=False`` only reads (``still_in``)."""
        vendor = self.router.clock()
        user = self.people.identity(actor, vendor)
        with self._one_at_a_time(actor, "clock") as rows:
            current = vendor.current_session(user)
            if current is None:
                return self._told(actor, vendor.name, ClockResult("not_in", vendor.label, tz=actor.tz), rows)
            if asked_at is not None and current.started_at >= asked_at:
                return ClockResult("started_after", vendor.label, current, tz=actor.tz)
            if not write:
                return ClockResult("still_in", vendor.label, current, tz=actor.tz)
            if at is not None and at <= current.started_at:
                raise UserError("The end time must be after you clocked in.")
            try:
                session = vendor.clock_out(user, current, at=at, note=note)
            except SessionCrossesMidnight as exc:
                return ClockResult(
                    "crosses_midnight", vendor.label, current, exc.day, actor.tz, vendor.session_day_end(current)
                )
            except OutcomeUnknown as unknown:
                try:
                    still = vendor.current_session(user)
                except VendorError:  # can't tell: say so rather than claim either way
                    self._audit(rows, actor, vendor.name, "clock_out", "unknown")
                    raise unknown from None
                if still is None or still.session_id != current.session_id:
                    self._audit(rows, actor, vendor.name, "clock_out", "ok", "confirmed")
                    return ClockResult("clocked_out", vendor.label, current, tz=actor.tz)
                self._audit(rows, actor, vendor.name, "clock_out", "unknown")
                raise
            except VendorError as exc:
                self._audit(rows, actor, vendor.name, "clock_out", outcome(exc), exc.user_message)
                raise
            self._audit(rows, actor, vendor.name, "clock_out", "ok", f"session {session.session_id}")
            return self._told(
                actor,
                vendor.name,
                ClockResult(
                    "clocked_out",
                    vendor.label,
                    session,
                    tz=actor.tz,
                    note_dropped=bool(note) and not vendor.clock_notes,
                ),
                rows,
            )

    def clock_state(self, actor: Actor) -> ClockSession | None:
        vendor = self.router.clock()
        return vendor.current_session(self.people.identity(actor, vendor))


def _confirm_clock_in(vendor: ClockVendor, user: VendorUser, asked_at: datetime) -> tuple[ClockSession | None, bool]:
    """After a lost answer: the session the clock-in made, if any, and whether the vendor
    showed for certain that nothing is running (False when it could not be asked)."""
    try:
        session = vendor.current_session(user)
    except VendorError:
        return None, False
    if session is not None and session.started_at >= asked_at - timedelta(minutes=2):
        return session, False
    return None, session is None
