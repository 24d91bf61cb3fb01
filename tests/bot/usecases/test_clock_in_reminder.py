"""Forgotten clock-ins (opt-in from App Home): one DM with a Clock in button on a working day,
not on leave or a public holiday, when the person hasn't clocked in by their chosen time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers import ids
from tests.bot.usecases.hygiene_support import message_click
from tests.support import TEAM

LONDON = ZoneInfo("Europe/London")
TUESDAY_0931 = datetime(2026, 7, 14, 9, 31, tzinfo=LONDON)


def opt_in(world, at: time = time(9, 30)) -> None:
    world.link("U0ADA", 1)
    world.services.hygiene.set_clock_in_reminder(world.services.people.actor(TEAM, "U0ADA"), at)


def test_no_clock_in_by_the_chosen_time_gets_one_nudge_a_day(world_factory) -> None:
    world = world_factory(TUESDAY_0931)
    opt_in(world)
    world.services.hygiene.check()
    world.services.hygiene.check()
    [dm] = world.dms("U0ADA")
    assert "haven't clocked in today" in dm.args["text"]
    assert any(e.get("action_id") == ids.NUDGE_CLOCK_IN for b in dm.args["blocks"] for e in b.get("elements", []))


def test_someone_who_clocked_in_gets_no_nudge(world_factory) -> None:
    world = world_factory(TUESDAY_0931)
    opt_in(world)
    world.sim.add_session(1, TUESDAY_0931.timestamp() - 3600)
    world.services.hygiene.check()
    assert world.dms("U0ADA") == []


def test_leave_and_public_holidays_get_no_nudge(world_factory) -> None:
    world = world_factory(TUESDAY_0931)
    opt_in(world)
    world.sim.add_off_time(1, TUESDAY_0931.date(), TUESDAY_0931.date(), type_=0)
    world.services.hygiene.check()
    world.clock.set(TUESDAY_0931 + timedelta(days=1))
    world.sim.add_holiday((TUESDAY_0931 + timedelta(days=1)).date())
    world.sim.fetch_holidays(TUESDAY_0931.year)
    world.services.hygiene.check()
    assert world.dms("U0ADA") == []


def test_the_clock_in_button_clocks_in_and_updates_the_nudge(world_factory) -> None:
    world = world_factory(TUESDAY_0931)
    opt_in(world)
    world.services.hygiene.check()
    [dm] = world.dms("U0ADA")
    assert dm.answer is not None
    world.bot.driver.interaction(
        message_click(ids.NUDGE_CLOCK_IN, "", channel=dm.answer["channel"], ts=dm.answer["ts"])
    )
    [update] = world.slack.wait_call("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (dm.answer["channel"], dm.answer["ts"])
    assert "Clocked in" in update.args["text"]
    assert world.sim.running_sessions(1)


def test_the_home_tab_offers_the_reminder_and_the_hours(world_factory) -> None:
    world = world_factory(TUESDAY_0931)
    opt_in(world, time(8, 45))
    world.sim.add_session(1, TUESDAY_0931.timestamp() - 3600)
    world.bot.driver.event({"type": "app_home_opened", "user": "U0ADA", "tab": "home"})
    [published] = world.slack.wait_call("views.publish")
    text = str(published.args["view"])
    assert "today 1h 00m · this week 1h 00m" in text
    assert "if you haven't clocked in by 08:45" in text and "'initial_time': '08:45'" in text
