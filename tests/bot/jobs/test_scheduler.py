"""The process's one scheduler: one log line and one counted failure per failed run, the job kept
for its next run, and the jobs a feature declares run on it (the real APScheduler underneath)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from bot.jobs import housekeeping
from bot.jobs.scheduler import AtStart, Every, Job, Scheduler
from bot.telemetry import metrics
from storage.db import make_engine, upgrade
from storage.models import utcnow
from storage.store import Store

ROOT = Path(__file__).resolve().parents[3]
WAIT = 15  # seconds a run may take to come on a loaded machine; no test waits this long when it passes


@pytest.fixture
def scheduler() -> Iterator[Scheduler]:
    scheduler = Scheduler()
    yield scheduler
    scheduler.shutdown()


def sample(metric: str, job: str) -> float:
    return metrics.registry.get_sample_value(metric, {"scheduled_job": job}) or 0.0


def test_a_failing_run_logs_one_line_with_the_job_and_the_error_type_and_the_next_run_still_happens(
    scheduler: Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    runs: list[int] = []
    second = threading.Event()

    def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("vendor said no to token xoxb-not-for-logs")
        second.set()

    caplog.set_level(logging.INFO)
    scheduler.add(Job("test:flaky", Every(0.05, first=0), flaky))
    scheduler.start()
    assert second.wait(WAIT)
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING and "test:flaky" in r.getMessage()]
    assert [r.getMessage() for r in failures] == ["scheduled job test:flaky failed: RuntimeError"]
    assert "xoxb-not-for-logs" not in caplog.text
    assert not any(r.exc_info for r in caplog.records)  # one line: no traceback that could quote the message


def test_a_failing_run_counts_a_failure_and_a_good_run_a_success(scheduler: Scheduler) -> None:
    metrics.enable()
    runs: list[int] = []
    second = threading.Event()

    def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise ValueError("no")
        second.set()

    before = sample("timebot_scheduled_job_failures_total", "test:counted")
    scheduler.add(Job("test:counted", Every(0.05, first=0), flaky))
    scheduler.start()
    assert second.wait(WAIT)
    scheduler.shutdown()  # the run's listener has counted it once the scheduler stopped
    assert sample("timebot_scheduled_job_failures_total", "test:counted") == before + 1
    assert sample("timebot_scheduled_job_runs_total", "test:counted") >= 2
    assert sample("timebot_scheduled_job_last_success_timestamp_seconds", "test:counted") > 0


def test_a_job_at_start_runs_once_and_an_interval_job_waits_an_interval_unless_told(scheduler: Scheduler) -> None:
    ran: dict[str, int] = {"at-start": 0, "hourly": 0}
    done = threading.Event()

    def once() -> None:
        ran["at-start"] += 1
        done.set()

    scheduler.add(Job("test:at-start", AtStart(), once))
    scheduler.add(Job("test:hourly", Every(3600), lambda: ran.__setitem__("hourly", ran["hourly"] + 1)))
    scheduler.start()
    assert done.wait(WAIT)
    gone = time.monotonic() + WAIT  # a one-shot job is dropped right after it is handed to a thread
    while scheduler.next_run("test:at-start") is not None and time.monotonic() < gone:
        time.sleep(0.01)
    scheduler.shutdown()
    assert ran == {"at-start": 1, "hourly": 0}


def test_a_job_added_after_start_runs_and_a_removed_one_has_no_next_run(scheduler: Scheduler) -> None:
    scheduler.start()
    ran = threading.Event()
    scheduler.add(Job("test:late", Every(3600, first=0), ran.set))
    assert ran.wait(WAIT)
    assert scheduler.next_run("test:late") is not None
    scheduler.remove("test:late")
    assert scheduler.next_run("test:late") is None


def test_shutdown_cuts_a_long_run_short_through_its_stop(scheduler: Scheduler) -> None:
    started, stopped = threading.Event(), threading.Event()

    def long_sweep() -> None:
        started.set()
        stopped.wait(WAIT)

    scheduler.add(Job("test:sweep", Every(3600, first=0), long_sweep, stop=stopped.set))
    scheduler.start()
    assert started.wait(WAIT)
    scheduler.shutdown()  # waits for the run, which ends only because its stop was called
    assert stopped.is_set()


def test_a_job_that_runs_every_few_seconds_leaves_no_per_run_lines_in_the_log(
    scheduler: Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    runs: list[int] = []
    third = threading.Event()

    def frequent() -> None:
        runs.append(1)
        if len(runs) >= 3:
            third.set()

    hourly = threading.Event()
    scheduler.add(Job("test:frequent", Every(0.05, first=0), frequent))
    scheduler.add(Job("test:hourly-logged", Every(3600, first=0), hourly.set))
    scheduler.start()
    assert third.wait(WAIT) and hourly.wait(WAIT)
    scheduler.shutdown()
    executor_lines = [r.getMessage() for r in caplog.records if r.name == "apscheduler.executors.default"]
    assert not [line for line in executor_lines if "test:frequent" in line]
    assert [line for line in executor_lines if "test:hourly-logged" in line]  # the filter is not a blanket


def test_the_housekeeping_jobs_a_feature_declares_run_on_the_scheduler(tmp_path: Path, scheduler: Scheduler) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'timebot.db'}")
    upgrade(engine)
    store = Store(engine)
    try:
        with time_machine.travel(utcnow() - housekeeping.KEEP_REQUEST_KEYS - timedelta(hours=1)):
            assert store.claim_request("old-delivery")  # no retry of it can come any more
        assert store.claim_request("new-delivery")
        refreshed = threading.Event()
        jobs = housekeeping.jobs(store, refreshed.set)
        assert [job.name for job in jobs] == ["housekeeping:request-keys", "housekeeping:directory"]
        forgotten = threading.Event()
        for job in jobs:
            scheduler.add(job)
        scheduler.add(
            Job("test:watch", Every(0.05, first=0), lambda: store.request_seen("old-delivery") or forgotten.set())
        )
        scheduler.start()
        assert forgotten.wait(WAIT)  # the request-keys job ran at start
        assert store.request_seen("new-delivery")
        assert not refreshed.is_set()  # the directory is read hourly (at start by `timebot run` itself)
    finally:
        scheduler.shutdown()
        engine.dispose()


def test_shipped_code_constructs_exactly_one_apscheduler() -> None:
    constructions = [
        f"{path.relative_to(ROOT)}:{n}"
        for top in ("bot", "handlers", "storage")
        for path in sorted((ROOT / top).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\bBackgroundScheduler\(", line)
    ]
    assert len(constructions) == 1 and constructions[0].startswith("bot/jobs/scheduler.py:"), constructions
