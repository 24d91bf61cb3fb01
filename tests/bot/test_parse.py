"""What people type: every parser returns a clean value or says what is wrong (``InputError``), never crashes,
and whatever reaches a vendor arrives as the person wrote it."""

from __future__ import annotations

import sqlite3
import time as clock
import unicodedata
from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.digests.spec import MAX_DAYS_AHEAD, parse_days, parse_spec
from bot.domain import Portion
from bot.parse import (
    MAX_WHOSOFF_DAYS,
    InputError,
    clean_text,
    parse_channel,
    parse_clock_time,
    parse_date,
    parse_period,
    parse_user,
    split_args,
    working_week,
)
from bot.usecases.hours import parse_hours_period
from bot.usecases.leave import working_days
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import BotUnderTest

modest = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TODAY = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))

# Pieces people (and fat fingers) actually type, so the properties reach deep into each parser rather
# than bouncing off its first check: keywords, dates, digits from other scripts, quotes, mentions …
PIECES = st.sampled_from(
    [
        "today",
        "tomorrow",
        "week",
        "this week",
        "next week",
        "monday",
        "Friday",
        "..",
        "-",
        "/",
        ":",
        "am",
        "pm",
        "PM",
        " ",
        "  ",
        "\n",
        "\t",
        "2026",
        "02",
        "2",
        "31",
        "12",
        "13",
        "24",
        "60",
        "00",
        "0",
        "9999",
        "0000",
        "-1",
        "+",
        "٢٠٢٦",
        "２０２６",
        "٣",
        "½",
        "²",
        "📅",
        "👩‍💻",
        "\u200f",
        "\u202e",
        "e\u0301",
        "'",
        '"',
        "\\",
        "<@U0ADA|ada>",
        "<#C0TEAM|team>",
        "U0ADA",
        "ahead=",
        "ahead=3",
        "next=12",
        "mon-fri",
        "fri-mon",
        "mon..wed",
        "weekdays",
        "daily",
        "sat,sun",
        "thurs",
        "skip-empty",
        "always",
        "America/New_York",
        "america/new_york",
        "UTC",
        "gmt",
        "Mars/Olympus",
        "9:30",
        "17:30",
        "5pm",
        "12am",
        "09:00",
        "'); DROP TABLE identity;--",
        "\x00",
        "\x1b[31m",
    ]
)
NEAR_MISSES = st.lists(PIECES, max_size=8).map("".join)
ANY_TEXT = st.one_of(st.text(), NEAR_MISSES)
ANY_ARGS = st.one_of(st.lists(ANY_TEXT, max_size=6), ANY_TEXT.map(split_args))


