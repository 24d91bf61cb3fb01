"""How an admin writes a digest subscription: days, zone, options, read into a ``DigestSpec``.

Kept apart from the scheduler and the posting so that the one parser every
``/timebot digest add`` goes through can be read, and property-tested, on its own."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.parse import InputError, parse_clock_time, quote
from bot.usecases.scope import Scope, parse_scope

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_DAYS = "mon-fri"
DEFAULT_DAYS_AHEAD = 3
MAX_DAYS_AHEAD = 10

_DAY_NAMES = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    **{d: i for i, d in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    "tues": 1,
    "wednes": 2,
    "thur": 3,
    "thurs": 3,
}
_DAY_WORDS = {
    "daily": frozenset(range(7)),
    "everyday": frozenset(range(7)),
    "every-day": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "workdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
_RANGE = re.compile(r"^([a-z]+)\s*(?:-|–|\.\.)\s*([a-z]+)$")
EMPTY_WORDS = {"skip-empty": True, "quiet": True, "show-empty": False, "always": False}
_AHEAD = re.compile(r"^(?:ahead|next)=(\d{1,2})$")

_KIND = re.compile(r"^kind=(hide|show)$")
DIGEST_SYNTAX = (
    "`/timebot digest add #channel [mon] 09:00 [Time/Zone] [mon-fri] [weekly] "
    "[members | @group | dept=NAME] [kind=hide] [mentions] [skip-empty] [ahead=3]`, "
    "`/timebot digest list`, `/timebot digest remove #channel`, `/timebot digest preview [#channel]`"
)


# --- parsing (pure; raises InputError with words for the admin) -------------------------------


def parse_days(text: str) -> str:
    """``mon-fri``, ``mon,wed,fri``, ``weekdays``, ``daily``, ``fri-mon`` → canonical CronTrigger
    ``day_of_week`` (names only: crontab numbers mean different days to APScheduler)."""
    raw = text.strip().lower()
    if not raw:
        raise InputError("Say which days, like mon-fri.")
    if any(ch.isdigit() for ch in raw):
        raise InputError(
            f"Use day names like mon-fri, not numbers ({quote(text)}): numbers mean different days to different tools."
        )
    days: set[int] = set()
    for part in (p.strip() for p in raw.split(",")):
        if part in _DAY_WORDS:
            days |= _DAY_WORDS[part]
            continue
        m = _RANGE.match(part)
        if m:
            first, last = _day(m.group(1), text), _day(m.group(2), text)
            i = first
            while True:  # wraps round the week: fri-mon is fri, sat, sun, mon
                days.add(i)
                if i == last:
                    break
                i = (i + 1) % 7
            continue
        days.add(_day(part, text))
    return canonical_days(days)


def _day(word: str, text: str) -> int:
    if word not in _DAY_NAMES:
        raise InputError(f"I don't know the day {quote(word)} in {quote(text)}. Use names like mon-fri or mon,wed,fri.")
    return _DAY_NAMES[word]


def canonical_days(days: set[int] | frozenset[int]) -> str:
    """Compact, sorted, never wrapping round Sunday (CronTrigger ranges can't): ``mon,fri-sun``."""
    ordered = sorted(days)
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{WEEKDAYS[ordered[i]]}-{WEEKDAYS[ordered[j]]}")
        else:
            parts.extend(WEEKDAYS[k] for k in ordered[i : j + 1])
        i = j + 1
    return ",".join(parts)


def day_set(canonical: str) -> frozenset[int]:
    return frozenset(parse_days_cached(canonical))


@lru_cache(maxsize=256)
def parse_days_cached(canonical: str) -> tuple[int, ...]:
    found: set[int] = set()
    for part in canonical.split(","):
        if "-" in part:
            a, b = part.split("-")
            found.update(range(WEEKDAYS.index(a), WEEKDAYS.index(b) + 1))
        elif part:
            found.add(WEEKDAYS.index(part))
    return tuple(sorted(found))


def describe_days(canonical: str) -> str:
    days = day_set(canonical)
    if days == frozenset(range(7)):
        return "every day"
    return ", ".join(p.replace("-", "–").title() for p in canonical.split(","))


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones()}


def parse_zone(text: str) -> str | None:
    """An IANA zone name, case-insensitively (``america/new_york`` → ``America/New_York``)."""
    name = _zones().get(text.strip().lower())
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@dataclass(frozen=True)
class DigestSpec:
    """What an admin typed after the channel: time, and optionally zone, days and options."""

    hour: int
    minute: int
    tz: str | None = None
    days: str = DEFAULT_DAYS
    skip_empty: bool = False
    days_ahead: int = DEFAULT_DAYS_AHEAD
    scope: Scope = field(default_factory=Scope)
    cadence: str = "daily"
    show_kind: bool | None = None
    mentions: bool = False


def _time_index(args: Sequence[str]) -> int:
    """Where the time is: first, or after the day of a weekly digest (``mon 09:00 weekly``)."""
    for i, token in enumerate(args[:2]):
        if token[:1].isdigit():
            return i
    return 0


def parse_spec(args: Sequence[str], channel: str | None = None) -> DigestSpec:
    if not args:
        raise InputError(f"When should it post? For example: {DIGEST_SYNTAX.split(', ')[0]}")
    at_index = _time_index(args)
    at = parse_clock_time(args[at_index])
    tz: str | None = None
    days = DEFAULT_DAYS
    named_days = False
    skip_empty = False
    ahead = DEFAULT_DAYS_AHEAD
    scope, cadence, show_kind, mentions = Scope(), "daily", None, False
    for token in [*args[:at_index], *args[at_index + 1 :]]:
        low = token.strip().lower()
        found = parse_scope(token, channel)
        if found is not None:
            scope = found
        elif low == "weekly":
            cadence = "weekly"
        elif low in {"mentions", "mention"}:
            mentions = True
        elif m := _KIND.match(low):
            show_kind = m.group(1) == "show"
        elif low in EMPTY_WORDS:
            skip_empty = EMPTY_WORDS[low]
        elif m := _AHEAD.match(low):
            ahead = int(m.group(1))
            if ahead > MAX_DAYS_AHEAD:
                raise InputError(f"I can look ahead {MAX_DAYS_AHEAD} working days at most.")
        elif "/" in token or low in {"utc", "gmt"}:
            tz = parse_zone(token)
            if tz is None:
                raise InputError(f"I don't know the time zone {quote(token)}. Use a name like America/New_York.")
        else:
            try:
                days = parse_days(token)
                named_days = True
            except InputError as exc:
                zone = parse_zone(token)
                if zone is None:
                    raise InputError(f"{exc} Usage: {DIGEST_SYNTAX.split(', ')[0]}") from None
                tz = zone
    if cadence == "weekly":
        if not named_days:
            days = "mon"
        elif len(day_set(days)) != 1:
            raise InputError("A weekly digest posts on one day: name it, like `mon 09:00 weekly`.")
    return DigestSpec(at.hour, at.minute, tz, days, skip_empty, ahead, scope, cadence, show_kind, mentions)
