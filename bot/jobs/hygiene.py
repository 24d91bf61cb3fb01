"""Clock-hygiene checks on a schedule (forgotten clock-outs and clock-ins), like housekeeping:
one APScheduler interval job per process. Several processes may all run it: every reminder is
claimed in the database first (bot/usecases/hygiene.py), so each goes out once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.telemetry import metrics
from bot.usecases.hygiene import ClockHygiene, every_check


def start_reminders(hygiene: ClockHygiene, on_close: list[Callable[[], None]], *, every: timedelta) -> None:
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        every_check(hygiene),
        IntervalTrigger(seconds=every.total_seconds()),
        id="hygiene:check",
        next_run_time=datetime.now(UTC) + timedelta(seconds=5),
    )
    metrics.watch_scheduler(scheduler)
    scheduler.start()

    def close() -> None:
        hygiene.stop()  # a sweep of every linked person would otherwise hold shutdown for minutes
        scheduler.shutdown(wait=True)

    on_close.append(close)