def iso(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


# --- dates and periods ----------------------------------------------------------------------


@modest
@given(st.dates(), TODAY)
def test_any_real_date_written_yyyy_mm_dd_round_trips(day: date, today: date) -> None:
    assert parse_date(iso(day)) == day
    assert parse_date(f"  {iso(day)}\n") == day
    assert parse_period(iso(day), today) == (day, day)


@modest
@given(ANY_TEXT)
@example("2026-02-31")
@example("0000-01-01")
@example("٢٠٢٦-٠٢-٢٨")
def test_any_text_is_a_date_or_a_clear_input_error(text: str) -> None:
    try:
        parse_date(text)
    except InputError as exc:
        assert str(exc)


@modest
@given(ANY_TEXT, TODAY)
@example("31/02", date(2026, 1, 5))
@example("2026-02-31..2026-03-01", date(2026, 1, 5))
@example("9999-12-31..9999-12-31", date(2026, 1, 5))
def test_any_text_is_a_period_or_a_clear_input_error_and_never_a_reversed_range(text: str, today: date) -> None:
    try:
        start, end = parse_period(text, today)
    except InputError as exc:
        assert str(exc)
        return
    assert start <= end
    assert (end - start).days < MAX_WHOSOFF_DAYS


@modest
@given(st.dates(), st.dates(), TODAY, st.sampled_from(["..", " .. ", "..  "]))
def test_a_range_comes_back_as_typed_or_is_refused_when_it_runs_backwards_or_too_long(
    first: date, last: date, today: date, dots: str
) -> None:
    text = f"{iso(first)}{dots}{iso(last)}"
    try:
        start, end = parse_period(text, today)
    except InputError as exc:
        assert last < first or (last - first).days + 1 > MAX_WHOSOFF_DAYS
        assert "ends before it starts" in str(exc) if last < first else f"{MAX_WHOSOFF_DAYS} days" in str(exc)
        return
    assert (start, end) == (first, last)


@modest
@given(TODAY, st.sampled_from(["", "today", "tomorrow", "next week", "monday", "sunday"]))
def test_every_named_period_but_week_starts_no_earlier_than_today_and_never_runs_backwards(
    today: date, word: str
) -> None:
    start, end = parse_period(word, today)
    assert today <= start <= end


@modest
@given(TODAY)
def test_week_is_monday_to_friday_and_never_over_before_today(today: date) -> None:
    start, end = parse_period("week", today)
    assert (start.weekday(), end.weekday(), (end - start).days) == (0, 4, 4)
    assert today <= end


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (date(2026, 12, 2), date(2026, 11, 30), date(2026, 12, 4)),  # a Wednesday: its working week
        (date(2026, 12, 4), date(2026, 11, 30), date(2026, 12, 4)),  # a Friday: still its working week
        (date(2026, 12, 5), date(2026, 12, 7), date(2026, 12, 11)),  # a Saturday: past it, the next one
        (date(2026, 12, 6), date(2026, 12, 7), date(2026, 12, 11)),  # a Sunday: the next one
    ],
)
def test_week_is_the_working_week_containing_today_or_the_next_one_past_its_friday(
    today: date, first: date, last: date
) -> None:
    assert parse_period("week", today) == (first, last)
    assert parse_hours_period("week", today) == (first, last)
    assert working_week(today) == (first, last)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("2026-02-31", "“2026-02-31” isn't a real date."),
        ("2026-13-01", "“2026-13-01” isn't a real date."),
        ("2026-02-31..2026-03-02", "“2026-02-31” isn't a real date."),
    ],
)
def test_an_impossible_date_is_named_as_not_a_real_date(typed: str, problem: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_period(typed, date(2026, 1, 5))
    assert str(refused.value).startswith(problem)


@pytest.mark.parametrize("typed", ["31/02", "02/31/2026", "31.02.2026", "Feb 31"])
def test_a_date_in_another_format_is_quoted_back_with_the_form_to_use(typed: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_period(typed, date(2026, 1, 5))
    assert f"I don't understand “{typed}”" in str(refused.value)
    assert "a date like 2026-12-24" in str(refused.value)


# --- times, words and digest options --------------------------------------------------------


@modest
@given(st.times())
def test_any_wall_clock_time_written_hh_mm_round_trips(at: time) -> None:
    assert parse_clock_time(f"{at.hour:02d}:{at.minute:02d}") == at.replace(second=0, microsecond=0)
    twelve = at.hour % 12 or 12
    meridian = "am" if at.hour < 12 else "pm"
    assert parse_clock_time(f"{twelve}:{at.minute:02d} {meridian}") == at.replace(second=0, microsecond=0)


@modest
@given(ANY_TEXT)
@example("24:00")
@example("0pm")
@example("13pm")
@example("9:60")
def test_any_text_is_a_time_or_a_clear_input_error(text: str) -> None:
    try:
        at = parse_clock_time(text)
    except InputError as exc:
        assert str(exc)
        return
    assert isinstance(at, time)


@modest
@given(ANY_TEXT)
@example('link "unbalanced')
@example("note it's")
@example("\\")
def test_splitting_arguments_never_fails_even_with_unbalanced_quotes(text: str) -> None:
    words = split_args(text)
    assert isinstance(words, list) and all(isinstance(w, str) for w in words)


@modest
@given(
    st.text(alphabet=st.characters(blacklist_characters="'\"\\", blacklist_categories=("Zs", "Zl", "Zp", "Cc")))
    | st.lists(st.text(alphabet="abc xyz\t\n", max_size=5), max_size=5).map(" ".join)
)
def test_text_without_quotes_splits_on_whitespace_like_anyone_would_expect(text: str) -> None:
    assert split_args(text) == text.split()


@modest
@given(ANY_ARGS)
@example(["9:00", "America/New_York", "mon-fri", "skip-empty", "ahead=3"])
@example(["25:00"])
@example(["09:00", "ahead=99"])
@example(["09:00", "0-6"])
@example(["09:00", "Mars/Olympus"])
@example([])
def test_any_digest_options_are_a_schedule_or_a_clear_input_error(args: list[str]) -> None:
    try:
        spec = parse_spec(args)
    except InputError as exc:
        assert str(exc)
        return
    assert 0 <= spec.hour <= 23 and 0 <= spec.minute <= 59
    assert 0 <= spec.days_ahead <= MAX_DAYS_AHEAD
    assert parse_days(spec.days) == spec.days  # canonical, so it reads back as itself


@modest
@given(ANY_TEXT)
def test_any_text_is_a_person_a_channel_a_day_list_or_a_clear_input_error(text: str) -> None:
    for parser in (parse_user, parse_channel, parse_days):
        try:
            parser(text)
        except InputError as exc:
            assert str(exc)


@modest
@given(ANY_TEXT, st.integers(min_value=1, max_value=400))
def test_free_text_is_cleaned_or_refused_as_too_long_never_cut_silently(text: str, limit: int) -> None:
    try:
        cleaned = clean_text(text, what="note", limit=limit)
    except InputError as exc:
        assert "too long" in str(exc) and str(limit) in str(exc)
        return
    assert cleaned is None or (0 < len(cleaned) <= limit and cleaned == cleaned.strip())


BIDI_OVERRIDES = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
VISIBLE = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=BIDI_OVERRIDES))


