"""After the request: status news to the requester (poll and webhook), approvers' DMs updated in
place, exactly once across bot instances sharing one database, cancel, and balances. Everything
over real HTTP: the bot reached by signed Slack deliveries, WhosOff and TimeClock simulators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from sandbox.webhooks import WebhookSender
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import database, postgres_url, user_id, whosoff_vendor  # noqa: F401
from tests.bot.usecases.followup_support import WEBHOOK_SECRET, dms_to, followup, request_leave, whosoff_bot
from tests.conftest import BotUnderTest, make_settings, start_bot, timeclock_vendor
from tests.support import eventually, leave_values, next_monday


def test_an_approval_reaches_the_requester_once_and_updates_the_approvers_message(
    tmp_path: Path, slack: SlackStandIn, wo: WhosOffSim, wo_srv: SimServer
) -> None:
    bot = whosoff_bot(tmp_path, slack, wo_srv)
    try:
        leave_id = request_leave(bot, slack, wo)
        asked = slack.calls_to("chat.postMessage")
        ask = next(c for c in asked if c.args.get("channel") == "U0GRACE")
        assert "family trip" in json.dumps(ask.args["blocks"])
        assert any(e.get("url") for b in ask.args["blocks"] for e in b.get("elements", []) if isinstance(e, dict))
        wo.decide(leave_id, "approved", by=user_id(wo, "grace@example.com"))
        assert followup(bot).poll() == 1
        assert followup(bot).poll() == 0
        news = [t for t in dms_to(slack, "U0ADA") if "approved" in t]
        assert len(news) == 1
        updates = slack.calls_to("chat.update")
        assert len(updates) == 1 and "approved" in json.dumps(updates[0].args["blocks"])
    finally:
        bot.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_two_bots_on_one_database_announce_a_change_once(
    kind: str, tmp_path: Path, slack: SlackStandIn, wo: WhosOffSim, wo_srv: SimServer, request: pytest.FixtureRequest
) -> None:
    url = database(kind, tmp_path, request)
    first = whosoff_bot(tmp_path, slack, wo_srv, url)
    second = whosoff_bot(tmp_path, slack, wo_srv, url)
    try:
        leave_id = request_leave(first, slack, wo)
        wo.decide(leave_id, "denied")
        import threading

        results: list[int] = []
        threads = [threading.Thread(target=lambda b=b: results.append(followup(b).poll())) for b in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [0, 1]
        assert len([t for t in dms_to(slack, "U0ADA") if "declined" in t]) == 1
        assert len(slack.calls_to("chat.update")) == 1
    finally:
        first.close()
        second.close()


def test_a_decline_while_the_bot_was_stopped_is_announced_once_after_it_starts(
    tmp_path: Path, slack: SlackStandIn, wo: WhosOffSim, wo_srv: SimServer
) -> None:
    bot = whosoff_bot(tmp_path, slack, wo_srv)
    leave_id = request_leave(bot, slack, wo)
    bot.close()
    wo.decide(leave_id, "denied")
    settings = make_settings(tmp_path, slack, WHOSOFF_WEBHOOK_SECRET=WEBHOOK_SECRET)  # scheduler on: it catches up
    again = start_bot(settings, slack, {"whosoff": whosoff_vendor(wo_srv)})
    try:
        slack.wait_for(lambda: [t for t in dms_to(slack, "U0ADA") if "declined" in t])
        assert followup(again).poll() == 0
        assert len([t for t in dms_to(slack, "U0ADA") if "declined" in t]) == 1
    finally:
        again.close()


def test_a_signed_webhook_announces_at_once_and_a_forged_one_gets_401(
    tmp_path: Path, slack: SlackStandIn, wo: WhosOffSim, wo_srv: SimServer
) -> None:
    bot = whosoff_bot(tmp_path, slack, wo_srv)
    try:
        leave_id = request_leave(bot, slack, wo)
        forged = WebhookSender(f"{bot.url}/webhooks/whosoff", "not-the-secret")
        wo.webhook = forged
        wo.decide(leave_id, "approved")
        assert forged.answers == [401]
        unsigned = httpx.post(f"{bot.url}/webhooks/whosoff", json=forged.sent[0])
        assert unsigned.status_code == 401
        assert not [t for t in dms_to(slack, "U0ADA") if "approved" in t]
        wo.leave[leave_id].status_id = 1  # back to pending, then decided again, this time signed
        wo.webhook = WebhookSender(f"{bot.url}/webhooks/whosoff", WEBHOOK_SECRET)
        wo.decide(leave_id, "approved", by=user_id(wo, "grace@example.com"))
        assert wo.webhook.answers == [200]
        news = [t for t in dms_to(slack, "U0ADA") if "approved" in t]
        assert len(news) == 1 and "Grace Hopper" in news[0]
    finally:
        bot.close()


def test_whosoff_allowance_is_listed_as_the_vendor_states_it(
    tmp_path: Path, slack: SlackStandIn, wo: WhosOffSim, wo_srv: SimServer
) -> None:
    wo.set_allowance(user_id(wo, "ada@example.com"), 12.5)
    bot = whosoff_bot(tmp_path, slack, wo_srv)
    try:
        _, key = bot.driver.command("/timeoff", "list")
        reply = json.dumps(slack.wait_response(key)[-1])
        assert "Annual allowance: 12.5 days left" in reply
    finally:
        bot.close()


# --- TimeClock: cancel, and no balance --------------------------------------------------------


@pytest.fixture
def tc_bot(tmp_path: Path, slack: SlackStandIn, tc_server: SimServer) -> Iterator[BotUnderTest]:
    settings = make_settings(tmp_path, slack, TIMEBOT_SCHEDULER=False, TIMEBOT_LEAVE_APPROVERS="U0GRACE")
    bot = start_bot(settings, slack, {"timeclock": timeclock_vendor(tc_server.base_url)})
    yield bot
    bot.close()


def link_ada(bot: BotUnderTest, slack: SlackStandIn) -> None:
    people = bot.runtime.services.people
    people.link(people.actor("T0DEMO", "U0ADA"), "timeclock", {"pin": "1101"})


def cancel_button(slack: SlackStandIn, key: str) -> dict:
    blocks_ = slack.wait_response(key)[-1]["blocks"]
    return next(b["accessory"] for b in blocks_ if b.get("accessory", {}).get("action_id") == "leave_cancel")


def test_cancel_asks_first_deletes_once_on_a_double_click_and_the_list_updates(
    tc_bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link_ada(tc_bot, slack)
    monday = next_monday()
    off = tc_sim.add_off_time(1, monday, monday + timedelta(days=2))
    _, key = tc_bot.driver.command("/timeoff", "list")
    button = cancel_button(slack, key)
    assert button["confirm"]["confirm"]["text"] and json.loads(button["value"]) == {"id": str(off["id"])}
    for _ in range(2):  # a double click: two deliveries, two trigger ids
        tc_bot.driver.interaction(tc_bot.driver.make.click("leave_cancel", value=button["value"], container="message"))
    eventually(lambda: off["id"] not in tc_sim.off_times)
    eventually(lambda: len([a for a in tc_bot.runtime.services.store.audit_log() if a.action == "cancel_leave"]) >= 1)
    deletes = [r for r in tc_server.requests if r.method == "DELETE"]
    assert len(deletes) == 1
    _, key = tc_bot.driver.command("/timeoff", "list")
    assert "leave_cancel" not in json.dumps(slack.wait_response(key)[-1])


def test_a_forged_cancel_for_someone_elses_request_is_refused_and_audited(
    tc_bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link_ada(tc_bot, slack)
    monday = next_monday()
    theirs = tc_sim.add_off_time(2, monday, monday)  # Grace's
    tc_bot.driver.interaction(
        tc_bot.driver.make.click("leave_cancel", value=json.dumps({"id": str(theirs["id"])}), container="message")
    )
    audit = tc_bot.runtime.services.store
    eventually(lambda: any(a.action == "cancel_leave" and a.outcome == "refused" for a in audit.audit_log()))
    assert theirs["id"] in tc_sim.off_times
    assert not [r for r in tc_server.requests if r.method == "DELETE"]


def test_timeclock_approval_reaches_the_requester_and_no_balance_is_never_a_zero(
    tc_bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link_ada(tc_bot, slack)
    monday = next_monday()
    tc_bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday, leave_type="1"))
    slack.wait_for(lambda: dms_to(slack, "U0GRACE"))
    off_id = max(tc_sim.off_times)
    tc_sim.decide(off_id, 1)
    assert followup(tc_bot).poll() == 1
    assert len([t for t in dms_to(slack, "U0ADA") if "approved" in t]) == 1
    _, key = tc_bot.driver.command("/timeoff", "list")
    reply = json.dumps(slack.wait_response(key)[-1])
    assert "TimeClock keeps no leave balance" in reply and ": 0" not in reply
