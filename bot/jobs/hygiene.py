"""Clock-hygiene checks on a schedule (forgotten clock-outs and clock-ins). Several processes may
all run them: every reminder is claimed in the database first (bot/usecases/hygiene.py), so each
goes out once."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs.scheduler import Every, Job
from bot.usecases.hygiene import ClockHygiene

FIRST_AFTER = timedelta(seconds=5)


def jobs(hygiene: ClockHygiene, *, every: timedelta) -> list[Job]:
    # stop: a sweep of every linked person would otherwise hold shutdown for minutes
    return [
        Job(
            "hygiene:check",
            Every(every.total_seconds(), first=FIRST_AFTER.total_seconds()),
            hygiene.check,
            stop=hygiene.stop,
        )
    ]
