"""Public holidays kept in memory for a while. They change a few times a year, and the leave
form's submission must know them before Slack's ack, when no vendor may be called: the cache is
read there and filled after an ack (when a leave form is opened)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.vendors.registry import Router

log = logging.getLogger(__name__)

YEAR_AHEAD = timedelta(days=366)


@dataclass(frozen=True)
class _Read:
    first: date
    last: date
    days: frozenset[date]
    at: datetime


class HolidayCache:
    """The routed vendor's holidays over a window, read at most once per ``ttl``. A failed read
    keeps nothing: an empty cache would pass a day of holidays as working days."""

    def __init__(self, router: Router, now: Callable[[], datetime], ttl: timedelta = timedelta(hours=12)) -> None:
        self.router = router
        self.now = now
        self.ttl = ttl
        self._read: _Read | None = None
        self._reading = threading.Lock()  # one read at a time: a 9:00 burst of opened forms makes one call

    def known(self, start: date, end: date) -> set[date] | None:
        """The holidays in [start, end], or None when no fresh read covers those days. Never calls a vendor."""
        if self.router.holidays() is None:
            return set()  # no vendor keeps holidays: weekends are all there is
        read = self._read
        if read is None or self.now() - read.at > self.ttl or start < read.first or end > read.last:
            return None
        return {d for d in read.days if start <= d <= end}

    def warm(self, first: date, last: date) -> None:
        """Read [first, last] unless a fresh read covers it already. Runs after an ack; never
        raises (the caller's work is done by then)."""
        vendor = self.router.holidays()
        if vendor is None or self.known(first, last) is not None:
            return
        if not self._reading.acquire(blocking=False):
            return  # someone else is reading them now
        try:
            days = frozenset(h.day for h in vendor.holidays(first, last))
            self._read = _Read(first, last, days, self.now())
        except Exception as exc:  # a vendor down or slow: the after-ack check still has the last word
            log.warning("public holidays not cached: %s", exc)
        finally:
            self._reading.release()
