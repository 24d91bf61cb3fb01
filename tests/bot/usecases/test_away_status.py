"""Leave in the Slack status: set when the leave starts in the person's zone, the previous status
restored when it ends or is cancelled, a status the person changed left alone, a revoked token
turning the feature off. Time moves by the clock the bot and the Slack stand-in share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.bot.usecases.away_status_support import (
    ADA,
    MONDAY,
    StatusWorld,
    at,
    book_leave,
    consent,
    dms_to,
    london,
    start_world,
    status_sets,
)
from tests.bot.usecases.test_followup import cancel_button
from tests.support import eventually

TUESDAY, WEDNESDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)


@pytest.fixture
def world(tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer) -> Iterator[StatusWorld]:
    w = start_world(tmp_path, slack, tc_sim, tc_server)
    slack.user_side.set_status(ADA, "Working from home", ":house:")
    assert consent(w).status_code == 200
    yield w
    w.close()


def ada_status(world: StatusWorld) -> tuple[str, str]:
    current = world.slack.user_side.status(ADA)
    return current.text, current.emoji


def test_leave_mon_tue_is_set_monday_midnight_and_restored_wednesday_midnight(world: StatusWorld) -> None:
    book_leave(world, MONDAY, TUESDAY)
    at(world, london(MONDAY) - timedelta(minutes=1))
    assert status_sets(world.slack) == []
    at(world, london(MONDAY))
    assert status_sets(world.slack) == [
        {
            "status_text": "On leave · back Wed 9 Dec",
            "status_emoji": ":palm_tree:",
            "status_expiration": int(london(WEDNESDAY).timestamp()),
        }
    ]
    at(world, london(TUESDAY, 9))
    assert len(status_sets(world.slack)) == 1
    at(world, london(WEDNESDAY))
    assert status_sets(world.slack)[-1] == {
        "status_text": "Working from home",
        "status_emoji": ":house:",
        "status_expiration": 0,
    }
    assert ada_status(world) == ("Working from home", ":house:")


def test_a_status_the_person_changed_on_tuesday_is_left_alone_on_wednesday(world: StatusWorld) -> None:
    book_leave(world, MONDAY, TUESDAY)
    at(world, london(MONDAY))
    world.slack.user_side.set_status(ADA, "Lisbon!", ":airplane:")
    at(world, london(WEDNESDAY))
    assert len(status_sets(world.slack)) == 1
    assert ada_status(world) == ("Lisbon!", ":airplane:")


def delete_at_timeclock(world: StatusWorld, off_id: int) -> None:
    """Ada cancels in TimeClock itself: DELETE /api/off-times/{id}, as the person."""
    gone = httpx.delete(
        f"{world.sim_server.base_url}/api/off-times/{off_id}", headers={"Authorization": world.sim.sign(1)}
    )
    assert gone.status_code == 204


def test_a_leave_deleted_at_the_vendor_is_noticed_by_the_job_and_the_previous_status_restored(
    world: StatusWorld,
) -> None:
    off_id = book_leave(world, MONDAY, TUESDAY)
    at(world, london(MONDAY))
    delete_at_timeclock(world, off_id)
    at(world, london(MONDAY, 10))
    assert ada_status(world) == ("Working from home", ":house:")
    at(world, london(WEDNESDAY))
    assert len(status_sets(world.slack)) == 2


def test_leave_changed_restores_the_previous_status_at_once_without_waiting_for_the_job(world: StatusWorld) -> None:
    off_id = book_leave(world, MONDAY, TUESDAY)
    at(world, london(MONDAY))
    delete_at_timeclock(world, off_id)
    world.clock.set(london(MONDAY, 0, 1))  # the job would not read TimeClock again for minutes
    world.status.leave_changed("T0DEMO", ADA)  # what a cancel in Slack calls
    assert ada_status(world) == ("Working from home", ":house:")


def test_cancelling_the_leave_with_its_cancel_button_restores_the_previous_status_at_once(world: StatusWorld) -> None:
    off_id = book_leave(world, MONDAY, TUESDAY)
    at(world, london(MONDAY))
    assert status_sets(world.slack)[-1]["status_emoji"] == ":palm_tree:", status_sets(world.slack)
    driver = world.bot.driver
    _, key = driver.command("/timeoff", "list", user=ADA)
    button = cancel_button(world.slack, key)
    driver.interaction(driver.make.click("leave_cancel", user=ADA, value=button["value"], container="message"))
    eventually(lambda: off_id not in world.sim.off_times)  # the real Cancel: TimeClock deleted it
    eventually(lambda: ada_status(world) == ("Working from home", ":house:"))  # no job run, no time passed
    assert len(status_sets(world.slack)) == 2


def test_half_days_show_only_for_that_half() -> None:
    from zoneinfo import ZoneInfo

    from bot.domain import Absence, Portion
    from bot.usecases.away_status import window

    zone = ZoneInfo("Europe/London")
    assert window(Absence("1", MONDAY, MONDAY, Portion.AM, Portion.AM), zone) == (london(MONDAY), london(MONDAY, 12))
    assert window(Absence("1", MONDAY, MONDAY, Portion.PM, Portion.PM), zone) == (london(MONDAY, 12), london(TUESDAY))
    assert window(Absence("1", MONDAY, TUESDAY, Portion.PM, Portion.AM), zone) == (
        london(MONDAY, 12),
        london(TUESDAY, 12),
    )


def test_a_status_missed_while_the_bot_was_down_is_set_when_it_starts(world: StatusWorld) -> None:
    book_leave(world, MONDAY, TUESDAY)
    at(world, london(TUESDAY, 10))  # first look since Sunday: the leave is still on
    assert status_sets(world.slack)[0]["status_text"] == "On leave · back Wed 9 Dec"


def test_a_revoked_token_turns_the_feature_off_and_the_person_is_told_once(world: StatusWorld) -> None:
    book_leave(world, MONDAY, TUESDAY)
    world.slack.user_side.revoke(ADA)
    at(world, london(MONDAY))
    at(world, london(MONDAY, 12))
    assert world.status.connected("T0DEMO", ADA) == "revoked"
    world.bot.driver.event({"type": "tokens_revoked", "tokens": {"oauth": [ADA], "bot": []}})
    world.bot.driver.event({"type": "tokens_revoked", "tokens": {"oauth": [ADA], "bot": []}})
    at(world, london(TUESDAY))
    assert len(dms_to(world.slack, ADA, "revoked")) == 1
    assert status_sets(world.slack) == []


def test_the_tokens_revoked_event_turns_it_off_and_tells_the_person_once(world: StatusWorld) -> None:
    for _ in range(2):
        world.bot.driver.event({"type": "tokens_revoked", "tokens": {"oauth": [ADA], "bot": []}})
    world.slack.wait_call("chat.postMessage")
    assert world.status.connected("T0DEMO", ADA) == "revoked"
    assert len(dms_to(world.slack, ADA, "revoked")) == 1


def test_the_stand_in_refuses_a_bot_token_where_a_user_token_is_required(slack: SlackStandIn) -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    with pytest.raises(SlackApiError) as refused:
        WebClient(token=slack.bot_token, base_url=slack.api_url).users_profile_set(profile={"status_text": "x"})
    assert refused.value.response["error"] == "not_allowed_token_type"
