"""Housekeeping on a schedule: forget Slack request keys once no retry of them can come, and
read names from the Slack directory at start and hourly (and sooner when someone is met who
isn't in it yet, see ``Directory.meet``).

Slack retries a delivery within minutes, so a key kept for two days has done its work; without
this the processed-request table would grow by a row for every command, click and event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from bot import metrics
from bot.usecases.people import slack_profile
from storage.models import utcnow
from storage.queries import Store

log = logging.getLogger(__name__)

KEEP_REQUEST_KEYS = timedelta(days=2)


def forget_old_requests(store: Store) -> int:
    forgotten = store.forget_requests_before(utcnow() - KEEP_REQUEST_KEYS)
    if forgotten:
        log.info("forgot %d Slack request keys older than %s", forgotten, KEEP_REQUEST_KEYS)
    return forgotten


def slack_members(client: WebClient) -> Iterator[dict[str, Any]]:
    """Real, active people in the workspace (no bots, no deactivated accounts)."""
    cursor = None
    while True:
        page = client.users_list(limit=200, cursor=cursor)
        for member in page["members"]:
            if member.get("deleted") or member.get("is_bot") or member.get("id") == "USLACKBOT":
                continue
            yield member
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def save_members(store: Store, team_id: str, members: list[dict[str, Any]]) -> None:
    """Person rows from Slack's directory: the one name every list shows for a person."""
    for m in members:
        profile = slack_profile(m)
        if profile is not None:
            store.save_person(team_id, m["id"], **profile)


def refresh_directory(store: Store, client: WebClient) -> int:
    """Housekeeping, hourly: re-read everyone's name (and email, zone) from Slack's users.list."""
    team_id = str(client.auth_test()["team_id"])
    members = list(slack_members(client))
    save_members(store, team_id, members)
    return len(members)


class Directory:
    """The Slack directory (users.list) read into person rows: at start, hourly, and before a
    scope is resolved that holds people the bot hasn't met. On vendors that match people by email,
    a channel member or group member without a row would be left out of who's off and digests.

    One read at a time; a caller arriving during a read waits for it rather than starting another.
    A scope always naming someone the directory lacks (a bot in a channel, a guest without email)
    triggers at most one read per ``min_gap`` seconds."""

    def __init__(
        self, store: Store, client: WebClient, *, min_gap: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.client = client
        self.min_gap = min_gap
        self.clock = clock
        self._lock = threading.Lock()
        self._last_done: float | None = None

    def refresh(self) -> int:
        with self._lock:
            return self._read()

    def refresh_in_background(self, submit: Callable[[Callable[[], None]], object]) -> None:
        """The read at start, on ``submit``'s threads (the work pool: closed, and waited for, with
        the bot): who's off for a channel or group is right in the first minute, and a request
        needing it meanwhile waits for this read instead of starting its own."""
        submit(_logged(self.refresh))

    def _read(self) -> int:
        try:
            return refresh_directory(self.store, self.client)
        finally:
            self._last_done = self.clock()

    def meet(self, team_id: str, slack_ids: Iterable[str]) -> None:
        """Make sure ``slack_ids`` have person rows (name and email) if Slack's directory has them."""
        wanted = set(slack_ids)
        if not wanted - self._known(team_id):
            return
        asked = self.clock()
        with self._lock:
            done = self._last_done
            if done is not None and (done >= asked or asked - done < self.min_gap):
                return  # read while we waited, or so lately that what's missing isn't there to read
            if not wanted - self._known(team_id):
                return
            try:
                self._read()
            except Exception as exc:  # Slack unreachable: the scope resolves with the people known
                log.warning("directory read before resolving a scope failed: %s", type(exc).__name__)

    def _known(self, team_id: str) -> set[str]:
        return {p.slack_user_id for p in self.store.people(team_id) if p.email}


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