@modest
@given(VISIBLE)
@example("👩\u200d💻 deploy")
@example("\u05e9\u05dc\u05d5\u05dd \u200f!")
@example("\U000e0067\U000e0062")
def test_free_text_keeps_every_character_people_can_see_or_that_joins_them(text: str) -> None:
    expected = unicodedata.normalize("NFC", text.strip()) or None
    assert clean_text(text, what="note", limit=10_000) == expected


@modest
@given(ANY_TEXT)
@example("a\x00b\x1b[31mred\u202egnp.exe")
def test_control_characters_and_bidi_overrides_never_get_through(text: str) -> None:
    cleaned = clean_text(text, what="note", limit=10_000) or ""
    assert not [ch for ch in cleaned if unicodedata.category(ch) in {"Cc", "Cs"} and ch not in "\n\t"]
    assert not set(cleaned) & set(BIDI_OVERRIDES)


# --- through the running bot ----------------------------------------------------------------


def link(bot: BotUnderTest, sim: TimeClockSim, user: str = "U0ADA", user_id: int = 1) -> None:
    services = bot.runtime.services
    pin = f"{user_id}{sim.users[user_id].pin}"
    services.people.link(services.people.actor("T0DEMO", user), "timeclock", {"pin": pin})


def tables(tmp_path: Path) -> set[str]:
    with sqlite3.connect(tmp_path / "timebot.db") as db:
        return {name for (name,) in db.execute("select name from sqlite_master where type = 'table'")}


def test_whosoff_with_a_day_month_date_says_it_cannot_read_it_and_asks_nothing_of_the_vendor(
    bot: BotUnderTest, slack: SlackStandIn, tc_server: SimServer
) -> None:
    response, key = bot.driver.command("/whosoff", "31/02")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")  # a plain reply only the person sees
    assert response.text.startswith("I don't understand “31/02”. Try ") and "2026-12-24" in response.text
    assert not slack.responses[key]
    assert not tc_server.requests


@pytest.mark.parametrize(("command", "what", "limit"), [("/clockin", "project name", 100), ("/clockout", "note", 300)])
def test_ten_kilobytes_of_text_is_refused_in_one_plain_line_and_nothing_reaches_the_vendor(
    bot: BotUnderTest,
    slack: SlackStandIn,
    tc_sim: TimeClockSim,
    tc_server: SimServer,
    command: str,
    what: str,
    limit: int,
) -> None:
    link(bot, tc_sim)
    tc_server.requests.clear()
    response, key = bot.driver.command(command, "x" * 10_240)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")  # a plain reply only the person sees
    assert response.text == f"That {what} is too long (10,240 characters; the limit is {limit})."
    clock.sleep(0.3)  # the refusal is the whole answer: nothing follows on response_url
    assert not tc_server.requests
    assert not slack.responses[key]
    assert not tc_sim.running_sessions(1)


