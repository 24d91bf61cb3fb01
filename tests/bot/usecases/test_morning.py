"""The manager's morning view: ``/whosin #team`` lists who's in, who's on leave and who is not in
yet, each by their own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.usecases.directory import refresh_directory

LONDON = ZoneInfo("Europe/London")
TEAM_CHANNEL = "C0TEAM"
MONDAY_MORNING = datetime(2026, 7, 13, 9, 30, tzinfo=LONDON)  # 04:30 in New York, 11:30 in Helsinki
MONDAY_SMALL_HOURS = datetime(2026, 7, 13, 2, 0, tzinfo=LONDON)  # still Sunday evening in New York


def _world(world_factory, at: datetime):
    world = world_factory(at)
    world.slack.add_channel(TEAM_CHANNEL, "team", ["U0ADA", "U0GRACE", "U0ALAN", "U0LINUS"])
    refresh_directory(world.services.store, world.services.people.slack)  # everyone's zone, as housekeeping has it
    world.link("U0ADA", 1)
    world.link("U0ALAN", 3)
    return world


def _sections(world, user: str = "U0ADA", text: str = f"<#{TEAM_CHANNEL}|team>") -> dict[str, list[str]]:
    _, key = world.bot.driver.command("/whosin", text, user=user)
    [reply] = world.slack.wait_response(key)
    found: dict[str, list[str]] = {}
    for block in reply["blocks"]:
        body = (block.get("text") or {}).get("text", "")
        head, _, rest = body.partition("\n")
        if head.startswith("*") and rest:
            found[head.split("*")[1]] = rest.split("\n")
    return found


def test_a_teams_morning_lists_who_is_in_on_leave_and_not_in_yet(world_factory) -> None:
    world = _world(world_factory, MONDAY_MORNING)
    world.sim.add_session(1, MONDAY_MORNING.timestamp() - 1800)
    world.sim.add_off_time(3, MONDAY_MORNING.date(), MONDAY_MORNING.date(), type_=0)
    found = _sections(world)
    assert found["In"] == ["• Ada Lovelace since 09:00 BST"]
    assert [line.split(" ·")[0] for line in found["On leave"]] == ["• Alan Turing"]
    assert found["Not in yet"] == [
        "• Grace Hopper · 04:30 where they are (EDT)",
        "• Linus Torvalds · 11:30 where they are (EEST)",
    ]
    assert "Katherine" not in str(found)  # not in the channel


def test_someone_whose_own_today_is_a_weekend_is_not_expected_in(world_factory) -> None:
    world = _world(world_factory, MONDAY_SMALL_HOURS)
    found = _sections(world)
    assert found["Not a working day for them"] == ["• Grace Hopper · 21:00 where they are (EDT)"]
    assert "• Linus Torvalds · 04:00 where they are (EEST)" in found["Not in yet"]


def test_whosin_without_a_team_still_lists_everyone_clocked_in(world_factory) -> None:
    world = _world(world_factory, MONDAY_MORNING)
    world.sim.add_session(1, MONDAY_MORNING.timestamp() - 1800)
    found = _sections(world, text="")
    assert found["Clocked in"] == ["• Ada Lovelace since 09:00 BST"]


def test_an_unknown_team_word_is_answered_in_the_ack(world_factory) -> None:
    world = _world(world_factory, MONDAY_MORNING)
    response, _ = world.bot.driver.command("/whosin", "engineering")
    assert "I don't know the team" in response.text


def test_a_departments_morning_matches_its_vendor_people_to_slack_by_email(tmp_path, slack) -> None:
    from bot.vendors.http import HttpPolicy
    from bot.vendors.timeclock import TimeClock, TimeClockSettings
    from sandbox.server import SimServer
    from sandbox.timeclock import TimeClockSim
    from tests.bot.digests.support import company, user_id, whosoff_vendor
    from tests.bot.usecases.hygiene_support import ManualClock
    from tests.conftest import make_settings, start_bot
    from tests.support import TEAM

    clock = ManualClock(MONDAY_MORNING)
    wo = company(clock)
    for email in ("ada@example.com", "alan@example.com", "grace@example.com"):
        wo.users[user_id(wo, email)].department_name = "Engineering"
    wo.add_leave(user_id(wo, "alan@example.com"), MONDAY_MORNING.date(), leave_type="Annual Leave")
    tc = TimeClockSim.demo()
    tc.clock = clock
    tc.add_session(1, MONDAY_MORNING.timestamp() - 1800)
    with SimServer(wo.handle, name="whosoff") as wo_server, SimServer(tc.handle, name="timeclock") as tc_server:
        timeclock = TimeClock(
            TimeClockSettings(_env_file=None, base_url=tc_server.base_url),  # type: ignore[call-arg]
            HttpPolicy(),
            clock=clock,
        )
        settings = make_settings(
            tmp_path, slack, TIMEBOT_SCHEDULER=False, TIMEBOT_CLOCK_VENDOR="timeclock", TIMEBOT_WHOSOFF_VENDOR="whosoff"
        )
        bot = start_bot(settings, slack, {"timeclock": timeclock, "whosoff": whosoff_vendor(wo_server)}, clock=clock)
        try:
            refresh_directory(bot.runtime.services.store, bot.runtime.services.people.slack)
            people = bot.runtime.services.people
            people.link(people.actor(TEAM, "U0ADA"), "timeclock", {"pin": f"1{tc.users[1].pin}"})
            _, key = bot.driver.command("/whosin", "dept=Engineering")
            [reply] = slack.wait_response(key)
        finally:
            bot.close()
    text = "\n".join((b.get("text") or {}).get("text", "") for b in reply["blocks"])
    assert "*In* (1)\n• Ada Lovelace since 09:00 BST" in text
    assert "*On leave* (1)\n• Alan Turing" in text
    assert "*Not in yet* (1)\n• Grace Hopper · 04:30 where they are (EDT)" in text
    assert "Linus" not in text and "Katherine" not in text
