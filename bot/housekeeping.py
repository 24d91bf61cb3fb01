"""Housekeeping on a schedule: forget Slack request keys once no retry of them can come.

Slack retries a delivery within minutes, so a key kept for two days has done its work; without
this the processed-request table would grow by a row for every command, click and event.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from storage.models import utcnow

if TYPE_CHECKING:
    from bot.app import Runtime
    from storage.queries import Store

log = logging.getLogger(__name__)

KEEP_REQUEST_KEYS = timedelta(days=2)


def forget_old_requests(store: Store) -> int:
    forgotten = store.forget_requests_before(utcnow() - KEEP_REQUEST_KEYS)
    if forgotten:
        log.info("forgot %d Slack request keys older than %s", forgotten, KEEP_REQUEST_KEYS)
    return forgotten


def install_housekeeping(runtime: Runtime, *, every: timedelta = timedelta(hours=1)) -> None:
    """Run the housekeeping now and then ``every`` so often (only with ``TIMEBOT_SCHEDULER`` on)."""
    if not runtime.settings.scheduler_enabled:
        return
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(forget_old_requests, IntervalTrigger(seconds=every.total_seconds()),
                      args=(runtime.services.store,), id="housekeeping:request-keys", next_run_time=datetime.now(UTC))
    scheduler.start()
    runtime.on_close.append(lambda: scheduler.shutdown(wait=True))
