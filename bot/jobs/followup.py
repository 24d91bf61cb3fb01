"""Leave follow-up on a schedule: the status poll every ``TIMEBOT_LEAVE_POLL_SECONDS`` (and once
at start, which announces what changed while no process ran) and the approvers' daily reminder.

Every process may run these jobs: the claims in ``storage.followup`` make each notice go once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.telemetry import metrics
from bot.usecases.followup import LeaveFollowup

log = logging.getLogger(__name__)

REMIND_CHECK = timedelta(hours=1)  # how often due reminders are looked for; each goes once a day


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("leave %s failed", name)
            metrics.note_job_failure()

    return run


def start_followup_scheduler(
    followup: LeaveFollowup, poll_seconds: float, on_close: list[Callable[[], None]]
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    )
    now = datetime.now(UTC)
    scheduler.add_job(
        _guarded("status poll", followup.poll),
        IntervalTrigger(seconds=poll_seconds),
        id="leave:poll",
        next_run_time=now + timedelta(seconds=poll_seconds),
    )
    # At start: what changed while no process ran, for the requests already followed.
    scheduler.add_job(
        _guarded("status catch-up", lambda: followup.poll(scan=False)), id="leave:catch-up", next_run_time=now
    )
    scheduler.add_job(
        _guarded("approval reminder", followup.remind),
        IntervalTrigger(seconds=REMIND_CHECK.total_seconds()),
        id="leave:remind",
        next_run_time=now,
    )
    metrics.watch_scheduler(scheduler)
    scheduler.start()
    on_close.append(lambda: scheduler.shutdown(wait=True))
    return scheduler
