"""What a channel's digest says for one local date, built from the who's-off use case."""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.usecases.whos_off import DayReport, WhosOff, WhosOffReport
from storage.models import DigestSubscription

CONTENT_TTL_SECONDS = 60.0  # channels due at the same minute share one vendor fetch


@dataclass(frozen=True)
class DigestContent:
    """Everything a channel's digest for one local date shows; reasons never get here."""

    channel_id: str
    day: date
    tz: str
    today: DayReport
    upcoming: list[DayReport]
    days_ahead: int
    notes: list[str] = field(default_factory=list)
    due_at: datetime | None = None  # set when the post is late: when it was due
    preview: bool = False
    skip_empty: bool = False

    @property
    def empty(self) -> bool:
        """Nobody off and no holiday today: the day a subscription may skip."""
        return not self.today.entries and not self.today.holidays


@dataclass(frozen=True)
class DigestMessage:
    text: str
    blocks: list[dict[str, Any]]


Renderer = Callable[[DigestContent, bool], list[DigestMessage]]


class DigestBuilder:
    """Builds and renders digests; channels due at the same minute share one vendor fetch."""

    def __init__(self, whos_off: WhosOff, render: Renderer, show_kind: bool) -> None:
        self.whos_off = whos_off
        self.render = render
        self.show_kind = show_kind
        self._cache: dict[tuple[str, date, int], tuple[float, WhosOffReport]] = {}
        self._cache_locks: dict[tuple[str, date, int], threading.Lock] = {}
        self._cache_lock = threading.Lock()

    def content(self, sub: DigestSubscription, day: date, *, due_at: datetime | None = None,
                preview: bool = False, fresh: bool = False) -> DigestContent:
        """Today and the next working days, from one company-wide vendor query (cached briefly so
        channels due at the same minute share it; ``fresh`` skips the cache); names come from the
        identity and person tables, never from Slack."""
        horizon = day + timedelta(days=sub.days_ahead * 2 + 7)  # N working days past weekends and holidays
        report = self._report(sub.team_id, day, horizon, fresh=fresh)
        by_day = {d.day: d for d in report.days}
        off_days = {h.day for d in report.days for h in d.holidays}
        today = by_day.get(day) or DayReport(day)
        upcoming: list[DayReport] = []
        working = 0
        cursor = day + timedelta(days=1)
        while working < sub.days_ahead and cursor <= horizon:
            known = by_day.get(cursor)
            if cursor.weekday() < 5 and cursor not in off_days:
                upcoming.append(known or DayReport(cursor))
                working += 1
            elif known is not None and known.holidays:
                upcoming.append(DayReport(cursor, holidays=known.holidays))
            cursor += timedelta(days=1)
        return DigestContent(sub.channel_id, day, sub.tz, today, upcoming, sub.days_ahead, list(report.notes),
                             due_at.astimezone(ZoneInfo(sub.tz)) if due_at else None, preview, sub.skip_empty)

    def _report(self, team_id: str, start: date, end: date, *, fresh: bool = False) -> WhosOffReport:
        key = (team_id, start, (end - start).days)
        with self._cache_lock:
            lock = self._cache_locks.setdefault(key, threading.Lock())
        with lock:  # one fetch per key at a time: the others wait and reuse it
            cached = self._cache.get(key)
            if cached and not fresh and _time.monotonic() - cached[0] < CONTENT_TTL_SECONDS:
                return cached[1]
            report = self.whos_off.whos_off(team_id, start, end)
            with self._cache_lock:
                self._cache = {k: v for k, v in self._cache.items()
                               if _time.monotonic() - v[0] < CONTENT_TTL_SECONDS}
                self._cache_locks = {k: v for k, v in self._cache_locks.items() if k in self._cache or k == key}
                self._cache[key] = (_time.monotonic(), report)
            return report

    def messages(self, sub: DigestSubscription, day: date, *, due_at: datetime | None = None) -> list[DigestMessage]:
        """What to post; nothing on an empty day when the channel skips empty days."""
        content = self.content(sub, day, due_at=due_at)
        if content.empty and sub.skip_empty:
            return []
        return self.render(content, self.show_kind)
