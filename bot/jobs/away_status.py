"""The away-status job: every minute, and once at start (a status missed while the bot was down
is set then, if the leave is still on). What was set and what is due lives in the database, so
the job survives restarts, and its claims make each change happen once however many processes
run it."""

from __future__ import annotations

from bot.jobs.scheduler import Every, Job
from bot.usecases.away_status import AwayStatus

EVERY_SECONDS = 60


def jobs(away_status: AwayStatus, *, every: float = EVERY_SECONDS) -> list[Job]:
    # a run held up by a busy process still counts until the next one is due
    return [Job("leave-status", Every(every, first=0), away_status.run, grace=int(every))]
