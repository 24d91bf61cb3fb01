"""What a background job is waiting on, so a slow notice names the right culprit.

The job's thread carries a ``Progress``; ``bot.vendors.http`` marks it when a vendor call
starts. Until then a slow job is slow on our side (queued, the database, Slack), and telling
the person "TimeClock is slow" would blame a vendor that was never called.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from bot.telemetry import logs

P = ParamSpec("P")
R = TypeVar("R")

_local = threading.local()


@dataclass
class Progress:
    started: bool = False  # the job left the queue
    vendor: str | None = None  # label of the first vendor called, once a call has started


@contextmanager
def tracking(progress: Progress) -> Iterator[Progress]:
    """Attribute what this thread does, until the block ends, to ``progress``."""
    previous = getattr(_local, "progress", None)
    _local.progress = progress
    progress.started = True
    try:
        yield progress
    finally:
        _local.progress = previous


def vendor_call(label: str) -> None:
    """A vendor request is about to be sent from this thread."""
    progress = getattr(_local, "progress", None)
    if progress is not None and progress.vendor is None:
        progress.vendor = label
    release: _Once | None = getattr(_local, "on_first_call", None)
    if release is not None:
        release()


class _Once:
    """``fn`` called at most once, from whichever thread gets there first."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._fn: Callable[[], None] | None = fn
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            fn, self._fn = self._fn, None
        if fn is not None:
            fn()


@contextmanager
def until_first_call(release: Callable[[], None]) -> Iterator[None]:
    """Call ``release`` once, when the job's first vendor request is sent (from this thread or
    one it ``carried`` work to) or when the block ends, whichever comes first (bot.runtime.work's start
    lanes: the CPU before a job's first call)."""
    previous = getattr(_local, "on_first_call", None)
    once = _local.on_first_call = _Once(release)
    try:
        yield
    finally:
        _local.on_first_call = previous
        once()


def carried(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` for another thread (a vendor's fan-out pool), still counted as this thread's job."""
    progress = getattr(_local, "progress", None)
    on_first_call = getattr(_local, "on_first_call", None)
    fn = logs.carried(fn)

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        previous = getattr(_local, "progress", None), getattr(_local, "on_first_call", None)
        _local.progress, _local.on_first_call = progress, on_first_call
        try:
            return fn(*args, **kwargs)
        finally:
            _local.progress, _local.on_first_call = previous

    return run
