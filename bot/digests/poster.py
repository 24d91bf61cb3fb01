"""Daily "who's off" digests: subscriptions, the schedule, and exactly-once posting.

How a digest reaches a channel exactly once, whatever the number of processes:

* Every process may run a scheduler. Jobs live in a ``MemoryJobStore`` rebuilt from the
  ``digest_subscription`` table at start and re-synced every minute, so nothing pickled is
  shared between processes and a change made in another process arrives within a minute (the
  process that handled the slash command applies it at once).
* A run first INSERTs its (channel, local date) row in ``digest_run``; the unique constraint
  lets exactly one process win. Only the winner builds and posts; it records each message ts.
* Before the first ``chat.postMessage`` the row moves ``claimed`` → ``posting`` with a
  conditional UPDATE (a fence: a process whose stale claim was taken over can't post).
* After a crash: a ``claimed`` row (nothing posted yet) older than ``ClaimPolicy.stale_after``
  is taken over and posted; a ``posting`` row may have reached Slack, which has no idempotency
  key, so it becomes ``unknown``, is never re-posted, and an admin is alerted (log, audit, DM)
  with the command to resend after checking the channel. At-most-once in that narrow window;
  never a duplicate.
* A run missed while every process was down is posted when one comes back the same local day
  (marked late), otherwise recorded as ``missed`` and logged.
* A digest too long for one message is posted as n messages, each ts recorded as it lands. When
  Slack refuses message k+1 outright (an answer that says nothing was posted) the run ends
  ``partial``, keeping the k ts and a fingerprint of all n messages (``plan``). A later attempt
  rebuilds the day's messages as first planned (same lateness), checks that the first k still
  match the plan, and posts only the other n-k through the same claim and ``posting`` fence,
  appending their ts; if the digest changed meanwhile it posts nothing and alerts an admin.
  The scheduler resumes by itself (``ClaimPolicy.retry_after`` apart, ``max_attempts`` in all,
  the same local day) only after refusals that pass (``SlackTryLater``: rate limits, Slack
  unavailable); a permanent one (not in the channel, archived, too long, …) alerts an admin at
  once and waits for ``timebot digest send``, which resumes rather than starting again.
  An answer that says the post may have happened (HTTP 5xx, ``fatal_error``, ``internal_error``,
  a lost connection) makes the run ``unknown``, never resumed automatically.

Times: subscriptions are wall-clock times in the channel's IANA zone on named weekdays
(``CronTrigger(day_of_week="mon-fri", hour=9, minute=0, timezone=ZoneInfo(...))``), so 09:00
stays 09:00 across DST. Decisions about dates use the injected ``clock``, never the host's zone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time as _time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.digests.alerts import DigestAlerts
from bot.digests.content import DigestBuilder, DigestMessage
from bot.digests.schedule import CATCH_UP_AFTER, LATE_AFTER, latest_due, scheduled_at
from bot.digests.spec import DEFAULT_DAYS
from bot.errors import UserError
from bot.parse import esc
from bot.usecases.people import People
from bot.usecases.ports import (
    Messages,
    SlackError,
    SlackNotInChannel,
    SlackOutcomeUnknown,
    SlackTryLater,
    SlackUnreachable,
)
from bot.vendors.registry import Router
from storage.digests import ClaimPolicy, DigestStore, settled
from storage.models import DigestRun, DigestSubscription

log = logging.getLogger(__name__)

POST_INTERVAL_SECONDS = 1.0  # chat.postMessage: about one message per second (per channel)
# A partial run stopped by a refusal that passes by itself (``SlackTryLater``: rate limits, Slack
# briefly unavailable) is resumed by the scheduler. Any other refusal (not in the channel, channel
# gone or archived, msg_too_long, invalid_blocks, …) needs an admin. An answer that says the post
# may have happened (``SlackOutcomeUnknown``: a 5xx, fatal_error, internal_error, no answer) makes
# the run unknown, never re-posted automatically.
MAX_RESUMABLE_MESSAGES = 50  # the fingerprints and ts of this many fit their columns


@dataclass(frozen=True)
class RunResult:
    """What one attempt to post a channel's digest came to (for logs, the CLI and tests)."""

    channel_id: str
    local_date: date
    outcome: str  # sent | empty | skipped | failed | partial | unknown
    reason: str = ""
    ts: list[str] = field(default_factory=list)  # every message of the run in the channel, earlier ones too
    messages: int = 0  # how many that is
    run: DigestRun | None = None
    resumed: int = 0  # of those, how many earlier attempts had posted (a partial run resumed)


