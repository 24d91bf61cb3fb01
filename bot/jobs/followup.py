"""Leave follow-up on a schedule: the status poll every ``TIMEBOT_LEAVE_POLL_SECONDS`` (and once
at start, which announces what changed while no process ran) and the approvers' daily reminder.

Every process may run these jobs: the claims in ``storage.followup`` make each notice go once.
Their runs are never skipped for being late: a late poll or reminder is still the right one."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs.scheduler import AtStart, Every, Job
from bot.usecases.followup import LeaveFollowup

REMIND_CHECK = timedelta(hours=1)  # how often due reminders are looked for; each goes once a day


def jobs(followup: LeaveFollowup, poll_seconds: float) -> list[Job]:
    return [
        Job("leave:poll", Every(poll_seconds), followup.poll, grace=None),
        # what changed while no process ran, for the requests already followed
        Job("leave:catch-up", AtStart(), lambda: followup.poll(scan=False), grace=None),
        Job("leave:remind", Every(REMIND_CHECK.total_seconds(), first=0), followup.remind, grace=None),
    ]
