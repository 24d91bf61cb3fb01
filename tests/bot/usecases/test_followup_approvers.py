"""Who is asked about a request and how often: a Slack user group as the approvers, and the daily
reminder of requests still pending. TimeClock names no approver, so ``TIMEBOT_LEAVE_APPROVERS``
decides; the bot, the TimeClock simulator and the Slack stand-in share one clock the test moves."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers import ids
from tests.bot.usecases.hygiene_support import World
from tests.support import eventually, leave_values, next_monday

ASKED = "Leave request from <@U0ADA>"
REMINDER = "still wait for your decision"


def request_leave(world: World, weeks_ahead: int = 3) -> None:
    monday = next_monday() + timedelta(weeks=weeks_ahead)
    world.link("U0ADA", 1)
    world.bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday, leave_type="1"))


def texts(world: World, user: str) -> list[str]:
    return [str(c.args.get("text")) for c in world.dms(user)]


def test_each_member_of_a_user_group_named_as_approvers_is_asked(world_factory: Any) -> None:
    world = world_factory(datetime.now(UTC), TIMEBOT_LEAVE_APPROVERS="@leave-approvers")
    world.slack.add_usergroup("S0LEAVE", "leave-approvers", ["U0GRACE", "U0KATH", "U0ADA"])
    request_leave(world)
    world.slack.wait_for(
        lambda: [t for t in texts(world, "U0KATH") if ASKED in t] and [t for t in texts(world, "U0GRACE") if ASKED in t]
    )
    assert [t for t in texts(world, "U0GRACE") if ASKED in t] == [t for t in texts(world, "U0KATH") if ASKED in t]
    assert len([t for t in texts(world, "U0GRACE") if ASKED in t]) == 1
    assert not [t for t in texts(world, "U0ADA") if ASKED in t]  # in the group, yet never asked about her own
    assert world.slack.calls_to("usergroups.users.list")[0].args["usergroup"] == "S0LEAVE"


def test_a_request_pending_past_the_setting_is_in_one_reminder_per_approver_a_day(world_factory: Any) -> None:
    asked_at = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    world = world_factory(asked_at, TIMEBOT_LEAVE_APPROVERS="U0GRACE,U0KATH", TIMEBOT_APPROVAL_REMIND_HOURS=24)
    request_leave(world)
    followup = world.services.followup
    eventually(lambda: len([r for r in followup.store.open_requests() if r.approver_dms.count(":") == 2]) == 1)
    row = followup.store.open_requests()[0]
    approver_channels = {item.partition(":")[0] for item in row.approver_dms.split(",")}
    assert len(approver_channels) == 2

    def reminders() -> Counter[str]:
        return Counter(
            str(c.args["channel"])
            for c in world.slack.calls_to("chat.postMessage")
            if REMINDER in str(c.args.get("text"))
        )

    world.clock.set(asked_at + timedelta(hours=23))  # pending, but not yet for 24 h
    assert followup.remind() == 0
    world.clock.set(asked_at + timedelta(hours=25))
    assert followup.remind() == 2
    world.clock.set(asked_at + timedelta(hours=30))  # the same day again
    assert followup.remind() == 0
    assert reminders() == Counter({channel: 1 for channel in approver_channels})
    world.clock.set(asked_at + timedelta(hours=49))  # the next day, still pending
    assert followup.remind() == 2
    assert reminders() == Counter({channel: 2 for channel in approver_channels})
    reminder = next(c for c in world.slack.calls_to("chat.postMessage") if REMINDER in str(c.args.get("text")))
    assert "<@U0ADA>" in str(reminder.args["blocks"])
