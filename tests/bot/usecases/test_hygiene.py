"""Forgotten clock-outs: one reminder per session, its buttons end that session once, quiet hours
wait for the morning. Bot, TimeClock simulator and Slack stand-in share a controllable clock."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.usecases.hygiene import SWEEP_CHUNK
from handlers import ids
from tests.bot.usecases.hygiene_support import World, button_value, message_click
from tests.support import timepicker

LONDON = ZoneInfo("Europe/London")
EVENING = datetime(2026, 7, 14, 18, 7, tzinfo=LONDON)  # a Tuesday; BST, so London is not UTC


def running_for(world: World, span: timedelta, user: int = 1) -> dict:
    return world.sim.add_session(user, world.clock() - span.total_seconds())


def reminded(world: World, button: str) -> tuple[dict, str]:
    """Ada linked, a session 10 h 5 min old, one check: the session row and ``button``'s value."""
    world.link("U0ADA", 1)
    row = running_for(world, timedelta(hours=10, minutes=5))
    world.services.hygiene.check()
    return row, button_value(world.dms("U0ADA")[0], button)


def test_a_session_ten_hours_five_minutes_old_gets_exactly_one_reminder_within_one_check(world_factory) -> None:
    world = world_factory(EVENING)
    world.link("U0ADA", 1)
    running_for(world, timedelta(hours=10, minutes=5))
    assert world.services.hygiene.check() == 1
    world.services.hygiene.check()
    [dm] = world.dms("U0ADA")
    assert dm.args["text"] == "You've been clocked in since 08:02 BST (10 h). Still working?"
    assert button_value(dm, ids.REMINDER_CLOCK_OUT) and button_value(dm, ids.REMINDER_LEFT_AT)


def test_a_session_younger_than_the_limit_gets_no_reminder(world_factory) -> None:
    world = world_factory(EVENING)
    world.link("U0ADA", 1)
    running_for(world, timedelta(hours=9, minutes=55))
    world.services.hygiene.check()
    assert world.dms("U0ADA") == []


def test_a_session_closed_elsewhere_before_the_reminder_is_due_gets_none(world_factory) -> None:
    world = world_factory(EVENING - timedelta(hours=2))
    world.link("U0ADA", 1)
    row = running_for(world, timedelta(hours=8, minutes=5))
    world.services.hygiene.check()  # the sweep finds it running
    row["clock_out"] = int(world.clock())  # closed in TimeClock's web UI
    world.clock.set(EVENING)
    world.services.hygiene.check()
    assert world.dms("U0ADA") == []


