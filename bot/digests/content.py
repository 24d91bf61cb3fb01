"""What a channel's digest says for one local date, built from the who's-off use case: today and
the coming working days (daily), or the working week (weekly, ``working_week``), of the subscription's scope,
as compact ranges, with kinds as the subscription and the sick-leave rule allow."""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import SICK_LEAVE, Holiday, Portion, SickLeave
from bot.parse import working_week
from bot.usecases.ranges import OffSpan
from bot.usecases.scope import Scope
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
    coming: list[OffSpan] = field(default_factory=list)  # daily: the coming days; weekly: the week
    coming_holidays: list[Holiday] = field(default_factory=list)
    cadence: str = "daily"
    week_end: date | None = None  # weekly: the last day of the week shown
    scope: Scope = field(default_factory=Scope)
    mentions: bool = False
    week_start: date | None = None  # weekly: the first day of the week shown (``working_week``)

    @property
    def empty(self) -> bool:
        """Nobody off and no holiday today (weekly: all week): the day a subscription may skip."""
        if self.cadence == "weekly":
            return not self.coming and not self.coming_holidays
        return not self.today.entries and not self.today.holidays


@dataclass(frozen=True)
class DigestMessage:
    text: str
    blocks: list[dict[str, Any]]


Renderer = Callable[[DigestContent, bool], list[DigestMessage]]


class DigestBuilder:
    """Builds and renders digests; channels due at the same minute share one vendor fetch."""

    def __init__(self, whos_off: WhosOff, render: Renderer, show_kind: bool, sick: SickLeave = SICK_LEAVE) -> None:
        self.whos_off = whos_off
        self.render = render
        self.show_kind = show_kind
        self.sick = sick
        self._cache: dict[tuple[str, date, int, str], tuple[float, WhosOffReport]] = {}
        self._cache_locks: dict[tuple[str, date, int, str], threading.Lock] = {}
        self._cache_lock = threading.Lock()

    def content(
        self,
        sub: DigestSubscription,
        day: date,
        *,
        due_at: datetime | None = None,
        preview: bool = False,
        fresh: bool = False,
    ) -> DigestContent:
        """From one vendor query for the subscription's scope (cached briefly so channels due at
        the same minute share it; ``fresh`` skips the cache), masked as a channel may read it."""
        scope = Scope.from_stored(sub.scope)
        show_kind = self.show_kind if sub.show_kind is None else sub.show_kind
        late = due_at.astimezone(ZoneInfo(sub.tz)) if due_at else None
        if sub.cadence == "weekly":
            start, end = working_week(day)
            week = self._report(sub.team_id, start, end, scope, fresh=fresh).masked(show_kind=show_kind, sick=self.sick)
            return DigestContent(
                sub.channel_id,
                day,
                sub.tz,
                DayReport(day),
                [],
                0,
                list(week.notes),
                late,
                preview,
                sub.skip_empty,
                week.spans,
                week.holidays,
                "weekly",
                end,
                scope,
                sub.mentions,
                start,
            )
        horizon = day + timedelta(days=sub.days_ahead * 2 + 7)  # N working days past weekends and holidays
        report = self._report(sub.team_id, day, horizon, scope, fresh=fresh).masked(show_kind=show_kind, sick=self.sick)
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
        working_days = [d.day for d in upcoming if d.day.weekday() < 5 and d.day not in off_days]
        first, last = (working_days[0], working_days[-1]) if working_days else (day, day)
        coming = [_clip(s, first) for s in report.spans if working_days and s.last >= first and s.first <= last]
        holidays = [h for h in report.holidays if day < h.day <= last]
        return DigestContent(
            sub.channel_id,
            day,
            sub.tz,
            today,
            upcoming,
            sub.days_ahead,
            list(report.notes),
            late,
            preview,
            sub.skip_empty,
            sorted(coming, key=lambda s: (s.first, s.name.lower())),
            holidays,
            "daily",
            None,
            scope,
            sub.mentions,
        )

    def _report(self, team_id: str, start: date, end: date, scope: Scope, *, fresh: bool = False) -> WhosOffReport:
        key = (team_id, start, (end - start).days, scope.stored())
        with self._cache_lock:
            lock = self._cache_locks.setdefault(key, threading.Lock())
        with lock:  # one fetch per key at a time: the others wait and reuse it
            cached = self._cache.get(key)
            if cached and not fresh and _time.monotonic() - cached[0] < CONTENT_TTL_SECONDS:
                return cached[1]
            report = self.whos_off.whos_off(team_id, start, end, scope, fresh=fresh)
            with self._cache_lock:
                self._cache = {k: v for k, v in self._cache.items() if _time.monotonic() - v[0] < CONTENT_TTL_SECONDS}
                self._cache_locks = {k: v for k, v in self._cache_locks.items() if k in self._cache or k == key}
                self._cache[key] = (_time.monotonic(), report)
            return report

    def messages(self, sub: DigestSubscription, day: date, *, due_at: datetime | None = None) -> list[DigestMessage]:
        """What to post; nothing on an empty day when the channel skips empty days."""
        content = self.content(sub, day, due_at=due_at)
        if content.empty and sub.skip_empty:
            return []
        return self.render(content, self.show_kind if sub.show_kind is None else sub.show_kind)


def _clip(span: OffSpan, start: date) -> OffSpan:
    """The part of ``span`` from ``start`` on (today's part is in today's list), whole days at the cut."""
    if span.first >= start:
        return span
    return replace(span, first=start, first_portion=Portion.FULL)
