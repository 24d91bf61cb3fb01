"""Housekeeping on a schedule: forget Slack request keys once no retry of them can come, and
read names from the Slack directory hourly (at start too, but off the scheduler: see
``timebot run``; and sooner when someone is met who isn't in it yet, see ``Directory.meet``).

Slack retries a delivery within minutes, so a key kept for two days has done its work; without
this the processed-request table would grow by a row for every command, click and event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.jobs.scheduler import Every, Job
from storage.models import utcnow
from storage.store import Store

log = logging.getLogger(__name__)

KEEP_REQUEST_KEYS = timedelta(days=2)
EVERY = timedelta(hours=1)


def forget_old_requests(store: Store) -> int:
    forgotten = store.forget_requests_before(utcnow() - KEEP_REQUEST_KEYS)
    if forgotten:
        log.info("forgot %d Slack request keys older than %s", forgotten, KEEP_REQUEST_KEYS)
    return forgotten


def jobs(store: Store, refresh: Callable[[], object], *, every: timedelta = EVERY) -> list[Job]:
    return [
        Job("housekeeping:request-keys", Every(every.total_seconds(), first=0), lambda: forget_old_requests(store)),
        Job("housekeeping:directory", Every(every.total_seconds()), refresh),  # at once: `timebot users sync`
    ]
