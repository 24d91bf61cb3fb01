"""The work pool: jobs start through a few lanes, each held until the job's first vendor call."""

from __future__ import annotations

import threading
import time

from bot.runtime.work import WorkPool
from bot.telemetry import progress


class PreCall:
    """Counts the jobs between their start and their first vendor call."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = self.started = 0
        self.go = threading.Event()

    def job(self, calls_vendor: bool = True) -> None:
        with self.lock:
            self.now += 1
            self.started += 1
            self.most = max(self.most, self.now)
        self.go.wait(5)
        time.sleep(0.01)
        with self.lock:
            self.now -= 1
        if calls_vendor:
            progress.vendor_call("TimeClock")
            time.sleep(0.2)  # on the wire: the lane is free again


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def test_at_most_the_lanes_count_of_jobs_run_before_their_first_vendor_call() -> None:
    pool = WorkPool(workers=8, ack_first=0, start_lanes=2)
    seen = PreCall()
    try:
        futures = [pool.submit(seen.job) for _ in range(6)]
        wait_until(lambda: seen.started >= 2)
        time.sleep(0.1)
        assert seen.started == 2  # the other four wait for a lane, not for a worker
        seen.go.set()
        for f in futures:
            f.result(5)
    finally:
        pool.shutdown()
    assert seen.started == 6 and seen.most == 2


def test_a_job_that_never_calls_a_vendor_gives_its_lane_back_when_it_ends() -> None:
    pool = WorkPool(workers=4, ack_first=0, start_lanes=1)
    seen = PreCall()
    seen.go.set()
    try:
        futures = [pool.submit(lambda: seen.job(calls_vendor=False)) for _ in range(3)]
        for f in futures:
            f.result(5)
    finally:
        pool.shutdown()
    assert seen.started == 3 and seen.most == 1


def test_a_job_behind_a_burst_of_acks_and_a_queue_of_jobs_is_queued() -> None:
    pool = WorkPool(workers=100, ack_first=5)
    hold = threading.Event()
    try:
        with pool.acks.acking():  # a burst of acks is going on: jobs wait for it to end
            for _ in range(WorkPool.QUEUE_AT - 1):
                pool.submit(lambda: hold.wait(5))
            assert not pool.queued()  # a few jobs behind a few acks start within moments
            pool.submit(lambda: hold.wait(5))
            assert pool.queued()
    finally:
        hold.set()
        pool.shutdown()


def test_a_job_is_queued_when_every_worker_is_taken() -> None:
    pool = WorkPool(workers=2, ack_first=0)
    hold = threading.Event()
    try:
        assert not pool.queued()
        pool.submit(lambda: hold.wait(5))
        assert not pool.queued()
        pool.submit(lambda: hold.wait(5))
        assert pool.queued()
        hold.set()
        wait_until(lambda: pool.pending == 0)
        assert not pool.queued()
    finally:
        hold.set()
        pool.shutdown()


def test_prestarting_starts_every_worker_before_any_job() -> None:
    pool = WorkPool(workers=12, ack_first=0)
    try:
        before = threading.active_count()
        pool.prestart()
        assert threading.active_count() - before == 12
        pool.submit(lambda: None).result(5)
        assert threading.active_count() - before == 12  # the job ran on one of them
    finally:
        pool.shutdown()
