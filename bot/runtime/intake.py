"""The durable intake: every accepted action is in the database before its work starts, owned by
one process that keeps a heartbeat, and taken over by another (or by this one after a restart)
once that heartbeat stops.

How an action moves:
- The ack goes out first. Then ``accept`` queues the action for the group writer, which writes
  everything accepted in the last ``window`` seconds (at most 20 ms apart) in one transaction.
  An action is lost only if the process dies inside that window: its ack was sent, nothing else.
  The row is also the request's claim: a Slack retry or a double click finds the key taken and
  its job does nothing, so the separate claim each job used to make is gone.
- The job waits for its group (``Ticket.owned``) and then runs; the writer renews the heartbeat
  of every running row this process owns with one UPDATE every ``takeover / 4`` seconds; three
  missed beats and the row is anyone's.
- Once the person was told, ``finish`` marks the row done with that outcome, at once (a process
  dying between the answer and the mark means a second, true, answer from the takeover).
- ``recover`` (at start and then every ``recover_every`` seconds, on the scheduler: bot/jobs/intake.py)
  claims running rows whose heartbeat is that stale and hands each to its kind's resumer, which
  reconciles with the vendor before writing anything again (handlers/resume.py).
- At shutdown the pool finishes what it runs; whatever is still running is handed back, so a
  replica takes it over at its next recovery instead of after the takeover window.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import formatting as fmt
from storage.intake import IntakeStore, NewAction, Taken
from storage.models import utcnow

log = logging.getLogger(__name__)

# The request key of the action the current thread works on (so "what are you waiting for?"
# leaves the person's own new request out).
current_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("intake_current_key", default=None)

COMMAND = {
    "clockin": "/clockin",
    "clockout": "/clockout",
    "timeoff": "/timeoff request",
    "cancel": "leave cancel",
    "link": "link",
}


def new_owner() -> str:
    """Who holds a claim: host, pid and a random part (a restarted container may get the same pid)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class Ticket:
    """One accepted action on its way into the database."""

    def __init__(self, action: NewAction) -> None:
        self.action = action
        self.row_id: int | None = None
        self.error: BaseException | None = None
        self._written = threading.Event()

    def owned(self, timeout: float = 30.0) -> bool:
        """Wait for the action's group; True when this delivery owns the request, False for a
        repeat (the key was there already). Raises when the group could not be written."""
        if not self._written.wait(timeout):
            raise TimeoutError("the intake did not write this action in time")
        if self.error is not None:
            raise self.error
        return self.row_id is not None

    @property
    def resolved(self) -> bool:
        return self._written.is_set()

    def _resolve(self, row_id: int | None, error: BaseException | None = None) -> None:
        self.row_id, self.error = row_id, error
        self._written.set()


@dataclass(frozen=True)
class Resumed:
    """An action this process took over: what the person asked, when, and whether it is too old
    to be written now (``stale``: older than TIMEBOT_RESUME_WITHIN, reconciled and reported only)."""

    row_id: int
    kind: str
    team_id: str
    user_id: str
    payload: Mapping[str, Any]
    response_url: str
    accepted_at: datetime
    attempts: int
    stale: bool


@dataclass(frozen=True)
class Waiting:
    """A person's earlier action that a new one of theirs waits behind."""

    kind: str
    accepted_at: datetime
    orphaned: bool  # its process stopped renewing it: it is being taken over after a restart


# A resumer finishes a taken-over action and returns the outcome it told the person, or None to
# hand it back (someone else still holds the person's lease: the next recovery tries again).
Resumer = Callable[[Resumed], str | None]


