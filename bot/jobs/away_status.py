"""The leave-status job on APScheduler: every minute, and once at start (a status missed while
the bot was down is set then, if the leave is still on). Nothing is kept in the scheduler: what
was set and what is due lives in the database, so the job survives restarts, and its claims
make each change happen once however many processes run it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.telemetry import metrics
from bot.usecases.away_status import AwayStatus

log = logging.getLogger(__name__)

EVERY_SECONDS = 60


def start_away_status_job(
    away_status: AwayStatus, on_close: list[Callable[[], None]], *, every: float = EVERY_SECONDS
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(every)}
    )
    scheduler.add_job(
        away_status.run, IntervalTrigger(seconds=every), id="leave-status", next_run_time=datetime.now(UTC)
    )
    metrics.watch_scheduler(scheduler)
    scheduler.start()
    on_close.append(lambda: scheduler.shutdown(wait=True))
    return scheduler
