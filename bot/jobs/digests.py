"""The digests' jobs: one cron job per subscription, rebuilt from the table, a resync every minute
(subscriptions another process added or removed) and a catch-up at start.

Jobs live in memory and are rebuilt from the table (never a shared pickled job store); a digest's
run may start hours late and runs missed while the process was busy are run once, so a busy or
briefly stopped process still runs the day's job once; the run itself decides whether it is still
the right day, and its claims (``bot.digests.poster``) make it post once across processes."""

from __future__ import annotations

import functools
import logging
import threading
from datetime import datetime
from zoneinfo import ZoneInfoNotFoundError

from bot.digests.poster import Digests
from bot.digests.schedule import cron_trigger
from bot.jobs.scheduler import AtStart, Every, Job, Scheduler
from bot.telemetry import metrics
from storage.models import DigestSubscription

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 6 * 3600  # APScheduler's default is 1 s; the run itself checks the date
RESYNC_SECONDS = 60


class DigestSchedule:
    """The subscriptions' cron jobs on the process's scheduler; what admins' changes tell it
    (``bot.digests.poster.Schedule``)."""

    def __init__(self, digests: Digests, scheduler: Scheduler, *, resync_seconds: float = RESYNC_SECONDS) -> None:
        self.digests = digests
        self.scheduler = scheduler
        self.resync_seconds = resync_seconds
        self._signatures: dict[str, tuple[int, int, str, str]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def job_id(team_id: str, channel_id: str) -> str:
        return f"digest:{team_id}:{channel_id}"

    def jobs(self) -> list[Job]:
        return [
            Job("digest:resync", Every(self.resync_seconds), self.resync, grace=max(1, int(self.resync_seconds))),
            Job("digest:catch-up", AtStart(), functools.partial(self.digests.catch_up, at_start=True), grace=None),
        ]

    def wakeup(self) -> None:
        """Re-read the clock now (tests that move time call this)."""
        self.scheduler.wakeup()

    def resync(self) -> None:
        try:
            self.sync()
        except Exception as exc:  # the catch-up below still runs
            log.warning("digest schedule resync failed: %s", type(exc).__name__)
            metrics.note_job_failure()
        self.digests.catch_up()

    def sync(self) -> None:
        """Make the jobs match the table: add new, replace changed, drop removed subscriptions."""
        subs = self.digests.store.subscriptions()
        wanted = {self.job_id(s.team_id, s.channel_id): s for s in subs}
        with self._lock:
            for job_id in [j for j in self._signatures if j not in wanted]:
                self._remove(job_id)
        for sub in subs:
            self.schedule(sub)

    def schedule(self, sub: DigestSubscription) -> None:
        job_id = self.job_id(sub.team_id, sub.channel_id)
        signature = (sub.hour, sub.minute, sub.tz, sub.days)
        with self._lock:
            if self._signatures.get(job_id) == signature:
                return
            try:
                trigger = cron_trigger(sub)
            except (ValueError, ZoneInfoNotFoundError) as exc:
                log.error("digest for %s has an unusable schedule (%s); not scheduled", sub.channel_id, exc)
                return
            fire = functools.partial(self.digests.fire, sub.team_id, sub.channel_id)
            self.scheduler.add(Job(job_id, trigger, fire, grace=MISFIRE_GRACE_SECONDS))
            self._signatures[job_id] = signature
        log.info("digest for %s scheduled %02d:%02d %s on %s", sub.channel_id, sub.hour, sub.minute, sub.tz, sub.days)

    def unschedule(self, team_id: str, channel_id: str) -> None:
        with self._lock:
            self._remove(self.job_id(team_id, channel_id))

    def _remove(self, job_id: str) -> None:
        self._signatures.pop(job_id, None)
        self.scheduler.remove(job_id)

    def next_fire(self, team_id: str, channel_id: str) -> datetime | None:
        return self.scheduler.next_run(self.job_id(team_id, channel_id))


def jobs(digests: Digests, scheduler: Scheduler) -> list[Job]:
    """The digests' jobs on ``scheduler``: from now on admins' changes reach it, and the
    subscriptions in the table are scheduled (their cron jobs run from the scheduler's start)."""
    schedule = DigestSchedule(digests, scheduler)
    digests.scheduler = schedule
    schedule.sync()
    return schedule.jobs()
