"""Leave in each consenting person's Slack status: set it when the leave starts (their zone),
restore what they had when it ends, is cancelled or cut short, unless they changed it meanwhile.

Every Slack change goes through a claim (``storage/away_status.py``), so several processes send
each one once. ``leave_changed`` is the entry point for anything that learns a leave changed (a
cancel, the vendor's news): it re-reads the person's leave and acts at once.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot import formatting as fmt
from bot.crypto import SecretBox, UndecryptableSecret
from bot.domain import SICK_LEAVE, Absence, Actor, Portion, SickLeave
from bot.errors import UserError, VendorError
from bot.telemetry import metrics
from bot.usecases.people import People
from bot.usecases.ports import Slack, SlackError, SlackTokenRevoked
from bot.vendors.registry import Router
from storage.away_status import AwayStatusStore, aware
from storage.models import AwayStatusEntry as StatusRow
from storage.models import SlackUserToken

log = logging.getLogger(__name__)

DEFAULT_LOOKS = "sick=:face_with_thermometer: Out sick"
DEFAULT_LOOK = (":palm_tree:", "On leave")
HIDDEN_LOOK = (":calendar:", "Out")  # every kind looks alike when the company hides the kind
TOLD_REVOKED = (
    "Slack revoked Timebot's permission to change your status, so your leave no longer shows "
    "in your Slack status. Turn it back on from Timebot's Home tab whenever you like."
)


@dataclass(frozen=True)
class AwayStatusOptions:
    looks: dict[str, tuple[str, str]]  # kind (lower-case, matched as a substring) -> (emoji, text)
    show_kind: bool = True
    dnd: bool = False
    poll_seconds: float = 300.0
    sick: SickLeave = SICK_LEAVE  # the ``sick`` look is for every kind this rule calls sick

    @classmethod
    def parse(
        cls,
        spec: str,
        *,
        show_kind: bool = True,
        dnd: bool = False,
        poll_seconds: float = 300.0,
        sick: SickLeave | None = None,
    ) -> AwayStatusOptions:
        """``kind=:emoji: text;kind=:emoji: text`` (TIMEBOT_LEAVE_STATUSES); ``*`` is every other kind,
        ``sick`` every kind the sick-leave rule matches (``SickLeave``), other keys part of the name."""
        looks: dict[str, tuple[str, str]] = {}
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            kind, _, look = part.partition("=")
            emoji, _, text = look.strip().partition(" ")
            if not kind.strip() or not (emoji.startswith(":") and emoji.endswith(":")) or not text.strip():
                raise ValueError(f"{part!r} is not kind=:emoji: text")
            looks[kind.strip().lower()] = (emoji, text.strip())
        return cls(looks, show_kind, dnd, poll_seconds, sick or SICK_LEAVE)

    def look(self, kind: str | None) -> tuple[str, str]:
        if not self.show_kind:
            return HIDDEN_LOOK
        name = (kind or "").lower()
        for key, look in self.looks.items():
            if (key == "sick" and self.sick(kind)) or (key not in ("*", "sick") and key in name):
                return look
        return self.looks.get("*", DEFAULT_LOOK)


def window(absence: Absence, tz: Any) -> tuple[datetime, datetime]:
    """When the leave is on, in UTC: from its first day's start (noon for an afternoon off) to the
    start of the day after its last (noon when the last day is a morning off)."""
    start_time = time(12) if absence.start_portion is Portion.PM else time(0)
    starts = datetime.combine(absence.start, start_time, tz)
    if absence.end_portion is Portion.AM or (absence.start == absence.end and absence.start_portion is Portion.AM):
        ends = datetime.combine(absence.end, time(12), tz)
    else:
        ends = datetime.combine(absence.end + timedelta(days=1), time(0), tz)
    return starts.astimezone(UTC), ends.astimezone(UTC)


def back_on(ends: datetime, tz: Any) -> str:
    local = ends.astimezone(tz)
    if local.hour >= 12:
        return f"back {fmt.day(local.date())} afternoon"
    day: date = local.date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return f"back {fmt.day(day)}"


def leave_key(vendor: str, absence: Absence) -> str:
    return f"{vendor}:{absence.absence_id or f'{absence.start}..{absence.end}'}"


class AwayStatus:
    def __init__(
        self,
        people: People,
        store: AwayStatusStore,
        router: Router,
        box: SecretBox,
        slack: Slack,
        options: AwayStatusOptions,
    ) -> None:
        self.people = people
        self.store = store
        self.router = router
        self.box = box
        self.slack = slack
        self.options = options
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]
        self._checked: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()

    # --- consent ------------------------------------------------------------------------------

    def connected(self, team_id: str, user_id: str) -> str:
        """on | off | revoked: what Home shows."""
        row = self.store.token(team_id, user_id)
        if row is None:
            return "off"
        return "on" if row.enabled else "revoked"

    def connect(self, team_id: str, user_id: str, token: str, scopes: str) -> None:
        """Store the person's user token, encrypted (a leave already running shows on the next look)."""
        self.store.save_token(team_id, user_id, self.box.encrypt(token), scopes, self.people.now())
        log.info("leave status turned on for %s", user_id)

    def disconnect(self, actor: Actor) -> None:
        self.store.forget_token(actor.team_id, actor.user_id)
        log.info("leave status turned off by %s", actor.user_id)

    def revoked(self, team_id: str, user_ids: list[str] | None) -> list[str]:
        """Slack revoked the token(s) (an event, or an invalid_auth answer): off, and told once."""
        told = self.store.revoke(team_id, user_ids, self.people.now())
        for user_id in told:
            log.info("leave status turned off for %s: Slack revoked the token", user_id)
            try:
                self.slack.post(user_id, TOLD_REVOKED)
            except SlackError as exc:
                log.warning("could not tell %s their status token was revoked: %s", user_id, exc.error)
        return told

    # --- entry points -------------------------------------------------------------------------

    def run(self, now: datetime | None = None) -> None:
        """The job: restore what is due, set what has started, for everyone who consented."""
        now = now or self.people.now()
        for consent in self.store.consents():
            try:
                self._check(consent, now, force=False)
            except Exception:
                log.exception("leave status for %s failed", consent.slack_user_id)

    def leave_changed(self, team_id: str, user_id: str, now: datetime | None = None) -> None:
        """A leave of the person changed (cancelled, cut short, approved …): act on it at once."""
        consent = self.store.token(team_id, user_id)
        if consent is not None and consent.enabled:
            self._check(consent, now or self.people.now(), force=True)

    def restore_now(self, team_id: str, user_id: str, key: str) -> bool:
        """The leave ``key`` is over (cancelled): restore the person's previous status now."""
        consent = self.store.token(team_id, user_id)
        row = self.store.entry(team_id, user_id, key)
        if consent is None or not consent.enabled or row is None or row.state != "set":
            return False
        token = self._token(consent)
        return token is not None and self._restore(consent, token, row, self.people.now(), "cancelled")

    # --- the work -----------------------------------------------------------------------------

    def _token(self, consent: SlackUserToken) -> str | None:
        try:
            return self.box.decrypt(consent.token_enc)
        except UndecryptableSecret:
            log.warning("the status token of %s can't be decrypted with the current keys", consent.slack_user_id)
            return None

    def _check(self, consent: SlackUserToken, now: datetime, *, force: bool) -> None:
        token = self._token(consent)
        if token is None:
            return
        team_id, user_id = consent.team_id, consent.slack_user_id
        records = self.store.open_records(team_id, user_id)
        for row in records:
            if row.state == "set" and aware(row.ends_at) <= now:
                self._restore(consent, token, row, now, "ended")
        if not force and not self._due(team_id, user_id, now):
            return
        actor = self.people.actor(team_id, user_id)
        vendor = self.router.maybe_leave()
        if vendor is None:
            return
        today = actor.today(now)
        try:
            user = self.people.identity(actor, vendor)
            absences = vendor.my_absences(user, today - timedelta(days=1), today + timedelta(days=1))
        except (VendorError, UserError) as exc:
            log.info("leave status for %s: leave not read (%s)", user_id, type(exc).__name__)
            return
        with self._lock:
            self._checked[(team_id, user_id)] = now
        current = {}
        for absence in absences:
            if absence.status != "approved":
                continue
            starts, ends = window(absence, actor.tz)
            if starts <= now < ends:
                current[leave_key(vendor.name, absence)] = (absence, starts, ends)
        for row in self.store.open_records(team_id, user_id):
            if row.state == "set" and row.leave_key not in current:
                self._restore(consent, token, row, now, "cancelled or cut short")
        handled = self.store.keys_since(team_id, user_id, now - timedelta(days=1))
        for key, (absence, starts, ends) in current.items():
            if key not in handled:
                self._set(consent, token, actor, key, absence, starts, ends, now)

    def _due(self, team_id: str, user_id: str, now: datetime) -> bool:
        """Read the vendor at most every ``poll_seconds`` per person, and at each half-day boundary
        (a leave starts at midnight or noon in the person's zone)."""
        with self._lock:
            last = self._checked.get((team_id, user_id))
        if last is None or (now - last).total_seconds() >= self.options.poll_seconds:
            return True
        tz = self.people.cached_zone(team_id, user_id)

        def half(moment: datetime) -> tuple[date, bool]:
            return moment.astimezone(tz).date(), moment.astimezone(tz).hour >= 12

        return half(last) != half(now)

    def _set(
        self,
        consent: SlackUserToken,
        token: str,
        actor: Actor,
        key: str,
        absence: Absence,
        starts: datetime,
        ends: datetime,
        now: datetime,
    ) -> None:
        emoji, text = self.options.look(absence.kind)
        text = f"{text} · {back_on(ends, actor.tz)}"[:100]
        row = self.store.claim(
            StatusRow(
                team_id=actor.team_id,
                slack_user_id=actor.user_id,
                leave_key=key,
                state="claimed",
                owner=self.owner,
                starts_at=starts,
                ends_at=ends,
                set_text=text,
                set_emoji=emoji,
                updated_at=now,
            )
        )
        if row is None:
            return  # another process has it
        try:
            before = self.slack.status(token)
            self.slack.set_status(token, text, emoji, int(ends.timestamp()))
        except SlackError as exc:
            self.store.move(row, "failed", now, expect="claimed", detail=f"users.profile: {exc.error}")
            self._slack_failed(consent, exc)
            return
        self.store.move(
            row,
            "set",
            now,
            expect="claimed",
            prev_text=before.get("status_text") or "",
            prev_emoji=before.get("status_emoji") or "",
            prev_expiration=int(before.get("status_expiration") or 0),
        )
        log.info("leave status set for %s until %s", actor.user_id, ends.isoformat())
        metrics.status_change("set")
        if self.options.dnd:
            try:
                self.slack.snooze(token, max(1, math.ceil((ends - now).total_seconds() / 60)))
            except SlackError as exc:
                log.warning("dnd.setSnooze failed for %s: %s", actor.user_id, exc.error)

    def _restore(self, consent: SlackUserToken, token: str, row: StatusRow, now: datetime, why: str) -> bool:
        if not self.store.move(row, "restoring", now, expect="set", owner=self.owner):
            return False  # another process is restoring it
        try:
            profile = self.slack.status(token)
            text, emoji = profile.get("status_text") or "", profile.get("status_emoji") or ""
            ours = (text, emoji) == (row.set_text, row.set_emoji)
            expired = not text and not emoji and aware(row.ends_at) <= now  # Slack cleared ours on expiry
            if not (ours or expired):
                self.store.move(row, "kept", now, expect="restoring", detail=f"{why}; the person changed it")
                log.info("leave status of %s left alone (%s): they changed it", row.slack_user_id, why)
                return True
            keep = row.prev_expiration == 0 or row.prev_expiration > now.timestamp()
            self.slack.set_status(
                token,
                row.prev_text if keep else "",
                row.prev_emoji if keep else "",
                row.prev_expiration if keep else 0,
            )
            if self.options.dnd and aware(row.ends_at) > now:
                try:
                    self.slack.end_snooze(token)
                except SlackError as exc:
                    log.info("dnd.endSnooze for %s: %s", row.slack_user_id, exc.error)
        except SlackError as exc:
            self.store.move(row, "failed", now, expect="restoring", detail=f"{why}: {exc.error}")
            self._slack_failed(consent, exc)
            return False
        self.store.move(row, "restored", now, expect="restoring", detail=why)
        log.info("previous status of %s restored (%s)", row.slack_user_id, why)
        metrics.status_change("restored")
        return True

    def _slack_failed(self, consent: SlackUserToken, exc: SlackError) -> None:
        if isinstance(exc, SlackTokenRevoked):
            self.revoked(consent.team_id, [consent.slack_user_id])
        else:
            log.warning("leave status for %s: Slack answered %s", consent.slack_user_id, exc.error)