class Intake:
    MAX_GROUP = 500
    GIVE_UP_AFTER = 6  # attempts: a resumer that keeps failing must not loop forever

    def __init__(
        self,
        store: IntakeStore,
        *,
        takeover: float,
        resume_within: float,
        settle: float = 0.0,
        window: float = 0.02,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.takeover = takeover
        self.resume_within = resume_within
        self.window = window
        self.beat = max(0.25, takeover / 4)
        # Work is presumed dead after three missed beats, so that with recovery looking every
        # ``recover_every`` seconds it is taken over within ``takeover`` of its owner's death. But a
        # vendor write the owner sent just before dying can still land ``settle`` seconds later (the
        # vendor timeouts): a takeover reading back sooner would miss it and send it again. So the
        # window never ends before the last beat's interval plus ``settle`` has passed.
        self.stale_after = max(takeover - self.beat, self.beat + settle)
        self.recover_every = min(self.beat, 2.0)
        self.now = now
        self.owner = new_owner()
        self.before_ack = False  # write each group before its acks go out (measured by bench/ack.py)
        self.resumers: dict[str, Resumer] = {}
        self.renewers: list[Callable[[], None]] = []  # run with each heartbeat (the clock leases)
        self._pending: list[Ticket] = []
        self._first_at = 0.0
        self._cond = threading.Condition()
        self._closed = False
        self._recovering = threading.Lock()
        self._writer = threading.Thread(target=self._write_loop, name="timebot-intake", daemon=True)
        self._writer.start()

    # --- the ack side ----------------------------------------------------------------------------

    def accept(
        self, kind: str, team_id: str, user_id: str, key: str, payload: Mapping[str, Any], response_url: str | None
    ) -> Ticket:
        """Queue an accepted action for the next group write (cheap: no database in the caller)."""
        ticket = Ticket(
            NewAction(
                key, kind, team_id, user_id, json.dumps(dict(payload), default=str), response_url or "", self.now()
            )
        )
        with self._cond:
            if not self._pending:
                self._first_at = time.monotonic()
            self._pending.append(ticket)
            self._cond.notify()
        return ticket

    def finish(self, row_id: int | None, outcome: str) -> None:
        """The person was told ``outcome``: mark the row done, now. Not with the next group: a
        process dying between the answer and this mark gets the person a second (true) answer
        from the takeover, so the mark follows the answer as closely as it can."""
        if row_id is None:
            return
        try:
            self.store.finish([(row_id, outcome)], self.owner)
        except Exception as exc:
            log.error("could not mark an action done (%s); a takeover will tell the person again", type(exc).__name__)

    def hand_back(self, row_id: int) -> None:
        self.store.hand_back(self.owner, row_id)

    # --- the writer: groups, done marks, heartbeats -------------------------------------------

    def _write_loop(self) -> None:
        next_beat = time.monotonic() + self.beat
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._closed or now >= next_beat:
                        break
                    if self._pending:
                        due = self._first_at + self.window
                        if now >= due or len(self._pending) >= self.MAX_GROUP:
                            break
                        self._cond.wait(min(due, next_beat) - now)
                    else:
                        self._cond.wait(next_beat - now)
                group, self._pending = self._pending[: self.MAX_GROUP], self._pending[self.MAX_GROUP :]
                if self._pending:
                    self._first_at = time.monotonic()
                closed = self._closed
            self._write(group)
            if time.monotonic() >= next_beat:
                self._heartbeat()
                next_beat = time.monotonic() + self.beat
            if closed:
                with self._cond:
                    if not self._pending:
                        return

    def _write(self, group: list[Ticket]) -> None:
        if not group:
            return
        try:
            ids = self.store.accept([t.action for t in group], self.owner)
        except Exception as exc:
            log.error("could not write %d accepted actions: %s", len(group), type(exc).__name__)
            for t in group:
                t._resolve(None, exc)
            return
        for t in group:
            t._resolve(ids.get(t.action.key[:255]))

    def _heartbeat(self) -> None:
        try:
            self.store.heartbeat(self.owner)
        except Exception as exc:  # the database is away: the next beat tries again
            log.warning("intake heartbeat failed: %s", type(exc).__name__)
        for renew in self.renewers:
            try:
                renew()
            except Exception as exc:
                log.warning("lease renewal failed: %s", type(exc).__name__)

    # --- takeover ------------------------------------------------------------------------------

    def recover(self, submit: Callable[[Callable[[], None]], object]) -> int:
        """Claim every action whose owner stopped renewing it and start each on ``submit`` (the
        work pool); how many were taken. Runs at start and on the housekeeping scheduler."""
        if self._closed or not self._recovering.acquire(blocking=False):
            return 0
        try:
            count = 0
            while not self._closed:
                taken = self.store.take_stale(self.owner, self.now() - timedelta(seconds=self.stale_after))
                if taken:
                    owners = sorted({row.previous_owner or "handed back" for row in taken})
                    log.info(
                        "taking over %d unfinished actions, accepted from %s (was: %s)",
                        len(taken),
                        min(row.accepted_at for row in taken).isoformat(timespec="seconds"),
                        ", ".join(owners),
                    )
                for row in taken:
                    submit(functools.partial(self._resume, row))
                count += len(taken)
                if len(taken) < 100:
                    return count
            return count
        finally:
            self._recovering.release()

    def _resume(self, row: Taken) -> None:
        resumer = self.resumers.get(row.kind)
        try:
            payload = json.loads(row.payload or "{}")
        except ValueError:
            payload = {}
        resumed = Resumed(
            row.id,
            row.kind,
            row.team_id,
            row.slack_user_id,
            payload,
            row.response_url,
            row.accepted_at,
            row.attempts,
            stale=self.now() - row.accepted_at > timedelta(seconds=self.resume_within),
        )
        token = current_key.set(row.key)
        try:
            if resumer is None:
                log.error("no resumer for a %s; marking it done untold", row.kind)
                self.finish(row.id, "no-resumer")
                return
            outcome = resumer(resumed)
        except Exception:
            log.exception("resuming a %s failed", row.kind)
            if row.attempts >= self.GIVE_UP_AFTER:
                self.finish(row.id, "gave-up")
            else:
                self.hand_back(row.id)
            return
        finally:
            current_key.reset(token)
        if outcome is None:
            self.hand_back(row.id)
        else:
            self.finish(row.id, outcome)

    def waiting(self, team_id: str, user_id: str, kinds: tuple[str, ...]) -> Waiting | None:
        """The person's oldest unfinished action of ``kinds`` other than the one being worked on
        now in this thread, and whether its owner is gone (what a "wait" message may truthfully say)."""
        mine = current_key.get()
        try:
            rows = self.store.running_for(team_id, user_id, kinds)
        except Exception:
            return None
        cutoff = self.now() - timedelta(seconds=2 * self.beat)
        for row in rows:
            if row.key == mine:
                continue
            beat = row.heartbeat_at if row.heartbeat_at.tzinfo else row.heartbeat_at.replace(tzinfo=self.now().tzinfo)
            accepted = row.accepted_at if row.accepted_at.tzinfo else row.accepted_at.replace(tzinfo=self.now().tzinfo)
            return Waiting(
                row.kind, accepted, orphaned=row.owner != self.owner and (beat < cutoff or self._gone(row.owner))
            )
        return None

    def waiting_note(
        self,
        team_id: str,
        user_id: str,
        tz: Any,
        kinds: tuple[str, ...] = ("clockin", "clockout"),
    ) -> str | None:
        """What a person's new clock action is waiting behind, truthfully, or None when nothing is."""
        w = self.waiting(team_id, user_id, kinds)
        if w is None:
            return None
        at = fmt.wall_time(w.accepted_at.astimezone(tz))
        if w.orphaned:
            return (
                f"Your {COMMAND.get(w.kind, w.kind)} from {at} is being finished after a restart; you'll hear "
                "how it ended within a minute. Try again after that if you still need to."
            )
        return f"I'm still working on your {COMMAND.get(w.kind, w.kind)} from {at}. Give it a moment."

    def _gone(self, owner: str) -> bool:
        """Whether ``owner`` was a process on this host that no longer runs (a restart here): then
        "being finished after a restart" is true before the heartbeat has gone stale."""
        host, _, rest = owner.partition(":")
        pid_text = rest.partition(":")[0]
        if host != socket.gethostname()[:32] or not pid_text.isdigit():
            return False
        pid = int(pid_text)
        if pid == os.getpid():
            return owner != self.owner  # an earlier life of this very pid (a container restarted)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def close(self) -> None:
        """Write what is queued, then hand back whatever this process still holds (the pool has
        finished its jobs by now): a replica takes those over at its next recovery."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._writer.join(10)
        try:
            handed = self.store.hand_back(self.owner)
        except Exception as exc:
            log.warning("could not hand back running actions: %s", type(exc).__name__)
            return
        if handed:
            log.info("handed back %d unfinished actions for another process to finish", handed)
