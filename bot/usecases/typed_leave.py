"""Leave from typed text: ``/timeoff sick today``, ``tomorrow pm``, ``vacation 24 dec to 2 jan``.

The text is read in the person's own time zone (their today, not the server's) into days, half
days and the words that name a leave type. Month names and spelled-out dates go through
``dateparser``; the rest is a small grammar of its own, because the library's relative words
don't mean what a leave request means ("friday" on a Friday is a week out there, "the 3rd" reads
as a month in month-first order). What the words mean here:

- a weekday (``friday``, ``this friday``) is the next such day, today included; ``next friday``
  is the first one after today (on a Friday: a week out);
- ``next week`` is Monday to Friday of the coming week; ``week``/``this week`` as ``/whosoff``;
- a day of the month (``the 3rd``) or a day and month (``24 dec``) without a year is the next such
  day, today included: a date already past this year means next year;
- the end of a range is read from its start: ``friday to monday`` ends on the Monday after that
  Friday, ``24 dec to 2 jan`` crosses into next year, ``dec 24-26`` and ``24-26 dec`` share a month;
- ``12/07`` is day-first or month-first as ``TIMEBOT_DATE_ORDER`` says; when it says ``ask`` and
  both readings are real days, the text is ambiguous;
- ``am``/``morning``/``half-end`` mark the last day as a morning off, ``pm``/``afternoon``/
  ``half-start`` the first day as an afternoon off.

Text is *clear* when its days were read without doubt and it names a kind; whether that kind is
exactly one of the vendor's types is decided after the ack (``pick_type``), with the vendor's list.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import dateparser

from bot import formatting as fmt
from bot.domain import Action, Actor, LeaveRequest, LeaveType, Portion
from bot.errors import UserError
from bot.parse import LAST_WORKING_WEEKDAY, LeaveShortcut, clean_text, esc, quote, working_week
from bot.usecases.leave import Leave, LeaveResult

DateOrder = Literal["dmy", "mdy", "ask"]

_WEEKDAYS = {
    **{name: i for i, name in enumerate(calendar.day_name[d].lower() for d in range(7))},
    **{"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4},
    **{"sat": 5, "sun": 6},
}
_MONTHS = {
    **{calendar.month_name[m].lower(): m for m in range(1, 13)},
    **{calendar.month_abbr[m].lower(): m for m in range(1, 13)},
    "sept": 9,
}
_TODAY = {"today", "tdy"}
_TOMORROW = {"tomorrow", "tmrw", "tmr", "tomorow", "tommorow"}
_HALF_START = {"pm", "afternoon", "half-start", "halfstart"}
_HALF_END = {"am", "morning", "half-end", "halfend"}
_TO = {"to", "until", "till", "til", "through", "thru", "-"}
_FILLER = {"from", "on", "for", "the", "of", "at", "off", "and", "a", "an", "i", "im", "i'm", "be", "will", "out", "me"}
# words of a type's name that say nothing about which type it is: "vacation leave" still means Vacation
_GENERIC = {"leave", "time", "day", "days", "holiday", "absence", "request"}

_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?$")
_DAY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$")
_YEAR = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class TypedLeave:
    """What typed text says. ``start`` None: no days could be read. ``doubts``: why it can't be
    sent as it is (said on the form). ``kind``: the words that name a leave type."""

    text: str
    start: date | None = None
    end: date | None = None
    half_start: bool = False  # the first day from the afternoon
    half_end: bool = False  # the last day until noon
    kind: str = ""
    doubts: tuple[str, ...] = field(default_factory=tuple)

    @property
    def clear(self) -> bool:
        """Days read without doubt and a kind named: send it once the kind picks one type."""
        return self.start is not None and not self.doubts and bool(self.kind)

    @property
    def days(self) -> str:
        """The days as understood, half days included: ``Fri 24 Dec (afternoon only)``."""
        if self.start is None or self.end is None:
            return ""
        return fmt.leave_range(self.start, self.end, *self.portions)

    @property
    def portions(self) -> tuple[Portion, Portion]:
        return (Portion.PM if self.half_start else Portion.FULL, Portion.AM if self.half_end else Portion.FULL)

    def request(self, leave_type: str) -> LeaveRequest:
        assert self.start is not None and self.end is not None
        return LeaveRequest(self.start, self.end, leave_type, *self.portions)

    def shortcut(self, today: date) -> LeaveShortcut:
        """The form's pre-filled fields (days left at today when none were read), and what was
        understood, said at the top of the form."""
        start, end = self.start or today, self.end or self.start or today
        return LeaveShortcut(start, end, self.half_start, self.half_end, self.kind, self.understood())

    def understood(self) -> str:
        """What was read and what is in doubt, for the person (mrkdwn-safe)."""
        kind = f"leave type {quote(self.kind)}" if self.kind else ""
        if self.start is not None:
            said = f"I read {quote(self.text, 60)} as {self.days}" + (f", {kind}." if kind else ".")
        else:
            said = f"I read the {kind}." if kind else ""
        doubts = " ".join(self.doubts) or ("" if self.kind else "Which type of leave is it?")
        return " ".join(s for s in (said, doubts) if s)


class _Unread(ValueError):
    """A part of the text that isn't a day; the message says which part, for the person."""


