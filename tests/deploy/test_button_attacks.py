"""Buttons pressed where they shouldn't act, through ``timebot run`` on TimeClock: Cancel on leave
already taken (an old list keeps its buttons), Cancel of approved leave, and a "Clock in" click
that names a message the bot never sent the clicker (a forged, signed payload)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.attacks import base_env, clean_log, dm_texts, payload_with_reply
from tests.deploy.harness import Deployed, start
from tests.deploy.stand_ins import one_deployment_per_module
from tests.support import next_monday, text_input

ADA = 1  # Ada's TimeClock user id in the demo company


# One deployment for the module, Ada linked once (a process start is most of each test's time);
# each test works on its own off-time and its own reply.


module_tmp_path, module_slack = one_deployment_per_module("buttons")


@pytest.fixture(scope="module")
def tc() -> TimeClockSim:
    return TimeClockSim.demo()


@pytest.fixture(scope="module")
def tc_server(tc: TimeClockSim) -> Iterator[SimServer]:
    server = SimServer(tc.handle, name="timeclock").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bot(tmp_path: Path, slack: SlackStandIn, tc: TimeClockSim, tc_server: SimServer) -> Iterator[Deployed]:
    deployed = start(
        base_env(
            slack,
            tmp_path,
            Fernet.generate_key().decode(),
            TIMECLOCK_BASE_URL=tc_server.base_url,
            TIMEBOT_LEAVE_APPROVERS="U0GRACE",
        ),
        tmp_path,
    )
    link_ada(deployed, slack, tc)
    yield deployed
    deployed.terminate()


def link_ada(bot: Deployed, slack: SlackStandIn, tc: TimeClockSim) -> None:
    """Ada types her PIN into the link form, as a person would."""
    meta = json.dumps({"vendor": "timeclock", "target": None})
    response = bot.driver(slack).submit_view(
        ids.LINK_CALLBACK, {"link_pin": text_input(f"1{tc.users[ADA].pin}")}, private_metadata=meta
    )
    assert response.status_code == 200
    slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)], timeout=20
    )


def click(bot: Deployed, slack: SlackStandIn, payload: dict[str, Any], key: str) -> str:
    """Deliver a signed click whose reply goes to the response_url ``key``; the reply's text."""
    assert bot.driver(slack).interaction(payload_with_reply(slack, payload, key)).status_code == 200
    return json.dumps(slack.wait_response(key, timeout=20)[-1])


def cancel(bot: Deployed, slack: SlackStandIn, off_id: int, key: str) -> str:
    payload = bot.driver(slack).make.click("leave_cancel", value=json.dumps({"id": str(off_id)}), container="message")
    return click(bot, slack, payload, key)


def test_cancel_refuses_leave_that_has_already_ended(
    bot: Deployed, slack: SlackStandIn, tc: TimeClockSim, tc_server: SimServer
) -> None:
    today = date.today()
    taken = tc.add_off_time(ADA, today - timedelta(days=7), today - timedelta(days=5))
    tc.decide(taken["id"], 1)
    reply = cancel(bot, slack, taken["id"], "past")
    assert "can't be cancelled" in reply
    assert taken["id"] in tc.off_times
    assert not [r for r in tc_server.requests if r.method == "DELETE" and r.path.endswith(f"/{taken['id']}")]
    clean_log(bot)


def test_cancel_of_approved_future_leave_withdraws_it_and_tells_the_approver(
    bot: Deployed, slack: SlackStandIn, tc: TimeClockSim
) -> None:
    monday = next_monday()
    planned = tc.add_off_time(ADA, monday, monday + timedelta(days=1))
    tc.decide(planned["id"], 1)
    reply = cancel(bot, slack, planned["id"], "future")
    assert "Cancelled your" in reply and "approver will be told" in reply
    assert planned["id"] not in tc.off_times
    assert [t for t in dm_texts(slack, "U0GRACE") if "cancelled" in t and "U0ADA" in t]


def test_cancel_of_pending_leave_says_nothing_about_an_approver(
    bot: Deployed, slack: SlackStandIn, tc: TimeClockSim
) -> None:
    monday = next_monday()
    pending = tc.add_off_time(ADA, monday, monday)
    reply = cancel(bot, slack, pending["id"], "pending")
    assert "Cancelled your" in reply and "approver" not in reply
    assert pending["id"] not in tc.off_times


def test_a_clock_in_click_on_a_message_that_is_no_nudge_of_theirs_does_nothing(
    bot: Deployed, slack: SlackStandIn, tc: TimeClockSim
) -> None:
    payload = bot.driver(slack).make.click(ids.NUDGE_CLOCK_IN, container="message")
    payload["container"] = {"type": "message", "channel_id": "C0TEAM", "message_ts": "1700000000.000100"}
    assert bot.driver(slack).interaction(payload).status_code == 200
    slack.wait_for(
        lambda: (
            [t for t in dm_texts(slack, "U0ADA") if "isn't on a clock-in reminder" in t]
            or slack.calls_to("chat.update")
        ),
        timeout=20,
    )
    assert [c for c in slack.calls_to("chat.update") if c.args.get("channel") == "C0TEAM"] == []
    assert not tc.running_sessions(ADA)
    clean_log(bot)
