"""Hours worked: totals per day and for the range, days in the person's own zone, the running
session counted up to now, per project; a vendor that can't report hours says so."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import ClockSession
from bot.parse import InputError
from bot.usecases.hours import day_totals, parse_hours_period
from tests.support import TEAM

LONDON = ZoneInfo("Europe/London")
THURSDAY_NOON = datetime(2026, 7, 16, 12, 0, tzinfo=LONDON)


def at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 7, day, hour, minute, tzinfo=LONDON).timestamp()


def seed_week(sim) -> None:
    sim.add_session(1, at(12, 20), at(12, 22))  # last week's Sunday: not counted
    sim.add_session(1, at(13, 8), at(13, 12), project_id=1)  # Website 4h
    sim.add_session(1, at(13, 13), at(13, 17, 30))  # 4h30
    sim.add_session(1, at(14, 23, 30), at(15, 0, 45), project_id=2)  # over Ada's midnight (not TimeClock's, UTC)
    sim.add_session(1, at(15, 9), at(15, 17))  # 8h
    sim.add_session(1, at(16, 9, 15))  # running: 2h45 up to noon


def test_timebot_hours_week_shows_the_totals_per_day_and_for_the_week(world_factory) -> None:
    world = world_factory(THURSDAY_NOON)
    world.link("U0ADA", 1)
    seed_week(world.sim)
    _, key = world.bot.driver.command("/timebot", "hours week")
    [reply] = world.slack.wait_response(key)
    text = (
        "\n".join(b["text"]["text"] for b in reply["blocks"] if b.get("text"))
        + "\n"
        + "\n".join(e["text"] for b in reply["blocks"] for e in b.get("elements", []))
    )
    assert "Mon 13 Jul: *8h 30m*" in text
    assert "Tue 14 Jul: *0h 30m*" in text
    assert "Wed 15 Jul: *8h 45m*" in text
    assert "Thu 16 Jul: *2h 45m* _(running)_" in text
    assert "*Total: 20h 30m*" in text
    assert "Website: 4h 00m" in text and "Support: 1h 15m" in text
    assert "running session since 09:15 BST counts up to now" in text


def test_last_week_and_a_range_are_the_persons_own_days(world_factory) -> None:
    world = world_factory(THURSDAY_NOON)
    world.link("U0ADA", 1)
    seed_week(world.sim)
    actor = world.services.people.actor(TEAM, "U0ADA")
    last = world.services.hours.hours(actor, date(2026, 7, 12), date(2026, 7, 12))  # last week's Sunday
    assert last.total == timedelta(hours=2)
    tuesday = world.services.hours.hours(actor, date(2026, 7, 14), date(2026, 7, 14))
    assert tuesday.total == timedelta(minutes=30)


def test_a_session_over_midnight_counts_on_both_days_in_the_persons_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    start = datetime(2026, 1, 5, 22, 0, tzinfo=tokyo)
    report = day_totals(
        [ClockSession("1", start, start + timedelta(hours=3))],
        date(2026, 1, 5),
        date(2026, 1, 6),
        tokyo,
        start + timedelta(days=1),
    )
    assert [d.worked for d in report.days] == [timedelta(hours=2), timedelta(hours=1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (date(2026, 7, 16), date(2026, 7, 16))),
        ("week", (date(2026, 7, 13), date(2026, 7, 17))),  # the working week, as /whosoff week and the digest
        ("last week", (date(2026, 7, 6), date(2026, 7, 10))),
        ("2026-07-01..2026-07-03", (date(2026, 7, 1), date(2026, 7, 3))),
    ],
)
def test_hours_periods_are_the_persons_days(text: str, expected: tuple[date, date]) -> None:
    assert parse_hours_period(text, date(2026, 7, 16)) == expected


def test_an_unreadable_period_is_answered_plainly() -> None:
    with pytest.raises(InputError, match="Try `today`, `week`"):
        parse_hours_period("fortnight", date(2026, 7, 16))


def test_a_vendor_that_cannot_report_hours_says_so_plainly() -> None:
    from bot.domain import Action
    from bot.errors import NotSupported, explain
    from bot.vendors.http import HttpPolicy
    from bot.vendors.registry import Router
    from bot.vendors.timetap import TimeTap, TimeTapSettings

    settings = TimeTapSettings(
        _env_file=None,
        base_url="http://127.0.0.1:9",
        api_key="1",  # type: ignore[call-arg]
        private_key="k",
    )
    router = Router({"timetap": TimeTap(settings, HttpPolicy())}, {})
    with pytest.raises(NotSupported) as refused:
        router.sessions()
    assert explain(refused.value) == "TimeTap doesn't support hours worked."
    assert refused.value.action is Action.HOURS