def read_typed_leave(text: str, now: datetime, tz: ZoneInfo, order: DateOrder = "ask") -> TypedLeave:
    """``text`` as typed after ``/timeoff``, read on the person's today (``now`` in ``tz``)."""
    today = now.astimezone(tz).date()
    cleaned = clean_text(text, what="text", limit=200) or ""
    words = _words(cleaned)
    half_start = any(w in _HALF_START for w in words)
    half_end = any(w in _HALF_END for w in words)
    dated = [w for w in words if _is_date_word(w)]
    kind_words = [w for w in words if not _is_date_word(w) and w not in _HALF_START | _HALF_END | _FILLER]
    kind = clean_text(" ".join(kind_words), what="leave type", limit=60) or ""
    doubts: list[str] = []
    if "half" in kind_words:
        kind = " ".join(w for w in kind_words if w != "half")
        if not half_start and not half_end:
            doubts.append("Which half of the day: the morning or the afternoon?")
    base = TypedLeave(cleaned, half_start=half_start, half_end=half_end, kind=kind)
    if not dated:
        return _with(base, doubts=(*doubts, "Which days?"))
    try:
        start, end, more = _read_days(dated, today, order)
    except _Unread as exc:
        return _with(base, doubts=(*doubts, str(exc)))
    doubts += more
    if half_start and half_end and start == end:
        doubts.append("One day can be a morning or an afternoon, not both: which is it?")
    if end < start:
        doubts.append("The last day comes before the first.")
    if start < today:
        doubts.append("That starts in the past.")
    return TypedLeave(cleaned, start, max(start, end), half_start, half_end, kind, tuple(doubts))


def _with(base: TypedLeave, *, doubts: tuple[str, ...]) -> TypedLeave:
    return TypedLeave(base.text, None, None, base.half_start, base.half_end, base.kind, doubts)


def _words(text: str) -> list[str]:
    """Lower-case words, with range marks (``-``, ``..``, a dash) made words of their own; an
    ISO date and the ``half-start``/``half-end`` words keep their hyphens."""
    found: list[str] = []
    for word in text.lower().replace(",", " ").replace("–", "-").replace("—", "-").replace("..", " - ").split():
        raw = word.strip("!?;:()\"“”'").rstrip(".")  # "sick today!", "(pto)"
        if not raw:
            continue
        if _ISO.match(raw) or raw in _HALF_START | _HALF_END:
            found.append(raw)
            continue
        found.extend(p for p in re.split(r"(-)", raw) if p)
    return found


def _is_date_word(word: str) -> bool:
    return (
        word in _TODAY
        or word in _TOMORROW
        or word in _WEEKDAYS
        or word in _MONTHS
        or word in _TO
        or word in {"next", "this", "week", "yesterday"}
        or bool(_ISO.match(word) or _NUMERIC.match(word) or _DAY.match(word) or _YEAR.match(word))
    )


def _read_days(words: list[str], today: date, order: DateOrder) -> tuple[date, date, list[str]]:
    """The first and last day the date words say, and any doubt about them."""
    cut = next((i for i, w in enumerate(words) if w in _TO), None)
    first, last = (words, []) if cut is None else (words[:cut], words[cut + 1 :])
    if cut is not None and (not first or not last):
        raise _Unread(f"I couldn't tell where {quote(' '.join(words))} starts and ends.")
    doubts: list[str] = []
    if first in (["next", "week"], ["week"], ["this", "week"]) and not last:
        monday, friday = working_week(today)
        if first[0] == "next" and today.weekday() <= LAST_WORKING_WEEKDAY:
            monday, friday = monday + timedelta(days=7), friday + timedelta(days=7)
        return monday, friday, doubts
    if last and _DAY.match(first[0]) and len(first) == 1 and any(w in _MONTHS for w in last):
        end = _day(last, today, order, doubts, after=None)  # 24-26 dec: the start takes the end's month
        start = _in_month_before(int(_DAY.match(first[0]).group(1)), end)  # type: ignore[union-attr]
        return start, end, doubts
    start = _day(first, today, order, doubts, after=None)
    end = _day(last, today, order, doubts, after=start) if last else start
    return start, end, doubts


