"""How days, ranges, times and amounts read, everywhere the bot writes to a person: one style each,
so a reply, a DM, the App Home and a digest say the same day the same way.

- a day: ``Fri 4 Dec``
- a range, its ends joined by an en dash (``DASH``): ``Tue 8 DASH Thu 10 Dec``, ``Mon 30 Nov DASH Fri 4 Dec``,
  ``Thu 31 Dec 2026 DASH Fri 1 Jan 2027`` (the year only where a range crosses one); half days:
  ``afternoon of Tue 8 Dec``
- a time: ``09:02 GMT``, with its day when it isn't today: ``Thu 3 Dec 09:02 GMT``
- amounts: ``80 h``, ``1.5 working days``, ``8h 30m``
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import Portion

DASH = " – "  # an en dash between the ends of a range


def day(value: date) -> str:
    """``Fri 4 Dec``."""
    return f"{value:%a} {value.day} {value:%b}"


def day_range(start: date, end: date) -> str:
    """One day, or ``Tue 8 DASH Thu 10 Dec``: the month once when both ends share it, the years only
    when the range crosses into another."""
    if start == end:
        return day(start)
    if start.year != end.year:
        return f"{day(start)} {start.year}{DASH}{day(end)} {end.year}"
    first = f"{start:%a} {start.day}" if start.month == end.month else day(start)
    return f"{first}{DASH}{day(end)}"


def half(value: date, portion: Portion) -> str:
    """``afternoon of Tue 8 Dec``, ``morning of …``; a full day is just the day."""
    if portion is Portion.FULL:
        return day(value)
    return f"{'morning' if portion is Portion.AM else 'afternoon'} of {day(value)}"


def half_days(
    start: date, end: date, start_portion: Portion = Portion.FULL, end_portion: Portion = Portion.FULL
) -> str:
    """The half days of a leave, ``afternoon of Tue 8 Dec, morning of Thu 10 Dec``; "" for none."""
    parts = []
    if start_portion is not Portion.FULL:
        parts.append(half(start, start_portion))
    if end_portion is not Portion.FULL and (end != start or start_portion is Portion.FULL):
        parts.append(half(end, end_portion))
    return ", ".join(parts)


def leave_range(
    start: date, end: date, start_portion: Portion = Portion.FULL, end_portion: Portion = Portion.FULL
) -> str:
    """A leave's days with its half days: ``Tue 8 DASH Thu 10 Dec (afternoon of Tue 8 Dec only)``."""
    halves = half_days(start, end, start_portion, end_portion)
    return day_range(start, end) + (f" ({halves} only)" if halves else "")


def clock(moment: datetime, tz: ZoneInfo, *, with_day: bool = False, today: date | None = None) -> str:
    """``09:02 GMT``; ``with_day``: ``Thu 3 Dec 09:02 GMT`` unless it is ``today``."""
    local = moment.astimezone(tz)
    text = f"{local:%H:%M %Z}"
    if with_day and (today is None or local.date() != today):
        return f"{day(local.date())} {text}"
    return text


def wall_time(moment: datetime | object) -> str:
    """``17:30``: a time of day without its zone (form fields, reminders)."""
    return f"{moment:%H:%M}"


def number(value: float) -> str:
    """``80``, ``7.5``: no trailing ``.0``."""
    return f"{value:g}" if abs(value) < 1e15 else str(value)


def working_days(value: float) -> str:
    """``1 working day``, ``1.5 working days``."""
    return f"{number(value)} working day" + ("" if value == 1 else "s")


def hours_minutes(span: timedelta) -> str:
    """``8h 30m``: time worked."""
    minutes = max(0, int(span.total_seconds() // 60))
    return f"{minutes // 60}h {minutes % 60:02d}m"


UNITS = {"hours": "h", "hour": "h", "hrs": "h", "hr": "h", "h": "h", "days": "days", "day": "days", "d": "days"}


def amount(value: str | float, unit: str = "") -> str:
    """A balance as vendors give it, read one way: ``80 h`` (not ``80.0 hours``), ``12.5 days``."""
    try:
        shown = number(float(value))
    except (TypeError, ValueError):
        shown = str(value).strip()
    short = UNITS.get(unit.strip().lower(), unit.strip())
    if short == "days" and shown == "1":
        short = "day"
    return f"{shown} {short}".strip()


def balance(label: str, remaining: str | float, unit: str = "") -> str:
    """``PTO: 80 h left``."""
    return f"{label}: {amount(remaining, unit)} left"
