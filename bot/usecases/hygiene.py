"""Clock hygiene: a nudge for a forgotten clock-out (and, if asked, the clock-out itself), and a
nudge for a forgotten clock-in.

How running sessions are found, cheaply: a session started through Timebot is watched at once
(``Clock`` tells us), and a periodic vendor read (``sweep``, every ``TIMEBOT_SESSION_SWEEP_MINUTES``)
adds those started elsewhere: one call per page on a company-wide vendor, one bounded-concurrent
read per linked person on TimeClock. Each check then only reads the database; the vendor is asked
again only about a session whose reminder is due (is it still running?), by the one process
that claimed it. Every claim is a conditional UPDATE (storage/hygiene.py): one DM per session,
however many processes share the database.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain import Action, Actor, ClockSession, QuietHours, RunningSession, VendorUser
from bot.errors import UserError, VendorError
from bot.telemetry import metrics
from bot.usecases.clock import Clock, ClockResult
from bot.usecases.people import People
from bot.usecases.ports import Blocks, Messages, SlackError, SlackRateLimited
from bot.usecases.whos_off import holiday_days
from bot.vendors.base import ClockVendor, CompanyClockState
from bot.vendors.registry import Router
from storage.hygiene import HygieneStore
from storage.ledger import EndWatches, Row, WatchRow
from storage.models import SessionWatch
from storage.store import Store

log = logging.getLogger(__name__)

SWEEP_CHUNK = 32  # people read per vendor round in a sweep; shutdown waits for at most one round
SWEEP_YIELD = 60.0  # seconds a sweep round waits for a quiet pool before it goes ahead anyway

NUDGE_WINDOW = timedelta(hours=3)  # a clock-in nudge later than this after the chosen time is pointless


@dataclass(frozen=True)
class ClockOutReminder:
    """What the forgotten-clock-out DM says and carries."""

    watch_id: int
    session: ClockSession
    tz: ZoneInfo
    now: datetime
    latest_end: datetime | None  # the vendor's last accepted end (TimeClock: the start day's midnight)

    @property
    def hours(self) -> int:
        return int((self.now - self.session.started_at).total_seconds() // 3600)


@dataclass(frozen=True)
class ReminderOutcome:
    """What a click on the reminder did, for the DM to say in place."""

    outcome: str  # clocked_out | already_out | already_done (an earlier click did it) | crosses_midnight
    result: ClockResult | None = None


class HygieneRender(Protocol):
    """The Block Kit, written in handlers/render/hygiene.py and handed in by bot/runtime/app.py."""

    def reminder(self, reminder: ClockOutReminder) -> tuple[str, list[dict[str, Any]]]: ...

    def auto_clocked_out(
        self, result: ClockResult, asked_at: datetime, now: datetime
    ) -> tuple[str, list[dict[str, Any]]]: ...

    def clock_in_nudge(self, chosen: time) -> tuple[str, list[dict[str, Any]]]: ...


def _owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:10]}"


@dataclass
class HygienePolicy:
    remind_after: timedelta = timedelta(hours=10)
    quiet: QuietHours | None = field(default_factory=lambda: QuietHours(time(21), time(7)))
    auto_after: timedelta | None = None
    sweep_every: timedelta = timedelta(minutes=30)


class ClockHygiene:
    def __init__(
        self,
        people: People,
        store: Store,
        hygiene: HygieneStore,
        router: Router,
        clock: Clock,
        policy: HygienePolicy,
        render: HygieneRender,
        slack: Messages,
        idle: Callable[[float], bool] | None = None,
    ) -> None:
        self.people = people
        self.store = store
        self.hygiene = hygiene
        self.router = router
        self.clock = clock
        self.policy = policy
        self.render = render
        self.slack = slack  # retries 429s only: a DM must not go out twice
        self._last_sweep: datetime | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._idle = idle  # waits (a bounded time) for people's requests to be done: a sweep yields
        clock.on_change.append(self._clock_changed)

    def _yield_to_people(self) -> None:
        """Wait while people's requests are being worked on (a 9:00 rush), at most
        ``SWEEP_YIELD`` seconds, so a sweep never takes the interpreter from them."""
        if self._idle is None:
            return
        deadline = monotonic() + SWEEP_YIELD
        while not self._stopping.is_set() and monotonic() < deadline and not self._idle(0.5):
            pass

    def stop(self) -> None:
        """Shutting down: a sweep in progress ends after the people in hand (``SWEEP_CHUNK``)."""
        self._stopping.set()

    # --- what Timebot itself sees ------------------------------------------------------------

    def _clock_changed(self, actor: Actor, vendor: str, result: ClockResult) -> list[Row]:
        """What to remember of a clock action; the clock writes it with the action's own bookkeeping."""
        if result.outcome in {"clocked_in", "already_in"} and result.session is not None:
            return [
                WatchRow(actor.team_id, actor.user_id, vendor, result.session.session_id, result.session.started_at)
            ]
        if result.outcome in {"clocked_out", "not_in"}:
            return [EndWatches(actor.team_id, actor.user_id, vendor)]
        return []

    def _vendor(self) -> CompanyClockState | None:
        vendor = self.router.maybe(Action.CLOCK)
        if vendor is None or Action.WHOS_IN not in vendor.capabilities:
            return None
        return self.router.whos_in()

    # --- the scheduled check -----------------------------------------------------------------

    def check(self) -> int:
        """One pass: sweep when due, remind whoever is due, clock out whoever is past the
        automatic limit, nudge whoever forgot to clock in. Returns the reminders sent."""
        now = self.people.now()
        sent = 0
        vendor = self._vendor()
        if vendor is not None:
            with self._lock:
                due = self._last_sweep is None or now - self._last_sweep >= self.policy.sweep_every
                if due:
                    self._last_sweep = now
            if due:
                self.sweep(vendor)
            for watch in self.hygiene.watches(vendor.name, ["open"]):
                if now - watch.started_at >= self.policy.remind_after:
                    sent += self._remind(vendor, watch, now)
            if self.policy.auto_after is not None:
                for watch in self.hygiene.watches(vendor.name, ["reminded"]):
                    if now - watch.started_at >= self.policy.auto_after:
                        self._auto_clock_out(vendor, watch, now)
        self.nudge_clock_ins(now)
        return sent

    def sweep(self, vendor: CompanyClockState) -> int:
        """Watch every running session of a linked person, found at the vendor."""
        rows = [r for r in self.store.all_identities() if r.vendor == vendor.name]
        if not rows:
            return 0
        users: list[VendorUser] = []
        for row in rows:
            try:
                users.append(self.people.vendor_user(row))
            except Exception:  # an undecryptable key: that person is left out, not everyone
                log.warning("sweep skips identity %s: its key cannot be read", row.id)
        running: list[RunningSession] = []
        chunks = (
            [[]] if vendor.company_wide else [users[i : i + SWEEP_CHUNK] for i in range(0, len(users), SWEEP_CHUNK)]
        )
        for chunk in chunks:
            self._yield_to_people()
            if self._stopping.is_set():
                log.info("session sweep stopped for shutdown")
                break
            try:
                running.extend(vendor.clocked_in(chunk))
            except VendorError as exc:  # what earlier rounds found is still watched
                log.warning("session sweep failed: %s", exc)
                break
        holders: dict[str, list[tuple[str, str]]] = {}
        for row in rows:
            holders.setdefault(row.vendor_user_id.lower(), []).append((row.team_id, row.slack_user_id))
        found = 0
        for item in running:
            for team_id, slack_user_id in holders.get(item.vendor_user_id.lower(), []):
                self.hygiene.watch(
                    team_id, slack_user_id, vendor.name, item.session.session_id, item.session.started_at
                )
                found += 1
        return found

    def _running(self, vendor: ClockVendor, watch: SessionWatch) -> tuple[VendorUser, ClockSession] | None:
        """The watched session if it still runs, asked of the vendor now; None when it ended."""
        row = self.store.identity(watch.team_id, watch.slack_user_id, watch.vendor)
        if row is None:
            return None
        user = self.people.vendor_user(row)
        current = vendor.current_session(user)
        if current is None or current.session_id != watch.session_id:
            return None
        return user, current

    def _remind(self, vendor: CompanyClockState, watch: SessionWatch, now: datetime) -> int:
        assert watch.id is not None
        tz = self.people.cached_zone(watch.team_id, watch.slack_user_id)
        if self.policy.quiet is not None and self.policy.quiet.contains(now.astimezone(tz)):
            return 0  # waits for the first check after their quiet hours
        owner = _owner()
        if not self.hygiene.move(watch.id, ["open"], "reminding", owner=owner):
            return 0  # another process has it
        try:
            running = self._running(vendor, watch)
        except VendorError as exc:
            log.warning("could not check session %s: %s; will try again", watch.session_id, exc)
            self.hygiene.move(watch.id, ["reminding"], "open", owner="")
            return 0
        if running is None:
            self.hygiene.move(watch.id, ["reminding"], "gone", detail="ended before the reminder was due")
            return 0
        session = running[1]
        reminder = ClockOutReminder(watch.id, session, tz, now, vendor.session_day_end(session))
        text, blocks = self.render.reminder(reminder)
        try:
            posted = self.slack.post(watch.slack_user_id, text, blocks)
        except SlackRateLimited as exc:  # refused, so nothing went out: the next check tries again
            self.hygiene.move(watch.id, ["reminding"], "open", owner="")
            log.warning("clock-out reminder for %s not sent: %s", watch.slack_user_id, exc.error)
            return 0
        except SlackError as exc:
            self.hygiene.move(watch.id, ["reminding"], "failed", detail=f"chat.postMessage: {exc.error}"[:500])
            log.warning("clock-out reminder for %s not sent: %s", watch.slack_user_id, exc.error)
            return 0
        self.hygiene.move(
            watch.id,
            ["reminding"],
            "reminded",
            reminded_at=now,
            channel_id=posted.channel,
            message_ts=posted.ts,
        )
        log.info("clock-out reminder sent to %s (session %s)", watch.slack_user_id, watch.session_id)
        metrics.reminders("clock_out", 1)
        return 1

    def _auto_clock_out(self, vendor: CompanyClockState, watch: SessionWatch, now: datetime) -> None:
        """Past the automatic limit: end the session when the reminder was sent, and say so."""
        assert watch.id is not None and watch.reminded_at is not None
        if not self.hygiene.move(watch.id, ["reminded"], "closing", owner=_owner()):
            return
        try:
            running = self._running(vendor, watch)
            if running is None:
                self.hygiene.move(watch.id, ["closing"], "gone", detail="ended before the automatic clock-out")
                return
            latest = vendor.session_day_end(running[1])
            at = min(watch.reminded_at, latest) if latest is not None else watch.reminded_at
            actor = self.people.actor(watch.team_id, watch.slack_user_id)
            result = self.clock.clock_out(actor, at=at, note="Clocked out by Timebot (no answer to the reminder)")
        except (VendorError, UserError) as exc:
            log.warning("automatic clock-out of %s failed: %s", watch.slack_user_id, exc)
            self.hygiene.move(watch.id, ["closing"], "reminded")  # the next check tries again
            return
        self.hygiene.move(watch.id, ["closing"], "done", detail="clocked out automatically")
        text, blocks = self.render.auto_clocked_out(result, watch.reminded_at, now)
        self._say(watch.slack_user_id, watch.channel_id, watch.message_ts, text, blocks)

    def _say(self, user_id: str, channel: str, ts: str, text: str, blocks: Blocks) -> None:
        """Update the reminder in place when we know where it is, else a new DM."""
        try:
            if channel and ts:
                self.slack.update(channel, ts, text, blocks)
            else:
                self.slack.post(user_id, text, blocks)
        except SlackError as exc:
            log.warning("could not tell %s about the automatic clock-out: %s", user_id, exc.error)

    # --- the reminder's buttons --------------------------------------------------------------

    def watched_session(self, actor: Actor, watch_id: int) -> SessionWatch | None:
        watch = self.hygiene.watched(watch_id)
        if watch is None or watch.team_id != actor.team_id or watch.slack_user_id != actor.user_id:
            return None
        return watch

    def end_session(self, actor: Actor, watch_id: int, at: datetime | None = None) -> ReminderOutcome:
        """ "Clock out now" / "I left at…": end the reminded session (only that one), once however
        often it is clicked: the first click claims the watch (``ending``), a later one finds it taken."""
        watch = self.watched_session(actor, watch_id)
        if watch is None:
            raise UserError("That reminder is out of date. Use `/clockout` instead.")
        prior = watch.status
        if prior == "gone":
            return ReminderOutcome("already_out")
        if prior not in ("open", "reminding", "reminded") or not self.hygiene.move(watch_id, [prior], "ending"):
            return ReminderOutcome("already_done")  # another click (or the automatic clock-out) has it
        try:
            vendor = self.router.clock()
            current = vendor.current_session(self.people.identity(actor, vendor))
            if current is None or current.session_id != watch.session_id:
                self.hygiene.move(watch_id, ["ending"], "gone")
                return ReminderOutcome("already_out")
            result = self.clock.clock_out(actor, at=at)
        except BaseException:
            self.hygiene.move(watch_id, ["ending"], prior)  # nothing ended: the buttons still work
            raise
        if result.outcome == "not_in":
            self.hygiene.move(watch_id, ["ending"], "gone")
            return ReminderOutcome("already_out")
        if result.outcome == "crosses_midnight":
            self.hygiene.move(watch_id, ["ending"], prior)
            return ReminderOutcome("crosses_midnight", result)
        self.hygiene.move(watch_id, ["ending"], "done", detail="clocked out from the reminder")
        return ReminderOutcome("clocked_out", result)

    # --- forgotten clock-ins -----------------------------------------------------------------

    def set_clock_in_reminder(self, actor: Actor, at: time | None) -> None:
        """Opt in with a time (their own zone), or out with None."""
        current = self.hygiene.clock_in_reminder(actor.team_id, actor.user_id)
        if at is None:
            if current is not None:
                self.hygiene.set_clock_in_reminder(actor.team_id, actor.user_id, current.hour, current.minute, False)
            return
        self.hygiene.set_clock_in_reminder(actor.team_id, actor.user_id, at.hour, at.minute, True)

    def clock_in_reminder(self, actor: Actor) -> time | None:
        row = self.hygiene.clock_in_reminder(actor.team_id, actor.user_id)
        return time(row.hour, row.minute) if row is not None and row.enabled else None

    def nudge_clock_ins(self, now: datetime) -> int:
        sent = 0
        for pref in self.hygiene.clock_in_reminders():
            tz = self.people.cached_zone(pref.team_id, pref.slack_user_id)
            local = now.astimezone(tz)
            chosen = datetime.combine(local.date(), time(pref.hour, pref.minute), tz)
            if not chosen <= local < chosen + NUDGE_WINDOW or local.weekday() >= 5:
                continue
            key = f"clockin-nudge:{pref.team_id}:{pref.slack_user_id}:{local.date().isoformat()}"
            if self.store.request_seen(key):
                continue
            try:
                if not self._forgot_clock_in(pref.team_id, pref.slack_user_id, local.date(), chosen):
                    self.store.claim_request(key)  # decided for today: nothing to say
                    continue
            except (VendorError, UserError) as exc:
                log.info("clock-in nudge for %s undecided: %s", pref.slack_user_id, exc)
                continue
            if not self.store.claim_request(key):
                continue  # another process sent it
            text, blocks = self.render.clock_in_nudge(time(pref.hour, pref.minute))
            try:
                posted = self.slack.post(pref.slack_user_id, text, blocks)
                self.store.claim_request(_nudge_key(pref.team_id, pref.slack_user_id, posted.channel, posted.ts))
                sent += 1
                metrics.reminders("clock_in", 1)
            except SlackError as exc:
                log.warning("clock-in nudge for %s not sent: %s", pref.slack_user_id, exc.error)
        return sent

    def nudged(self, actor: Actor, channel: str, ts: str) -> bool:
        """True when the message at ``channel``/``ts`` is a clock-in nudge this bot sent ``actor``
        (remembered as long as request keys are: two days). The button acts, and edits that
        message, only then: a click names its message itself, so a forged one could name any."""
        return bool(channel and ts) and self.store.request_seen(_nudge_key(actor.team_id, actor.user_id, channel, ts))

    def _forgot_clock_in(self, team_id: str, user_id: str, day: date, chosen: datetime) -> bool:
        """A working day, no public holiday, no leave, and no session since the day began."""
        holidays, _ = holiday_days(self.router, day, day)
        if day in holidays:
            return False
        actor = self.people.actor(team_id, user_id)
        leave = self.router.maybe_leave()
        if leave is not None:
            try:
                if any(
                    a.portion_on(day) is not None and a.status != "denied"
                    for a in leave.my_absences(self.people.identity(actor, leave), day, day)
                ):
                    return False
            except UserError:
                pass  # not linked for leave: they may still be working
        vendor = self.router.clock()
        user = self.people.identity(actor, vendor)
        if Action.HOURS in vendor.capabilities:
            start = datetime.combine(day, time(0), actor.tz)
            return not self.router.sessions().sessions(user, start, self.people.now())
        return vendor.current_session(user) is None


def _nudge_key(team_id: str, user_id: str, channel: str, ts: str) -> str:
    return f"clockin-nudge-sent:{team_id}:{user_id}:{channel}:{ts}"
