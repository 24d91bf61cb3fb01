"""Housekeeping on a schedule: forget Slack request keys once no retry of them can come, and
read names from the Slack directory at start and hourly (and sooner when someone is met who
isn't in it yet, see ``Directory.meet``).

Slack retries a delivery within minutes, so a key kept for two days has done its work; without
this the processed-request table would grow by a row for every command, click and event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.telemetry import metrics
from storage.models import utcnow
from storage.store import Store

log = logging.getLogger(__name__)

KEEP_REQUEST_KEYS = timedelta(days=2)


def forget_old_requests(store: Store) -> int:
    forgotten = store.forget_requests_before(utcnow() - KEEP_REQUEST_KEYS)
    if forgotten:
        log.info("forgot %d Slack request keys older than %s", forgotten, KEEP_REQUEST_KEYS)
    return forgotten


def start_housekeeping(
    store: Store,
    on_close: list[Callable[[], None]],
    *,
    every: timedelta = timedelta(hours=1),
    refresh: Callable[[], object] | None = None,
    also: Sequence[tuple[str, Callable[[], object], float]] = (),
) -> None:
    """Run the housekeeping now and then ``every`` so often (only with ``TIMEBOT_SCHEDULER`` on).
    ``also``: more interval jobs (id, job, seconds) on the same scheduler, each run at start too
    (the intake's recovery: taking over actions a dead process left)."""
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
    for job_id, job, seconds in also:
        scheduler.add_job(
            _logged(job, job_id),
            IntervalTrigger(seconds=seconds),
            id=job_id,
            name=job_id,
            next_run_time=datetime.now(UTC),
        )
        if seconds < 60:
            _FREQUENT.add(job_id)
    scheduler.add_job(
        forget_old_requests,
        IntervalTrigger(seconds=every.total_seconds()),
        args=(store,),
        id="housekeeping:request-keys",
        next_run_time=datetime.now(UTC),
    )
    if refresh is not None:  # names from the Slack directory, hourly (at once: `timebot users sync`)
        scheduler.add_job(_logged(refresh), IntervalTrigger(seconds=every.total_seconds()), id="housekeeping:directory")
    metrics.watch_scheduler(scheduler)
    scheduler.start()
    on_close.append(lambda: scheduler.shutdown(wait=True))


_FREQUENT: set[str] = set()


class _QuietFrequentJobs(logging.Filter):
    """APScheduler logs two INFO lines per run; a job every few seconds would fill the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not record.args:
            return True
        first = record.args[0] if isinstance(record.args, tuple) else None
        return not any(str(first).startswith(name + " ") for name in _FREQUENT)


logging.getLogger("apscheduler.executors.default").addFilter(_QuietFrequentJobs())


def _logged(job: Callable[[], object], what: str = "directory refresh") -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception as exc:  # Slack (or the database) unreachable: the next run tries again
            log.warning("%s failed: %s", what, type(exc).__name__)
            metrics.note_job_failure()

    return run