def _day(words: list[str], today: date, order: DateOrder, doubts: list[str], after: date | None) -> date:
    """One day. ``after``: this is a range's end, read from its start ``after``."""
    phrase = " ".join(words)
    from_ = after or today
    if words == ["yesterday"]:
        return today - timedelta(days=1)
    if len(words) == 1 and words[0] in _TODAY:
        return today
    if len(words) == 1 and words[0] in _TOMORROW:
        return today + timedelta(days=1)
    if len(words) in (1, 2) and words[-1] in _WEEKDAYS and (len(words) == 1 or words[0] in {"this", "next"}):
        wanted = _WEEKDAYS[words[-1]]
        if words[0] == "next":  # the first after today, never today itself
            return today + timedelta(days=(wanted - today.weekday() - 1) % 7 + 1)
        ahead = (wanted - from_.weekday()) % 7
        return from_ + timedelta(days=ahead or (7 if after is not None else 0))
    if len(words) == 1 and _ISO.match(words[0]):
        try:
            return date.fromisoformat("-".join(p.zfill(2) for p in words[0].split("-")))
        except ValueError:
            raise _Unread(f"{quote(words[0])} isn't a real date.") from None
    if len(words) == 1 and _NUMERIC.match(words[0]):
        return _numeric(words[0], from_, order, doubts)
    if len(words) == 1 and _DAY.match(words[0]):
        return _day_of_month(int(_DAY.match(words[0]).group(1)), from_, phrase)  # type: ignore[union-attr]
    if any(w in _MONTHS for w in words):
        return _day_and_month(phrase, from_)
    raise _Unread(f"I couldn't read {quote(phrase)} as a day.")


def _numeric(word: str, from_: date, order: DateOrder, doubts: list[str]) -> date:
    """``12/07`` (``/`` or ``.``), with an optional year, in the configured order."""
    m = _NUMERIC.match(word)
    assert m is not None
    a, b = int(m.group(1)), int(m.group(2))
    year = int(m.group(3)) if m.group(3) else None
    if year is not None and year < 100:
        year += 2000
    readings = {"dmy": (b, a), "mdy": (a, b)}  # (month, day)
    valid = {k: _next(month, day, from_, year) for k, (month, day) in readings.items()}
    real = {k: v for k, v in valid.items() if v is not None}
    if not real:
        raise _Unread(f"{quote(word)} isn't a real date.")
    if order != "ask" and order in real:
        return real[order]
    if len(set(real.values())) > 1:
        one, other = sorted(d for d in real.values() if d is not None)
        doubts.append(
            f"{quote(word)} could be {fmt.day(one)} or {fmt.day(other)}: check the days "
            "(TIMEBOT_DATE_ORDER sets which comes first)."
        )
        return one
    return next(iter(real.values()))


def _next(month: int, day: int, from_: date, year: int | None) -> date | None:
    """``day``/``month`` of ``year``, or when none is given the next one from ``from_`` on."""
    if not 1 <= month <= 12:
        return None
    for y in [year] if year is not None else range(from_.year, from_.year + 9):  # 29 Feb: up to 8 years on
        try:
            found = date(y, month, day)
        except ValueError:
            continue
        if year is not None or found >= from_:
            return found
    return None


def _day_of_month(day: int, from_: date, phrase: str) -> date:
    """``the 3rd``: the next 3rd of a month, from ``from_`` on (months without a 31st skipped)."""
    year, month = from_.year, from_.month
    for _ in range(13):
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found is not None and found >= from_:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise _Unread(f"I couldn't read {quote(phrase)} as a day.")


def _in_month_before(day: int, end: date) -> date:
    """The start of ``24-26 dec``: that day in the end's month, or the month before if it is later."""
    year, month = end.year, end.month
    for _ in range(2):
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found is not None and found <= end:
            return found
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    raise _Unread(f"I couldn't read the day {day} before {fmt.day(end)}.")


