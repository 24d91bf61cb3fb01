"""The durable intake's jobs (bot/runtime/intake.py): take over the actions a dead process left,
at start and then every ``recover_every`` seconds, and forget finished actions once no retry of
their Slack delivery can come."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.jobs.housekeeping import KEEP_REQUEST_KEYS
from bot.jobs.scheduler import Every, Job
from storage.intake import IntakeStore
from storage.models import utcnow

Submit = Callable[[Callable[[], None]], object]


class Intake(Protocol):
    """What the jobs use of ``bot.runtime.intake.Intake`` (the runtime imports the jobs, not back)."""

    recover_every: float
    store: IntakeStore

    def recover(self, submit: Submit) -> int: ...


FORGET_EVERY_SECONDS = 3600.0


def jobs(intake: Intake, submit: Submit) -> list[Job]:
    return [
        Job("intake:recover", Every(intake.recover_every, first=0), lambda: intake.recover(submit)),
        Job(
            "intake:forget",
            Every(FORGET_EVERY_SECONDS, first=0),
            lambda: intake.store.forget_done_before(utcnow() - KEEP_REQUEST_KEYS),
        ),
    ]
