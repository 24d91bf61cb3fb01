"""The process's one scheduler. Each feature declares its jobs next to itself (``bot/jobs/<feature>.py``,
a ``jobs(...)`` function returning ``Job`` values: a name, a trigger and a zero-argument function); the
composition root hands them all to one ``Scheduler`` (only with ``TIMEBOT_SCHEDULER`` on).

One error wrapper for every job: a failure is one log line (the job's name and the exception's type,
never its message, which may quote a vendor's reply or a token) and one counted failure, and the job
stays scheduled, so the next run tries again. Runs, failures and the last success are counted per job
(``bot.telemetry.metrics.watch_scheduler``). A job never overlaps itself (``max_instances=1``) and runs
missed while the process was busy are run once, not once each (``coalesce``).

Nothing is kept in the scheduler between runs: what is due lives in the database, and each feature's
claims make every notice go once however many processes run the same jobs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.telemetry import metrics

log = logging.getLogger(__name__)

# Threads shared by every job: a clock-hygiene sweep or a vendor poll can take minutes, and the
# digests' wall-clock jobs must not wait behind them (each job still runs one at a time).
WORKERS = 16
# APScheduler logs two INFO lines per run; a job more frequent than this would fill the log.
QUIET_UNDER_SECONDS = 60


@dataclass(frozen=True)
class Every:
    """Every ``seconds``; the first run ``first`` seconds after start (0: at start; None: one interval)."""

    seconds: float
    first: float | None = None


@dataclass(frozen=True)
class AtStart:
    """Once, as soon as the scheduler runs (a catch-up on what changed while no process ran)."""


Trigger: TypeAlias = Every | AtStart | BaseTrigger  # BaseTrigger: a calendar trigger (the digests' CronTrigger)


@dataclass(frozen=True)
class Job:
    name: str  # the job's id: in the log line of a failure and, without Slack ids, the metrics label
    trigger: Trigger
    run: Callable[[], object]
    # How late a run may still start (seconds; None: however late). APScheduler's default is 1 s:
    # a run held up longer than that by a busy process is skipped until the next one.
    grace: int | None = 1
    # Cuts a long run short when the process stops (a sweep of every linked person would otherwise
    # hold shutdown for minutes).
    stop: Callable[[], None] | None = None


class Scheduler:
    """Runs ``Job`` values on one APScheduler 3 ``BackgroundScheduler``. Jobs added before ``start``
    are scheduled at ``start``, so "at start" means when the process starts running them."""

    def __init__(self, *, workers: int = WORKERS) -> None:
        self._aps = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        metrics.watch_scheduler(self._aps)
        self._waiting: dict[str, Job] = {}
        self._stops: dict[str, Callable[[], None]] = {}
        self._lock = threading.Lock()

    def add(self, job: Job) -> None:
        """Schedule ``job``, replacing any job of the same name."""
        with self._lock:
            if job.stop is not None:
                self._stops[job.name] = job.stop
            if not self._aps.running:
                self._waiting[job.name] = job
                return
        self._schedule(job, datetime.now(UTC))

    def remove(self, name: str) -> None:
        with self._lock:
            self._waiting.pop(name, None)
            self._stops.pop(name, None)
        if self._aps.get_job(name) is not None:
            self._aps.remove_job(name)

    def next_run(self, name: str) -> datetime | None:
        job = self._aps.get_job(name)
        return job.next_run_time if job is not None and self._aps.running else None

    def start(self) -> None:
        with self._lock:  # a job added meanwhile waits, then is scheduled on the running scheduler
            now = datetime.now(UTC)
            for job in self._waiting.values():
                self._schedule(job, now)
            self._waiting = {}
            self._aps.start()

    def wakeup(self) -> None:
        """Re-read the clock now (tests that move time call this)."""
        self._aps.wakeup()

    def shutdown(self) -> None:
        """Cut long runs short, then wait for the runs in progress to end."""
        for stop in list(self._stops.values()):
            try:
                stop()
            except Exception as exc:
                log.warning("stopping a job failed: %s", type(exc).__name__)
        if self._aps.running:
            self._aps.shutdown(wait=True)

    def _schedule(self, job: Job, now: datetime) -> None:
        trigger: BaseTrigger
        first: datetime | None = None
        if isinstance(job.trigger, Every):
            trigger = IntervalTrigger(seconds=job.trigger.seconds)
            if job.trigger.first is not None:
                first = now + timedelta(seconds=job.trigger.first)
            if job.trigger.seconds < QUIET_UNDER_SECONDS:
                _quiet.add(job.name)
        elif isinstance(job.trigger, AtStart):
            trigger = DateTrigger(run_date=now)
        else:
            trigger = job.trigger
        extra = {"next_run_time": first} if first is not None else {}
        self._aps.add_job(
            _guarded(job),
            trigger,
            id=job.name,
            name=job.name,
            misfire_grace_time=job.grace,
            replace_existing=True,
            **extra,
        )


def run_jobs(declare: Callable[[Scheduler], Iterable[Job]]) -> Scheduler:
    """Start the process's one scheduler on every job ``declare`` lists. ``declare`` is handed the
    scheduler because the digests add and drop a job per subscription on it as they change."""
    scheduler = Scheduler()
    for job in declare(scheduler):
        scheduler.add(job)
    scheduler.start()
    return scheduler


def _guarded(job: Job) -> Callable[[], None]:
    def run() -> None:
        try:
            job.run()
        except Exception as exc:  # a vendor, Slack or the database unreachable: the next run tries again
            log.warning("scheduled job %s failed: %s", job.name, type(exc).__name__)
            metrics.note_job_failure()

    return run


_quiet: set[str] = set()


class _QuietFrequentJobs(logging.Filter):
    """Drops APScheduler's per-run INFO lines for the jobs that run more often than once a minute."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not record.args:
            return True
        first = record.args[0] if isinstance(record.args, tuple) else None
        return not any(str(first).startswith(name + " ") for name in _quiet)


logging.getLogger("apscheduler.executors.default").addFilter(_QuietFrequentJobs())