AWKWARD = [
    pytest.param("shipped 👩‍💻🚀 and 🏳️‍🌈 flag", id="emoji with joiners"),
    pytest.param("סיימתי את המשימה \u200fבזמן", id="right-to-left with a mark"),
    pytest.param("مرحبا ‏بالعالم", id="arabic"),
    pytest.param("cafe\u0301 Z\u0324\u0354\u0367\u0311 n\u0303", id="combining characters"),
    pytest.param('he said "ship it', id="unbalanced double quote"),
    pytest.param("it's Ada's", id="apostrophes"),
    pytest.param("'); DROP TABLE identity;--", id="sql"),
    pytest.param('Robert"); DELETE FROM audit_log; --', id="sql with a double quote"),
]


@pytest.mark.parametrize("note", AWKWARD)
def test_an_awkward_clockout_note_reaches_timeclock_exactly_as_typed(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tmp_path: Path, note: str
) -> None:
    link(bot, tc_sim)
    before = tables(tmp_path)
    _, key = bot.driver.command("/clockin")
    assert "Clocked in" in slack.wait_response(key, timeout=20)[-1]["text"]
    _, key = bot.driver.command("/clockout", note)
    assert "Clocked out" in slack.wait_response(key, timeout=20)[-1]["text"]
    [session] = tc_sim.sessions.values()
    assert session["note"] == unicodedata.normalize("NFC", note)  # composed, so it looks the same; nothing dropped
    assert tables(tmp_path) == before and {"identity", "audit_log"} <= before
    assert bot.runtime.services.store.identity("T0DEMO", "U0ADA", "timeclock") is not None


@pytest.mark.parametrize("project", AWKWARD)
def test_an_awkward_project_name_is_found_in_timeclock_exactly_as_typed(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tmp_path: Path, project: str
) -> None:
    name = unicodedata.normalize("NFC", project)
    tc_sim.add_project(7, name, {1})
    link(bot, tc_sim)
    _, key = bot.driver.command("/clockin", project)
    assert "Clocked in" in slack.wait_response(key, timeout=20)[-1]["text"]
    assert tc_sim.running_sessions(1)[0]["project_id"] == 7
    assert {"identity", "audit_log"} <= tables(tmp_path)


def test_an_unknown_sql_looking_project_is_quoted_back_with_the_real_ones_and_stored_as_text(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer, tmp_path: Path
) -> None:
    link(bot, tc_sim)
    _, key = bot.driver.command("/clockin", "'); DROP TABLE identity;--")
    text = slack.wait_response(key, timeout=20)[-1]["text"]
    assert "'); DROP TABLE identity;--" in text and "Support" in text and "Website" in text
    assert not [r for r in tc_server.requests if r.method == "POST" and r.path == "/api/sessions"]
    assert {"identity", "audit_log"} <= tables(tmp_path)
    assert bot.runtime.services.store.identity("T0DEMO", "U0ADA", "timeclock") is not None
    refused = [a for a in bot.runtime.services.store.audit_log() if a.action == "clock_in"]
    assert [(a.outcome, "DROP TABLE identity" in (a.detail or "")) for a in refused] == [("rejected", True)]


@pytest.mark.parametrize(
    ("start_portion", "end_portion", "days"),
    [
        (Portion.FULL, Portion.FULL, 1.0),
        (Portion.AM, Portion.FULL, 0.5),
        (Portion.FULL, Portion.AM, 0.5),  # the form's "last day: morning only" on a one-day request
        (Portion.PM, Portion.PM, 0.5),
    ],
)
def test_a_single_day_counts_the_half_marked_at_either_end(
    start_portion: Portion, end_portion: Portion, days: float
) -> None:
    monday = date(2027, 2, 1)
    assert working_days(monday, monday, start_portion, end_portion, set()) == days


def test_a_channel_typed_as_plain_text_is_refused_with_how_to_make_it_a_link() -> None:
    with pytest.raises(InputError) as refused:
        parse_channel("#team")
    assert "pick the channel from Slack's suggestions" in str(refused.value)