def test_clock_out_now_ends_the_session_at_the_vendor_and_updates_the_reminder_in_place(world_factory) -> None:
    world = world_factory(EVENING)
    row, value = reminded(world, ids.REMINDER_CLOCK_OUT)
    [dm] = world.dms("U0ADA")
    assert dm.answer is not None
    click = message_click(ids.REMINDER_CLOCK_OUT, value, channel=dm.answer["channel"], ts=dm.answer["ts"])
    assert world.bot.driver.interaction(click).status_code == 200
    [update] = world.slack.wait_call("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (dm.answer["channel"], dm.answer["ts"])
    assert "Clocked out at 18:07 BST after 10h 05m" in update.args["text"]
    assert row["clock_out"] == int(EVENING.timestamp())


def test_a_reminder_click_naming_another_message_updates_only_the_reminder_itself(world_factory) -> None:
    world = world_factory(EVENING)
    _, value = reminded(world, ids.REMINDER_CLOCK_OUT)
    [dm] = world.dms("U0ADA")
    assert dm.answer is not None
    forged = message_click(ids.REMINDER_CLOCK_OUT, value, channel="C0TEAM", ts="1700000000.000100")
    world.bot.driver.interaction(forged)
    [update] = world.slack.wait_call("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (dm.answer["channel"], dm.answer["ts"])


def test_a_double_click_on_clock_out_now_ends_the_session_once(world_factory) -> None:
    world = world_factory(EVENING)
    row, value = reminded(world, ids.REMINDER_CLOCK_OUT)
    for _ in range(2):
        world.bot.driver.interaction(message_click(ids.REMINDER_CLOCK_OUT, value))
    world.slack.wait_call("chat.update")
    world.services.pool.shutdown(wait=True)  # both clicks handled to the end
    patches = [r for r in world.server.requests if r.method == "PATCH"]
    assert len(patches) == 1
    assert row["clock_out"] == int(EVENING.timestamp())
    assert len(world.slack.calls_to("chat.update")) == 1  # the second click leaves the first's answer


def test_i_left_at_ends_the_session_at_that_time_in_the_persons_zone(world_factory) -> None:
    world = world_factory(EVENING)
    row, value = reminded(world, ids.REMINDER_LEFT_AT)
    world.bot.driver.interaction(message_click(ids.REMINDER_LEFT_AT, value))
    [opened] = world.slack.wait_call("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == ids.LEFT_AT_CALLBACK
    response = world.bot.driver.submit_view(
        ids.LEFT_AT_CALLBACK, {"end_time": timepicker("17:30")}, private_metadata=view["private_metadata"]
    )
    assert response.status_code == 200 and not response.content
    [update] = world.slack.wait_call("chat.update")
    assert "Clocked out at 17:30 BST" in update.args["text"]
    assert row["clock_out"] == int(datetime(2026, 7, 14, 17, 30, tzinfo=LONDON).timestamp())


def test_i_left_at_a_time_still_to_come_is_a_field_error(world_factory) -> None:
    world = world_factory(EVENING)
    meta = json.loads(reminded(world, ids.REMINDER_LEFT_AT)[1])
    response = world.bot.driver.submit_view(
        ids.LEFT_AT_CALLBACK, {"end_time": timepicker("19:00")}, private_metadata=json.dumps(meta)
    )
    assert response.json()["response_action"] == "errors"
    assert "end_time" in response.json()["errors"]


def test_no_reminder_in_quiet_hours_it_comes_when_they_end(world_factory) -> None:
    late = datetime(2026, 7, 14, 22, 0, tzinfo=LONDON)
    world = world_factory(late)
    world.link("U0ADA", 1)
    running_for(world, timedelta(hours=10, minutes=5))
    world.services.hygiene.check()
    world.clock.set(datetime(2026, 7, 15, 6, 55, tzinfo=LONDON))
    world.services.hygiene.check()
    assert world.dms("U0ADA") == []
    world.clock.set(datetime(2026, 7, 15, 7, 0, tzinfo=LONDON))
    world.services.hygiene.check()
    [dm] = world.dms("U0ADA")
    assert "since Tue 14 Jul 11:55 BST (19 h)" in dm.args["text"]


def test_automatic_clock_out_ends_the_session_when_the_reminder_was_sent_and_says_so(world_factory) -> None:
    world = world_factory(EVENING - timedelta(hours=2), TIMEBOT_AUTO_CLOCKOUT_HOURS=12)
    world.link("U0ADA", 1)
    row = running_for(world, timedelta(hours=10, minutes=5))
    world.services.hygiene.check()
    asked = world.clock()
    world.clock.set(EVENING)  # 12 h 05 m in
    world.services.hygiene.check()
    assert row["clock_out"] == int(asked)
    [update] = world.slack.wait_call("chat.update")
    assert "I clocked you out at 16:07 BST, when I asked" in update.args["text"]


def test_a_clock_in_through_timebot_is_watched_without_a_vendor_sweep(world_factory) -> None:
    world = world_factory(EVENING - timedelta(hours=10, minutes=5), TIMEBOT_SESSION_SWEEP_MINUTES=100000)
    world.link("U0ADA", 1)
    world.services.hygiene.check()  # the first sweep: nothing running yet
    actor = world.services.people.actor("T0DEMO", "U0ADA")
    world.services.clock.clock_in(actor)
    world.clock.set(EVENING)
    assert world.services.hygiene.check() == 1


def test_shutting_down_during_a_sweep_ends_it_after_the_people_in_hand(world_factory) -> None:
    world = world_factory(EVENING)
    people = world.services.people
    for uid in range(100, 100 + 3 * SWEEP_CHUNK):  # three rounds of the sweep
        key = f"sweep-key-{uid:010d}"
        world.sim.add_user(uid, f"Person {uid}", f"p{uid}@example.com", api_key=key)
        world.services.store.save_identity(
            "T0DEMO",
            f"U0P{uid}",
            "timeclock",
            str(uid),
            secret_enc=people.box.encrypt(key),
            email=None,
            linked_by="self",
        )
    world.server.faults.latency = 0.3
    sweeping = threading.Thread(target=world.services.hygiene.check)
    sweeping.start()
    deadline = time.monotonic() + 5
    while not world.server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    world.services.hygiene.stop()
    sweeping.join(10)
    assert not sweeping.is_alive()
    reads = [r for r in world.server.requests if r.path == "/api/sessions"]
    assert 0 < len(reads) <= SWEEP_CHUNK


def test_a_sweep_waits_while_peoples_requests_are_being_worked_on(world_factory) -> None:
    world = world_factory(EVENING)
    world.link("U0ADA", 1)
    world.server.requests.clear()
    busy = threading.Event()
    world.services.pool.submit(busy.wait)  # someone's request, still at work
    sweeping = threading.Thread(target=world.services.hygiene.check)
    sweeping.start()
    time.sleep(1.0)
    assert not [r for r in world.server.requests if r.path == "/api/sessions"]
    busy.set()
    sweeping.join(10)
    assert [r for r in world.server.requests if r.path == "/api/sessions"]