class _PostGate:
    """Spaces posts at least ``interval`` apart across all channels (Slack allows about one
    message per second per channel, with a workspace-wide cap); waits in the calling thread."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last = -1e9

    def wait(self) -> None:
        with self._lock:
            delay = self._last + self.interval - _time.monotonic()
            if delay > 0:
                _time.sleep(delay)
            self._last = _time.monotonic()


class Schedule(Protocol):
    """What admins' changes tell the scheduler of this process (``bot.jobs.digests``)."""

    def schedule(self, sub: DigestSubscription) -> None: ...

    def unschedule(self, team_id: str, channel_id: str) -> None: ...


class Digests:
    """Posts a channel's digest exactly once, from the schedule, catch-up or the CLI."""

    def __init__(
        self,
        builder: DigestBuilder,
        store: DigestStore,
        people: People,
        router: Router,
        client: Messages,
        *,
        default_tz: str,
        clock: Callable[[], float] | None = None,
        policy: ClaimPolicy | None = None,
        post_interval: float = POST_INTERVAL_SECONDS,
    ) -> None:
        self.builder = builder
        self.store = store
        self.people = people
        self.router = router
        self.client = client  # retries 429s only: a post must not go out twice
        self.default_tz = default_tz
        self.clock = clock or people.clock
        self.policy = policy or ClaimPolicy()
        self.gate = _PostGate(post_interval)
        self.scheduler: Schedule | None = None  # set when this process runs the schedule
        self.alerts = DigestAlerts(people, router)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def adhoc(self, team_id: str, channel_id: str, tz: str | None = None) -> DigestSubscription:
        """The options of an unsubscribed channel (preview, CLI): defaults, not stored."""
        return DigestSubscription(
            team_id=team_id,
            channel_id=channel_id,
            hour=9,
            minute=0,
            tz=tz or self.default_tz,
            days=DEFAULT_DAYS,
            created_by="-",
        )

    def post(
        self, sub: DigestSubscription, day: date, *, trigger: str, due_at: datetime | None = None, force: bool = False
    ) -> RunResult:
        """Claim (channel, local date), build, post, record; a partial run posts only the messages
        it has not posted yet. See the module docstring."""
        channel = sub.channel_id
        claim = self.store.claim_run(
            sub.team_id,
            channel,
            day,
            owner=_owner(),
            now=self.now(),
            trigger=trigger,
            late=due_at is not None,
            policy=self.policy,
            force=force,
            manual=trigger == "cli",
        )
        if claim.reason == "marked-unknown":
            self.alerts.alert(
                sub,
                day,
                f"The process posting the digest in <#{channel}> for {day} stopped before "
                "recording whether it went out. I won't post it again by myself.",
                "unknown",
            )
        if claim.run is None:
            log.info(
                "digest for %s on %s not posted by this process: %s (%s)",
                channel,
                day,
                claim.reason,
                claim.existing.status if claim.existing else "-",
            )
            return RunResult(channel, day, "skipped", claim.reason, run=claim.existing)
        run = claim.run
        if claim.reason != "claimed":
            log.info("digest for %s on %s: %s", channel, day, claim.reason)
        done = [ts for ts in run.message_ts.split(",") if ts]  # posted by earlier attempts: a partial run
        if done:  # rebuild what was first planned: a "posted late" note that came or went would shift the split
            due_at = scheduled_at(day, sub.hour, sub.minute, ZoneInfo(sub.tz)) if run.late else None
        try:
            messages = self.builder.messages(sub, day, due_at=due_at)
        except Exception as exc:
            detail = getattr(exc, "user_message", None) or getattr(exc, "message", None) or type(exc).__name__
            status = "partial" if done else "failed"  # the messages already posted stay recorded
            self.store.finish(
                run,
                status,
                self.now(),
                detail=f"build: {detail}"[:500],
                expect="claimed",
                resumable=run.resumable if done else False,
            )
            log.warning(
                "digest for %s on %s could not be built (attempt %s): %s",
                channel,
                day,
                run.attempts,
                detail,
                exc_info=not isinstance(exc, UserError) and not hasattr(exc, "user_message"),
            )
            self.alerts.audit(sub, "failed", f"{channel} {day}: {detail}")
            if run.attempts >= self.policy.max_attempts:  # the last try: nobody will post it unless told
                self.alerts.alert(
                    sub,
                    day,
                    f"I couldn't put together the digest for <#{channel}> ({esc(str(detail))}), so it wasn't posted.",
                    "partial" if done else "failed",
                )
            return RunResult(channel, day, status, str(detail), done, len(done), run, len(done))
        plan = ",".join(_fingerprint(m) for m in messages) if len(messages) <= MAX_RESUMABLE_MESSAGES else ""
        if done and not _continues(run.plan, plan, len(done)):
            return self._changed(sub, run, day, done)
        if not messages:
            self.store.finish(run, "empty", self.now(), detail="nobody off: skipped", expect="claimed")
            log.info("digest for %s on %s skipped: nobody is off", channel, day)
            return RunResult(channel, day, "empty", run=run)
        self.gate.wait()  # before the fence, so "posting" lasts no longer than the posts themselves
        if not self.store.mark_posting(run, self.now(), plan=plan):
            log.warning("digest for %s on %s: our claim was taken over before posting; not posting", channel, day)
            return RunResult(channel, day, "skipped", "lost-claim", run=run)
        return self._post_messages(sub, run, day, messages, done, planned=bool(plan))

    def _post_messages(
        self,
        sub: DigestSubscription,
        run: DigestRun,
        day: date,
        messages: list[DigestMessage],
        done: list[str],
        *,
        planned: bool = True,
    ) -> RunResult:
        """Post ``messages`` after the ``done`` ones (their ts, from earlier attempts), recording each."""
        channel = sub.channel_id
        posted = list(done)
        total = len(messages)
        for index in range(len(done), total):
            message = messages[index]
            if index > len(done):
                self.gate.wait()
            try:
                answer = self.client.post(channel, message.text, message.blocks, unfurl=False)
            except SlackOutcomeUnknown as exc:  # Slack may have posted before failing, or no answer came
                if isinstance(exc, SlackUnreachable):
                    detail = f"chat.postMessage: {exc.error}"
                elif exc.status is not None and exc.status >= 500:
                    detail = f"chat.postMessage HTTP {exc.status}"
                else:
                    detail = f"chat.postMessage {exc.error}"
                return self._unknown(sub, run, day, posted, detail, len(done))
            except SlackError as exc:
                error = exc.error
                if not posted:  # refused outright: nothing went out, a later retry is safe
                    self.store.finish(run, "failed", self.now(), detail=f"slack: {error}", expect="posting")
                    if run.attempts == 1 or run.attempts >= self.policy.max_attempts:  # first and last only
                        self.alerts.alert(
                            sub,
                            day,
                            f"Slack refused the digest for <#{channel}> ({error})."
                            + (" Invite me with `/invite @Timebot`." if isinstance(exc, SlackNotInChannel) else ""),
                            "failed",
                        )
                    return RunResult(channel, day, "failed", error, run=run)
                passing = isinstance(exc, SlackTryLater)
                return self._partial(sub, run, day, posted, total, error, len(done), planned=planned, passing=passing)
            except Exception as exc:  # trouble of another kind on the way: the message may be in Slack
                return self._unknown(sub, run, day, posted, f"chat.postMessage: {type(exc).__name__}", len(done))
            posted.append(answer.ts)
            if not self.store.record_ts(run, posted, self.now()):  # another process settled our run
                log.warning(
                    "digest for %s on %s: our claim was taken over after %d message(s); stopping",
                    channel,
                    day,
                    len(posted),
                )
                return RunResult(channel, day, "skipped", "lost-claim", posted, len(posted), run, len(done))
        if not self.store.finish(run, "sent", self.now(), ts=posted, expect="posting"):
            log.warning("digest for %s on %s: posted, but our claim was taken over before we recorded it", channel, day)
            return RunResult(channel, day, "skipped", "lost-claim", posted, len(posted), run, len(done))
        more = f" (the last {total - len(done)}: resumed)" if done else ""
        self.alerts.audit(
            sub, "ok", f"{channel} {day}: {len(posted)} message(s)" + (" (late)" if run.late else "") + more
        )
        log.info(
            "digest for %s on %s posted: %d message(s)%s%s",
            channel,
            day,
            len(posted),
            " (late)" if run.late else "",
            more,
        )
        return RunResult(channel, day, "sent", "", posted, len(posted), run, len(done))

    def _partial(
        self,
        sub: DigestSubscription,
        run: DigestRun,
        day: date,
        posted: list[str],
        total: int,
        error: str,
        resumed: int,
        *,
        planned: bool,
        passing: bool,
    ) -> RunResult:
        """Slack refused message k+1 of n outright: keep the k; the scheduler resumes after a
        ``passing`` refusal, an admin after any other (``planned``: the run has the plan a resume
        checks)."""
        channel, index = sub.channel_id, len(posted)
        resumable = planned and passing
        self.store.finish(
            run,
            "partial",
            self.now(),
            ts=posted,
            expect="posting",
            resumable=resumable,
            detail=f"part {index + 1}/{total} refused: {error}",
        )
        text = f"Only {index} of {total} digest messages reached <#{channel}> ({error})."
        if not planned:
            too_long = f"{text} It is too long to post the rest on its own."
            self.alerts.alert(sub, day, too_long, "partial", resend=True)
        elif not resumable:
            self.alerts.alert(sub, day, text, "partial")
        elif run.attempts >= self.policy.max_attempts:
            self.alerts.alert(
                sub, day, f"{text} I tried {run.attempts} times and won't try again by myself.", "partial"
            )
        else:
            log.warning(
                "digest for %s on %s: %s; the rest is posted in about %s (attempt %s of %s)",
                channel,
                day,
                text,
                self.policy.retry_after,
                run.attempts,
                self.policy.max_attempts,
            )
            self.alerts.audit(sub, "partial", f"{channel} {day}: {text} Resuming later.")
        return RunResult(channel, day, "partial", error, posted, index, run, resumed)

    def _changed(self, sub: DigestSubscription, run: DigestRun, day: date, done: list[str]) -> RunResult:
        """A partial run whose rebuilt messages no longer continue what was posted: posting the rest
        could repeat or leave out people, so nothing is posted and an admin decides."""
        self.store.finish(
            run,
            "partial",
            self.now(),
            expect="claimed",
            resumable=False,
            detail=f"not resumed: the digest changed after {len(done)} message(s) were posted",
        )
        self.alerts.alert(
            sub,
            day,
            f"The digest for <#{sub.channel_id}> changed after {len(done)} of its messages were "
            "posted, so I didn't post the rest.",
            "partial",
            resend=True,
        )
        return RunResult(sub.channel_id, day, "partial", "changed", done, len(done), run, len(done))

    def _unknown(
        self, sub: DigestSubscription, run: DigestRun, day: date, posted: list[str], detail: str, resumed: int = 0
    ) -> RunResult:
        self.store.finish(run, "unknown", self.now(), ts=posted, detail=detail, expect="posting")
        self.alerts.alert(
            sub,
            day,
            f"I may or may not have posted the digest in <#{sub.channel_id}> for {day} "
            f"({detail}). I won't post it again by myself.",
            "unknown",
        )
        return RunResult(sub.channel_id, day, "unknown", detail, posted, len(posted), run, resumed)

    def fire(self, team_id: str, channel_id: str) -> RunResult | None:
        """The cron job: post today's digest if today's run is really due (a misfire carried past
        local midnight is yesterday's run: skipped, not posted under today's date)."""
        now = self.now()
        sub = self.store.subscription(team_id, channel_id)
        if sub is None:
            log.info("digest job for %s fired but the subscription is gone", channel_id)
            return None
        due = latest_due(sub, now)
        tz = ZoneInfo(sub.tz)
        if due is None or due.astimezone(tz).date() != now.astimezone(tz).date():
            log.warning("digest for %s: a run from an earlier day fired late; skipped", channel_id)
            return None
        if due < sub.updated_at:  # rescheduled in another process since this job was set: not due
            log.info("digest for %s: the schedule changed before %s; this run is not due", channel_id, due)
            return None
        return self.post(
            sub, due.astimezone(tz).date(), trigger="schedule", due_at=due if now - due > LATE_AFTER else None
        )

    def catch_up(self, *, at_start: bool = False) -> list[RunResult]:
        """Post today's runs that nobody posted (late), retry failed ones, resume partial ones
        stopped by a passing refusal, settle crashed ones; at start, record earlier days missed
        while the bot was down (logged, not posted)."""
        now = self.now()
        results = []
        known = self.store.runs_between(now.date() - timedelta(days=9), now.date() + timedelta(days=1))
        for sub in self.store.subscriptions():
            due = latest_due(sub, now)
            if due is None or due < sub.updated_at:
                continue
            tz = ZoneInfo(sub.tz)
            due_day = due.astimezone(tz).date()
            existing = known.get((sub.team_id, sub.channel_id, due_day))
            try:
                if due_day == now.astimezone(tz).date():
                    if now - due < CATCH_UP_AFTER or (existing is not None and settled(existing)):
                        continue
                    results.append(
                        self.post(sub, due_day, trigger="catch-up", due_at=due if now - due > LATE_AFTER else None)
                    )
                elif at_start and existing is None:
                    self._missed(sub, due, due_day, now)
            except Exception:  # one channel's trouble must not stop the others
                log.exception("digest catch-up failed for %s on %s", sub.channel_id, due_day)
        return results

    def _missed(self, sub: DigestSubscription, due: datetime, day: date, now: datetime) -> None:
        detail = f"due {fmt.clock(due, ZoneInfo(sub.tz), with_day=True)} while no Timebot process was running"
        if self.store.mark_missed(sub.team_id, sub.channel_id, day, owner=_owner(), now=now, detail=detail):
            log.warning(
                "digest for %s on %s was missed (%s); skipped: it is no longer that day there",
                sub.channel_id,
                day,
                detail,
            )

    def send(
        self, channel_id: str, *, day: date | None = None, force: bool = False, team_id: str | None = None
    ) -> RunResult:
        """``timebot digest send``: post now through the same claim. A failed or missed run is
        posted, a partial one resumed (only the messages not yet posted); ``force`` resends all."""
        sub = self.store.subscription_for_channel(channel_id)
        if sub is None:
            if team_id is None:
                team_id = self.people.slack.workspace_id()
            sub = self.adhoc(team_id, channel_id)
        local_day = day or self.now().astimezone(ZoneInfo(sub.tz)).date()
        return self.post(sub, local_day, trigger="cli", force=force)


def _owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:10]}"


def _fingerprint(message: DigestMessage) -> str:
    """A short hash of exactly what a message says (text and blocks)."""
    payload = json.dumps([message.text, message.blocks], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def _continues(planned: str, rebuilt: str, posted: int) -> bool:
    """Whether the rebuilt messages (``rebuilt`` fingerprints) carry on from the ``posted`` first
    messages of the plan: as many messages, the first ``posted`` of them unchanged."""
    old, new = planned.split(",") if planned else [], rebuilt.split(",") if rebuilt else []
    return posted < len(old) == len(new) and old[:posted] == new[:posted]
