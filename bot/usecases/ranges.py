"""Working days and compact ranges: one line per person per continuous absence.

A person is off only on working days (not Saturday or Sunday, not a public holiday): the same
rule as the working days a leave request costs (``bot.usecases.leave.working_days``). An absence
that spans a weekend stays one range ("Fri 4 to Mon 7 Dec"); two requests with no working day
between them join into one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain import Absence, Portion


def is_working_day(day: date, holidays: set[date] | frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


@dataclass(frozen=True)
class OffSpan:
    """A continuous absence within the window asked about, on working days only."""

    slack_user_id: str | None
    name: str
    kind: str | None
    status: str
    first: date
    last: date
    first_portion: Portion = Portion.FULL  # PM: starts in the afternoon (or the one half day)
    last_portion: Portion = Portion.FULL  # AM: ends at midday


def _next_working(day: date, holidays: set[date]) -> date:
    day += timedelta(days=1)
    while not is_working_day(day, holidays):
        day += timedelta(days=1)
    return day


def compact_spans(
    named: Iterable[tuple[Absence, str | None, str]], start: date, end: date, holidays: set[date]
) -> list[OffSpan]:
    """(absence, slack id, name) → ranges over the working days of [start, end], merged per person
    and kind while no working day in between is missed; sorted by first day, then name."""
    days: dict[tuple[str, str | None, str | None, str], dict[date, Portion]] = {}
    for absence, slack_id, name in named:
        key = (name, slack_id, absence.kind, absence.status)
        covered = days.setdefault(key, {})
        day = max(start, absence.start)
        while day <= min(end, absence.end):
            portion = absence.portion_on(day)
            if portion is not None and is_working_day(day, holidays):
                covered[day] = Portion.FULL if covered.get(day, portion) != portion else portion
            day += timedelta(days=1)
    spans: list[OffSpan] = []
    for (name, slack_id, kind, status), covered in days.items():
        run: list[date] = []
        for day in sorted(covered):
            joins = (
                run
                and _next_working(run[-1], holidays) == day
                and covered[run[-1]] in (Portion.FULL, Portion.PM)
                and covered[day] in (Portion.FULL, Portion.AM)
                and (len(run) == 1 or covered[run[-1]] is Portion.FULL)
            )
            if run and not joins:
                spans.append(_span(name, slack_id, kind, status, run, covered))
                run = []
            run.append(day)
        if run:
            spans.append(_span(name, slack_id, kind, status, run, covered))
    return sorted(spans, key=lambda s: (s.first, s.name.lower()))


def _span(
    name: str, slack_id: str | None, kind: str | None, status: str, run: list[date], covered: dict[date, Portion]
) -> OffSpan:
    first, last = run[0], run[-1]
    if first == last:
        return OffSpan(slack_id, name, kind, status, first, last, covered[first], covered[first])
    return OffSpan(slack_id, name, kind, status, first, last, covered[first], covered[last])
