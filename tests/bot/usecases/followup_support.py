"""The leave follow-up tests' WhosOff world: a company whose Ada asks Grace (her ``approver_id``)
for an approval-requiring leave type, its simulator over HTTP, and a bot on it (no scheduler)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.usecases.followup import LeaveFollowup
from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import company, user_id, whosoff_vendor
from tests.conftest import BotUnderTest, make_settings, start_bot
from tests.support import eventually, leave_values, next_monday

WEBHOOK_SECRET = "whosoff-webhook-secret"


def dms_to(slack: SlackStandIn, user: str) -> list[str]:
    return [str(c.args.get("text")) for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


def followup(bot: BotUnderTest) -> LeaveFollowup:
    assert bot.runtime.services.followup is not None
    return bot.runtime.services.followup


@pytest.fixture
def wo() -> WhosOffSim:
    sim = company()
    grace = user_id(sim, "grace@example.com")
    sim.users[user_id(sim, "ada@example.com")].approver_id = grace
    sim.leave_types[next(iter(sim.leave_types))].requires_approval = True
    return sim


@pytest.fixture
def wo_srv(wo: WhosOffSim) -> Iterator[SimServer]:
    with SimServer(wo.handle, name="whosoff") as server:
        yield server


def whosoff_bot(tmp_path: Path, slack: SlackStandIn, server: SimServer, url: str | None = None) -> BotUnderTest:
    settings = make_settings(
        tmp_path,
        slack,
        WHOSOFF_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TIMEBOT_SCHEDULER=False,
        **({"DATABASE_URL": url} if url else {}),
    )
    return start_bot(settings, slack, {"whosoff": whosoff_vendor(server)})


def request_leave(bot: BotUnderTest, slack: SlackStandIn, wo: WhosOffSim, weeks_ahead: int = 0) -> int:
    monday = next_monday() + timedelta(weeks=weeks_ahead)
    before = set(wo.leave)
    bot.driver.submit_view(
        ids.LEAVE_CALLBACK,
        leave_values(
            monday, monday + timedelta(days=1), leave_type=str(next(iter(wo.leave_types))), note="family trip"
        ),
    )
    eventually(lambda: len(set(wo.leave) - before) == 1)
    leave_id = (set(wo.leave) - before).pop()
    store = followup(bot).store
    eventually(lambda: bool((row := store.tracked("whosoff", str(leave_id))) and row.approver_dms))
    return leave_id
