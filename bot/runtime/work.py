"""The bounded pool that runs vendor work after Slack has its ack.

Bolt's listener threads only ack and enqueue, so a burst larger than the pool queues here
instead of starving acks. Acks come first: Slack's 3 s is a hard deadline and vendor work has
none, and in one Python process every thread shares the interpreter, so a job waits (up to
``ack_first`` seconds) while Slack requests are being acknowledged before it starts. A watchdog
tells the person when their job is slow (queued or a vendor dragging), so everyone hears
something within seconds whatever the vendor does.
"""

from __future__ import annotations

import contextvars
import functools
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from bot.telemetry import metrics, progress

log = logging.getLogger(__name__)


class _Job:
    __slots__ = ("done", "on_slow")

    def __init__(self, on_slow: Callable[[], None] | None) -> None:
        self.done = False
        self.on_slow = on_slow


class AckFirst:
    """Tracks the Slack requests being acknowledged; jobs wait for a quiet moment to start.

    Quiet means no ack in progress and none begun or ended for ``gap`` seconds: in a burst the
    count of acks in progress touches zero between requests, and a bare count lets every
    waiting job through at the first such instant. One gate thread decides when it is quiet and
    opens an event; waiting jobs sleep on that event and wake once, so hundreds of queued jobs
    cost nothing during a burst (each used to poll, waking every 10-50 ms)."""

    def __init__(self, max_wait: float, gap: float = 0.05, late_rate: float = 25.0) -> None:
        self.max_wait = max_wait
        self.gap = gap
        self.late_rate = late_rate
        self._next_late = 0.0
        self._acking = 0
        self._last = 0.0
        self._closed = False
        self._cond = threading.Condition()
        self._quiet = threading.Event()
        self._quiet.set()
        self._gate = threading.Thread(target=self._watch_acks, name="timebot-ack-gate", daemon=True)
        self._gate.start()

    @contextmanager
    def acking(self) -> Iterator[None]:
        with self._cond:
            self._acking += 1
            self._last = time.monotonic()
            self._quiet.clear()
        try:
            yield
        finally:
            with self._cond:
                self._acking -= 1
                self._last = time.monotonic()
                if not self._acking:
                    self._cond.notify()

    def wait_quiet(self, deadline: float) -> None:
        """Block until acks have been quiet for ``gap`` seconds or ``deadline`` (monotonic) passes.

        Past the deadline with acks still coming, jobs start a few at a time (``late_rate`` a
        second): hundreds of jobs whose deadlines fell together would otherwise take the
        interpreter from the very acks they were waiting for (bench/ack.py, 1,024 workers)."""
        if self._quiet.wait(max(0.0, deadline - time.monotonic())):
            return
        with self._cond:
            now = time.monotonic()
            turn = max(now, self._next_late)
            self._next_late = turn + 1 / self.late_rate
        self._quiet.wait(turn - now)

    def _watch_acks(self) -> None:
        with self._cond:
            while not self._closed:
                if self._acking:
                    self._cond.wait()  # the last ack to end wakes us
                    continue
                quiet_for = time.monotonic() - self._last
                if quiet_for >= self.gap:
                    self._quiet.set()
                    self._next_late = 0.0  # quiet let every late job go: their turns are void
                    self._cond.wait()
                else:
                    self._cond.wait(self.gap - quiet_for)

    def quiet(self) -> bool:
        return self._quiet.is_set()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._quiet.set()


class WorkPool:
    """Jobs run on ``workers`` threads; at most ``start_lanes`` of them at a time are between
    their start and their first vendor call.

    Why lanes: when a burst's acks end, hundreds of jobs start at once and share one interpreter
    round robin, so each reaches its first vendor request only after all of them have done most
    of their own work (reading the person, claiming the request): the first vendor call of the
    9:00 rush went out 1.5-2.5 s after the last ack (bench/ack.py). Through a few lanes they
    start in order, the first within milliseconds, at the same total rate."""

    QUEUE_AT = 20  # jobs waiting behind a burst of acks before a new one counts as queued

    def __init__(self, workers: int, slow_after: float = 2.5, ack_first: float = 2.0, start_lanes: int = 32) -> None:
        self.workers = workers
        self._lanes = threading.Semaphore(start_lanes)
        self.slow_after = slow_after
        self.acks = AckFirst(ack_first)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="timebot-work")
        self._notify = ThreadPoolExecutor(max_workers=4, thread_name_prefix="timebot-notice")
        self._heap: list[tuple[float, int, _Job]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._watchdog = threading.Thread(target=self._watch, name="timebot-watchdog", daemon=True)
        self._watchdog.start()
        self.pending = 0
        metrics.watch_pool(self)

    def submit(self, fn: Callable[[], object], on_slow: Callable[[], None] | None = None) -> Future[None]:
        """Run ``fn`` on the pool; call ``on_slow`` once if it has not finished in ``slow_after``."""
        if on_slow is not None:  # the notice is logged under the job's action id too (bot.telemetry.logs)
            on_slow = functools.partial(contextvars.copy_context().run, on_slow)
        job = _Job(on_slow)
        if on_slow is not None:
            with self._cond:
                heapq.heappush(self._heap, (time.monotonic() + self.slow_after, next(self._seq), job))
                self._cond.notify()
        with self._cond:
            self.pending += 1
        start_by = time.monotonic() + self.acks.max_wait

        def run() -> None:
            try:
                self.acks.wait_quiet(start_by)
                self._lanes.acquire()
                with progress.until_first_call(self._lanes.release):
                    fn()
            except Exception:  # the job reports to the person itself; this is the last net
                log.exception("background job failed")
            finally:
                with self._cond:
                    job.done = True
                    self.pending -= 1
                    if not self.pending:
                        self._cond.notify_all()  # wait_idle

        return self._pool.submit(contextvars.copy_context().run, run)  # the action id goes along

    def wait_idle(self, timeout: float) -> bool:
        """Block until no person's job is pending, at most ``timeout`` s; True when idle.
        Background sweeps call it between rounds: they have no deadline, people do."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.pending and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def prestart(self) -> None:
        """Start every worker thread now. Started on demand, they would be started from Bolt's
        listener threads during the first burst: each start waits for the new thread to get the
        interpreter, and the acks wait with it (``timebot run`` calls this; short-lived bots in
        tests don't need 640 threads)."""
        ready = threading.Barrier(self.workers + 1)
        for _ in range(self.workers):
            self._pool.submit(ready.wait)  # each blocks, so every submit starts a new thread
        ready.wait()

    def queued(self) -> bool:
        """Whether a job submitted now will wait: every worker is taken, or a burst of acks is
        holding back a queue of jobs already (acks first)."""
        pending = self.pending
        return pending >= self.workers or (pending >= self.QUEUE_AT and not self.acks.quiet())

    def _watch(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._closed:
                    return
                _, _, job = heapq.heappop(self._heap)
                if job.done or job.on_slow is None:
                    continue
                callback = job.on_slow
            self._notify.submit(self._safe, callback)

    @staticmethod
    def _safe(callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:
            log.exception("slow-job notice failed")

    def shutdown(self, wait: bool = True) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.acks.close()
        self._pool.shutdown(wait=wait)
        self._notify.shutdown(wait=wait)
