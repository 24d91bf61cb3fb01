"""Parsing of everything people type: one place, tested with properties, clear errors.

Every function here either returns a clean value or raises ``InputError`` whose message can go
straight back to the person.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta

MAX_WHOSOFF_DAYS = 62
MAX_FREE_TEXT = 300

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_RAW_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_RAW_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

PERIOD_HELP = "today, tomorrow, week, next week, a date like 2026-12-24, or a range like 2026-12-24..2026-12-31"


class InputError(ValueError):
    """Bad input; the message is written for the person who typed it."""


def esc(text: str | None) -> str:
    """Text from people or vendors, made inert for Slack mrkdwn: only &, < and > are control
    characters (they make links, mentions and @channel pings)."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(text: str, limit: int = 40) -> str:
    """Echo user text back safely: shortened, with Slack's control characters escaped."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return "“" + esc(short) + "”"


def _printable(ch: str) -> bool:
    """Control characters and lone surrogates go, as do the bidi overrides that can make text display
    as something else; joiners (👩‍💻), right-to-left marks and other format characters stay."""
    if ch in "\n\t":
        return True
    return unicodedata.category(ch) not in {"Cc", "Cs"} and ch not in _BIDI_CONTROLS


def clean_text(text: str | None, *, what: str, limit: int = MAX_FREE_TEXT) -> str | None:
    """Trim, drop control characters and refuse over-long text rather than cutting it silently."""
    if text is None:
        return None
    cleaned = "".join(ch for ch in text if _printable(ch)).strip()
    cleaned = unicodedata.normalize("NFC", cleaned)
    if len(cleaned) > limit:
        raise InputError(f"That {what} is too long ({len(cleaned):,} characters; the limit is {limit}).")
    return cleaned or None


def parse_date(text: str) -> date:
    m = _ISO.match(text.strip())
    if not m:
        raise InputError(f"I couldn't read {quote(text)} as a date. Use the form 2026-12-24.")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise InputError(f"{quote(text)} isn't a real date.") from None


LAST_WORKING_WEEKDAY = 4  # Friday: the working week is Monday to Friday


def working_week(today: date) -> tuple[date, date]:
    """What "week" means everywhere (``/whosoff week``, ``/timebot hours week``, the weekly
    digest): Monday to Friday of the week that contains ``today``, or of the next one when today
    is past its last working day (the weekend)."""
    monday = today - timedelta(days=today.weekday())
    if today.weekday() > LAST_WORKING_WEEKDAY:
        monday += timedelta(days=7)
    return monday, monday + timedelta(days=LAST_WORKING_WEEKDAY)


def parse_period(text: str | None, today: date) -> tuple[date, date]:
    """``/whosoff`` argument → inclusive date range."""
    raw = " ".join((text or "").split()).lower()
    if raw in {"", "today"}:
        return today, today
    if raw == "tomorrow":
        return today + timedelta(days=1), today + timedelta(days=1)
    if raw in {"week", "this week"}:
        return working_week(today)
    if raw == "next week":
        monday = working_week(today)[0] + timedelta(days=7 if today.weekday() <= LAST_WORKING_WEEKDAY else 0)
        return monday, monday + timedelta(days=LAST_WORKING_WEEKDAY)
    if raw in _WEEKDAYS:
        ahead = (_WEEKDAYS.index(raw) - today.weekday()) % 7
        return today + timedelta(days=ahead), today + timedelta(days=ahead)
    if ".." in raw:
        return parse_date_range(raw, text or "", MAX_WHOSOFF_DAYS, PERIOD_HELP)
    if _ISO.match(raw):
        day = parse_date(raw)
        return day, day
    raise InputError(f"I don't understand {quote(text or '')}. Try {PERIOD_HELP}.")


def parse_date_range(raw: str, text: str, max_days: int, help_: str) -> tuple[date, date]:
    """``2026-12-01..2026-12-07`` → inclusive range of at most ``max_days``; ``help_`` says what works."""
    left, _, right = raw.partition("..")
    try:
        start, end = parse_date(left), parse_date(right)
    except InputError as exc:
        raise InputError(f"{exc} Try {help_}.") from None
    if end < start:
        raise InputError(f"The range {quote(text)} ends before it starts.")
    if (end - start).days + 1 > max_days:
        raise InputError(f"That range is {(end - start).days + 1} days; ask for {max_days} days at most.")
    return start, end


def parse_clock_time(text: str) -> time:
    """``17:30``, ``5pm``, ``5:30 pm`` → a wall-clock time."""
    m = _TIME.match(text.strip())
    if not m:
        raise InputError(f"I couldn't read {quote(text)} as a time. Use the form 17:30.")
    hour, minute, meridian = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
    if meridian:
        if not 1 <= hour <= 12:
            raise InputError(f"{quote(text)} isn't a real time.")
        hour = hour % 12 + (12 if meridian == "pm" else 0)
    if hour > 23 or minute > 59:
        raise InputError(f"{quote(text)} isn't a real time.")
    return time(hour, minute)


def split_args(text: str | None) -> list[str]:
    """Words, honouring quotes; unbalanced quotes fall back to plain splitting."""
    raw = (text or "").strip()
    if not raw:
        return []
    try:
        return shlex.split(raw)
    except ValueError:
        return raw.split()


def parse_user(token: str) -> str:
    """``<@U123|ada>`` or ``U123`` → ``U123``."""
    m = _MENTION.match(token.strip())
    if m:
        return m.group(1)
    if _RAW_ID.match(token.strip()):
        return token.strip()
    raise InputError(f"{quote(token)} isn't a person. Mention them, like @ada.")


def parse_channel(token: str) -> str:
    """``<#C123|general>`` or ``C123`` → ``C123``."""
    m = _CHANNEL.match(token.strip())
    if m:
        return m.group(1)
    if _RAW_CHANNEL.match(token.strip()):
        return token.strip()
    if token.strip().startswith("#"):
        raise InputError(
            f"I can't tell which channel {quote(token)} is: as you type it, pick the channel from "
            "Slack's suggestions so it becomes a link."
        )
    raise InputError(f"{quote(token)} isn't a channel. Mention it, like #team.")


@dataclass(frozen=True)
class LeaveShortcut:
    """The leave form's fields as typed text filled them in (bot/usecases/typed_leave.py reads it): the
    days, which ends are half days, words naming a type, and what was understood, for the form."""

    start: date
    end: date
    half_start: bool = False  # the first day from the afternoon
    half_end: bool = False  # the last day until noon
    kind: str = ""
    said: str = ""  # what was understood of free text, said at the top of the form
