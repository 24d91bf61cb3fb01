"""The APScheduler adapter: one cron job per subscription, rebuilt from the table."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfoNotFoundError

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.digests.poster import Digests
from bot.digests.schedule import cron_trigger
from bot.telemetry import metrics
from storage.models import DigestSubscription

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 6 * 3600  # APScheduler's default is 1 s; the run itself checks the date
RESYNC_SECONDS = 60


class DigestScheduler:
    """APScheduler 3 ``BackgroundScheduler`` with one CronTrigger job per subscription.

    Jobs live in memory and are rebuilt from the table (never a shared pickled job store);
    ``misfire_grace_time`` is generous and ``coalesce`` on, so a busy or briefly stopped process
    still runs the day's job once; the run itself decides whether it is still the right day.
    """

    def __init__(self, digests: Digests, *, resync_seconds: float = RESYNC_SECONDS) -> None:
        self.digests = digests
        self.resync_seconds = resync_seconds
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        )
        self._signatures: dict[str, tuple[int, int, str, str]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def job_id(team_id: str, channel_id: str) -> str:
        return f"digest:{team_id}:{channel_id}"

    def start(self) -> None:
        metrics.watch_scheduler(self.scheduler)
        self.scheduler.start()
        self.sync()
        self.scheduler.add_job(
            self.resync,
            IntervalTrigger(seconds=self.resync_seconds),
            id="digest:resync",
            misfire_grace_time=max(1, int(self.resync_seconds)),
            replace_existing=True,
        )
        self.scheduler.add_job(
            self.digests.catch_up,
            kwargs={"at_start": True},
            id="digest:catch-up",
            misfire_grace_time=None,
            replace_existing=True,
        )  # runs at once, off this thread

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def wakeup(self) -> None:
        """Re-read the clock now (tests that move time call this)."""
        self.scheduler.wakeup()

    def resync(self) -> None:
        try:
            self.sync()
        except Exception:
            log.exception("digest schedule resync failed")
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
            self.scheduler.add_job(
                self.digests.fire,
                trigger,
                args=(sub.team_id, sub.channel_id),
                id=job_id,
                name=f"digest {sub.channel_id}",
                replace_existing=True,
            )
            self._signatures[job_id] = signature
        log.info("digest for %s scheduled %02d:%02d %s on %s", sub.channel_id, sub.hour, sub.minute, sub.tz, sub.days)

    def unschedule(self, team_id: str, channel_id: str) -> None:
        with self._lock:
            self._remove(self.job_id(team_id, channel_id))

    def _remove(self, job_id: str) -> None:
        self._signatures.pop(job_id, None)
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def next_fire(self, team_id: str, channel_id: str) -> datetime | None:
        job = self.scheduler.get_job(self.job_id(team_id, channel_id))
        return job.next_run_time if job is not None else None


def start_scheduler(digests: Digests, on_close: list[Callable[[], None]]) -> DigestScheduler:
    """Run the digests on their schedule in this process (``TIMEBOT_SCHEDULER``); stopped on close."""
    scheduler = DigestScheduler(digests)
    digests.scheduler = scheduler
    scheduler.start()
    on_close.append(scheduler.shutdown)
    return scheduler
