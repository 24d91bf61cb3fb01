"""Leave from typed text: 30 phrasings, each with the days (and half days and kind) it must mean,
read in two time zones on a Friday and on a Sunday. The instants are chosen so that the person's
date differs from the UTC date: a reading on the server's day instead of theirs fails."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.domain import LeaveType
from bot.parse import InputError
from bot.usecases.typed_leave import pick_type, read_typed_leave

AUCKLAND, LOS_ANGELES = ZoneInfo("Pacific/Auckland"), ZoneInfo("America/Los_Angeles")
FRIDAY, SUNDAY = date(2026, 12, 4), date(2026, 12, 6)
# Auckland is UTC+13 in December: 09:00 there is 20:00 UTC the day before. Los Angeles is UTC-8:
# 22:00 there is 06:00 UTC the day after.
INSTANTS = {
    ("Pacific/Auckland", FRIDAY): datetime(2026, 12, 3, 20, 0, tzinfo=UTC),
    ("Pacific/Auckland", SUNDAY): datetime(2026, 12, 5, 20, 0, tzinfo=UTC),
    ("America/Los_Angeles", FRIDAY): datetime(2026, 12, 5, 6, 0, tzinfo=UTC),
    ("America/Los_Angeles", SUNDAY): datetime(2026, 12, 7, 6, 0, tzinfo=UTC),
}


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


# phrase, date order, then for a Friday and for a Sunday: (first day, last day);
# then half ("" / "start": first day from the afternoon / "end": last day until noon) and kind
TABLE: list[tuple[str, str, tuple[date, date], tuple[date, date], str, str]] = [
    ("sick today", "ask", (d(12, 4), d(12, 4)), (d(12, 6), d(12, 6)), "", "sick"),
    ("tomorrow pm", "ask", (d(12, 5), d(12, 5)), (d(12, 7), d(12, 7)), "start", ""),
    ("pto next thursday", "ask", (d(12, 10), d(12, 10)), (d(12, 10), d(12, 10)), "", "pto"),
    ("vacation 24 dec to 2 jan", "ask", (d(12, 24), d(1, 2, 2027)), (d(12, 24), d(1, 2, 2027)), "", "vacation"),
    ("12/07", "mdy", (d(12, 7), d(12, 7)), (d(12, 7), d(12, 7)), "", ""),
    ("12/07", "dmy", (d(7, 12, 2027), d(7, 12, 2027)), (d(7, 12, 2027), d(7, 12, 2027)), "", ""),
    ("next week", "ask", (d(12, 7), d(12, 11)), (d(12, 7), d(12, 11)), "", ""),
    ("friday to monday", "ask", (d(12, 4), d(12, 7)), (d(12, 11), d(12, 14)), "", ""),
    ("dec 24-26", "ask", (d(12, 24), d(12, 26)), (d(12, 24), d(12, 26)), "", ""),
    ("the 3rd", "ask", (d(1, 3, 2027), d(1, 3, 2027)), (d(1, 3, 2027), d(1, 3, 2027)), "", ""),
    ("monday morning", "ask", (d(12, 7), d(12, 7)), (d(12, 7), d(12, 7)), "end", ""),
    ("sick tomorrow", "ask", (d(12, 5), d(12, 5)), (d(12, 7), d(12, 7)), "", "sick"),
    ("vac friday", "ask", (d(12, 4), d(12, 4)), (d(12, 11), d(12, 11)), "", "vac"),
    ("2026-12-24", "ask", (d(12, 24), d(12, 24)), (d(12, 24), d(12, 24)), "", ""),
    ("2026-12-24..2026-12-31", "ask", (d(12, 24), d(12, 31)), (d(12, 24), d(12, 31)), "", ""),
    ("24-26 dec vacation", "ask", (d(12, 24), d(12, 26)), (d(12, 24), d(12, 26)), "", "vacation"),
    ("thursday afternoon", "ask", (d(12, 10), d(12, 10)), (d(12, 10), d(12, 10)), "start", ""),
    ("this friday", "ask", (d(12, 4), d(12, 4)), (d(12, 11), d(12, 11)), "", ""),
    ("next friday", "ask", (d(12, 11), d(12, 11)), (d(12, 11), d(12, 11)), "", ""),
    ("dec 31 to jan 2", "ask", (d(12, 31), d(1, 2, 2027)), (d(12, 31), d(1, 2, 2027)), "", ""),
    ("24/12", "ask", (d(12, 24), d(12, 24)), (d(12, 24), d(12, 24)), "", ""),
    ("3 jan", "ask", (d(1, 3, 2027), d(1, 3, 2027)), (d(1, 3, 2027), d(1, 3, 2027)), "", ""),
    ("wed", "ask", (d(12, 9), d(12, 9)), (d(12, 9), d(12, 9)), "", ""),
    ("mon to wed", "ask", (d(12, 7), d(12, 9)), (d(12, 7), d(12, 9)), "", ""),
    ("from tomorrow until friday", "ask", (d(12, 5), d(12, 11)), (d(12, 7), d(12, 11)), "", ""),
    ("today pm sick", "ask", (d(12, 4), d(12, 4)), (d(12, 6), d(12, 6)), "start", "sick"),
    ("2026-12-07..2026-12-08 half-end vacation", "ask", (d(12, 7), d(12, 8)), (d(12, 7), d(12, 8)), "end", "vacation"),
    ("december 5th", "ask", (d(12, 5), d(12, 5)), (d(12, 5, 2027), d(12, 5, 2027)), "", ""),
    ("dec 4", "ask", (d(12, 4), d(12, 4)), (d(12, 4, 2027), d(12, 4, 2027)), "", ""),
    ("the 6th", "ask", (d(12, 6), d(12, 6)), (d(12, 6), d(12, 6)), "", ""),
    ("friday", "ask", (d(12, 4), d(12, 4)), (d(12, 11), d(12, 11)), "", ""),
    ("7/12 pto", "dmy", (d(12, 7), d(12, 7)), (d(12, 7), d(12, 7)), "", "pto"),
    ("sick today!", "ask", (d(12, 4), d(12, 4)), (d(12, 6), d(12, 6)), "", "sick"),
    ("29 feb", "ask", (d(2, 29, 2028), d(2, 29, 2028)), (d(2, 29, 2028), d(2, 29, 2028)), "", ""),
    ("ooo mon-wed", "ask", (d(12, 7), d(12, 9)), (d(12, 7), d(12, 9)), "", "ooo"),
]
CASES = [
    pytest.param(zone, today, row, id=f"{row[0]}|{row[1]}|{zone.split('/')[1]}|{today:%a}")
    for row in TABLE
    for zone in ("Pacific/Auckland", "America/Los_Angeles")
    for today in (FRIDAY, SUNDAY)
]


def test_the_table_holds_thirty_phrasings_at_least() -> None:
    assert len({(row[0], row[1]) for row in TABLE}) >= 30


@pytest.mark.parametrize(("zone", "today", "row"), CASES)
def test_a_phrase_means_these_days_on_the_persons_today(zone: str, today: date, row: tuple) -> None:
    phrase, order, on_friday, on_sunday, half, kind = row
    read = read_typed_leave(phrase, INSTANTS[(zone, today)], ZoneInfo(zone), order)
    assert (read.start, read.end) == (on_friday if today == FRIDAY else on_sunday)
    assert (read.half_start, read.half_end) == (half == "start", half == "end")
    assert read.kind == kind
    assert not read.doubts


def test_a_day_month_reading_that_depends_on_the_order_is_a_doubt_when_the_order_is_unknown() -> None:
    read = read_typed_leave("12/07 pto", INSTANTS[("Pacific/Auckland", FRIDAY)], AUCKLAND, "ask")
    assert read.doubts and "12/07" in read.doubts[0]
    assert not read.clear
    assert read.start == d(12, 7)  # the sooner reading fills the form in


def test_text_without_a_kind_is_not_clear_however_plain_its_days() -> None:
    read = read_typed_leave("tomorrow", INSTANTS[("America/Los_Angeles", FRIDAY)], LOS_ANGELES)
    assert read.start == d(12, 5) and not read.clear
    assert "Which type of leave" in read.understood()


def test_text_with_days_and_a_kind_is_clear() -> None:
    assert read_typed_leave("sick today", INSTANTS[("America/Los_Angeles", FRIDAY)], LOS_ANGELES).clear


def test_unreadable_days_are_a_doubt_said_in_the_persons_words() -> None:
    read = read_typed_leave("sick 45/99", INSTANTS[("America/Los_Angeles", FRIDAY)], LOS_ANGELES)
    assert read.start is None and not read.clear
    assert "45/99" in read.understood()


def test_text_without_days_asks_which_days() -> None:
    read = read_typed_leave("vacation", INSTANTS[("America/Los_Angeles", FRIDAY)], LOS_ANGELES)
    assert read.start is None and "Which days?" in read.doubts


def test_half_without_saying_which_half_is_a_doubt() -> None:
    read = read_typed_leave("sick tomorrow half", INSTANTS[("America/Los_Angeles", FRIDAY)], LOS_ANGELES)
    assert read.kind == "sick" and not read.clear


def test_a_morning_and_an_afternoon_of_one_day_is_a_doubt() -> None:
    read = read_typed_leave("sick tomorrow am pm", INSTANTS[("America/Los_Angeles", FRIDAY)], LOS_ANGELES)
    assert not read.clear


def test_a_date_typed_with_a_past_year_is_a_doubt() -> None:
    read = read_typed_leave("pto 2025-12-24", INSTANTS[("America/Los_Angeles", FRIDAY)], LOS_ANGELES)
    assert not read.clear and "past" in " ".join(read.doubts)


TYPES = [LeaveType("1", "Vacation / PTO"), LeaveType("2", "Sick leave"), LeaveType("3", "Sick (unpaid)")]


@pytest.mark.parametrize(
    ("kind", "ids"), [("pto", ["1"]), ("vac", ["1"]), ("VACATION leave", ["1"]), ("unpaid", ["3"])]
)
def test_a_kind_named_by_part_of_its_name_picks_that_type(kind: str, ids: list[str]) -> None:
    assert [t.id for t in pick_type(TYPES, kind)] == ids


def test_a_kind_that_names_several_types_picks_them_all() -> None:
    assert [t.id for t in pick_type(TYPES, "sick")] == ["2", "3"]


def test_a_kind_that_names_no_type_picks_none() -> None:
    assert pick_type(TYPES, "jury duty") == []


WORDS = st.sampled_from(
    [
        "sick",
        "pto",
        "today",
        "tomorrow",
        "next",
        "friday",
        "to",
        "-",
        "dec",
        "24",
        "3rd",
        "12/07",
        "31/02",
        "am",
        "pm",
        "half",
        "week",
        "2027",
        "2026-12-24..2026-12-31",
        "29 feb",
        "..",
        "the",
        "until",
        "jan",
        "30",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.text(max_size=80), st.lists(WORDS, max_size=7).map(" ".join)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)),
    st.sampled_from(["ask", "dmy", "mdy"]),
)
@example("24 dec to 2 jan - friday", datetime(2026, 12, 4, tzinfo=UTC), "ask")
def test_any_text_is_read_to_days_in_order_or_to_a_doubt_never_to_a_crash(text: str, now: datetime, order: str) -> None:
    try:
        read = read_typed_leave(text, now, LOS_ANGELES, order)  # type: ignore[arg-type]
    except InputError as exc:
        assert "too long" in str(exc)
        return
    if read.start is not None:
        assert read.end is not None and read.start <= read.end
    assert read.clear == (read.start is not None and not read.doubts and bool(read.kind))
    assert read.understood() or read.clear