def _day_and_month(phrase: str, from_: date) -> date:
    """``24 dec``, ``december 24th``, ``24 december 2027``: dateparser reads it; without a year it
    is the next such day from ``from_`` on (dateparser's own choice of year is not ours)."""
    parsed = dateparser.parse(
        phrase,
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime(from_.year, from_.month, from_.day),
            "REQUIRE_PARTS": ["day", "month"],
            "PREFER_DATES_FROM": "future",
        },
    )
    if parsed is None and "feb" in phrase:  # 29 feb: dateparser reads it only in a leap year
        parsed = dateparser.parse(phrase + " 2028", languages=["en"], settings={"REQUIRE_PARTS": ["day", "month"]})
    if parsed is None:
        raise _Unread(f"I couldn't read {quote(phrase)} as a day.")
    if any(_YEAR.match(w) for w in phrase.split()):
        return parsed.date()
    found = _next(parsed.month, parsed.day, from_, None)
    if found is None:
        raise _Unread(f"{quote(phrase)} isn't a real date.")
    return found


def warm_up() -> None:
    """dateparser loads its language data on first use (a tenth of a second): done at start-up,
    so that no person's ``/timeoff`` pays for it on the ack path."""
    dateparser.parse("24 dec", languages=["en"], settings={"REQUIRE_PARTS": ["day", "month"]})


def pick_type(types: list[LeaveType], kind: str) -> list[LeaveType]:
    """The vendor's types that ``kind`` names by part of their name (any case): every word a part
    of the name; words like "leave" or "day" count only when they are all that was typed."""
    words = kind.lower().split()
    telling = [w for w in words if w not in _GENERIC] or words
    if not telling:
        return []
    return [t for t in types if all(w in t.name.lower() for w in telling)]


KIND_WORDS = "kind_words"  # the intake payload's key for the typed kind: the type is picked when it is sent


@dataclass(frozen=True)
class TypedOutcome:
    """What came of clear text: ``result`` when it was sent; else the types its kind named (none
    or several), for the form. ``can_undo``: the vendor lets Timebot cancel it."""

    vendor: str
    result: LeaveResult | None = None
    matches: tuple[LeaveType, ...] = ()
    can_undo: bool = False

    def why_not(self, kind: str) -> str:
        """Why it was not sent, in the person's words."""
        if not self.matches:
            return f"{esc(self.vendor)} has no leave type called {quote(kind)}."
        names = ", ".join(esc(t.name) for t in self.matches[:5])
        return f"{quote(kind)} could be any of {names}."


def send_typed(leave: Leave, actor: Actor, request: LeaveRequest, kind: str) -> TypedOutcome:
    """Send ``request`` with the one vendor type ``kind`` names, through the same use case as the
    form (its checks, its follow-up, its audit); none sent when the kind names none or several.
    Sick leave is sent like any other: whether it needs approving is the vendor's business."""
    vendor = leave.router.leave()
    matches = tuple(pick_type(leave.leave_types(vendor), kind))
    if len(matches) != 1:
        return TypedOutcome(vendor.label, None, matches)
    result = leave.request_leave(actor, replace(request, leave_type=matches[0].id))
    return TypedOutcome(vendor.label, result, matches, Action.CANCEL in vendor.capabilities)


def check_kind(leave: Leave, typed: TypedLeave) -> TypedLeave:
    """Clear text whose kind names none or several of the types this process knows (read lately:
    no vendor call, this runs before the ack) gets a doubt, so the form opens at once; with none
    known, the kind is checked when the request is sent."""
    known = leave.known_types() if typed.clear else None
    if known is None:
        return typed
    matches = pick_type(known, typed.kind)
    if len(matches) == 1:
        return typed
    doubt = TypedOutcome("", None, tuple(matches)).why_not(typed.kind) if matches else "Which type of leave is it?"
    return replace(typed, doubts=(*typed.doubts, doubt))


def resumed_request(leave: Leave, request: LeaveRequest, payload: Mapping[str, Any]) -> LeaveRequest:
    """A request from typed text finished after a restart: its type picked as it would have been
    (the payload keeps the typed kind, not a type id)."""
    kind = str(payload.get(KIND_WORDS) or "")
    if not kind or request.leave_type:
        return request
    vendor = leave.router.leave()
    matches = pick_type(leave.leave_types(vendor), kind)
    if len(matches) != 1:
        raise UserError(TypedOutcome(vendor.label, None, tuple(matches)).why_not(kind))
    return replace(request, leave_type=matches[0].id)
