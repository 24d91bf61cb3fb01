"""One decision, one DM, never two: two real ``timebot leave poll`` processes on one database,
started at the same instant against the same WhosOff simulator and Slack stand-in, both see the
decisions; the claim in the database lets one of them tell the requester and update the approver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import database, postgres_url, process_env, run_together, user_id  # noqa: F401
from tests.bot.usecases.followup_support import dms_to, request_leave, whosoff_bot

DECISIONS = {0: "approved", 1: "denied", 2: "approved"}  # weeks ahead → what Grace decides
WORDS = {"approved": "approved", "denied": "declined"}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_two_poll_processes_tell_each_requester_once_and_update_each_approver_message_once(
    kind: str, tmp_path: Path, slack: SlackStandIn, wo: WhosOffSim, wo_srv: SimServer, request: pytest.FixtureRequest
) -> None:
    url = database(kind, tmp_path, request)
    bot = whosoff_bot(tmp_path, slack, wo_srv, url)  # each request, made through Timebot, asks Grace
    try:
        leave_ids = {weeks: request_leave(bot, slack, wo, weeks) for weeks in DECISIONS}
    finally:
        bot.close()
    assert len(dms_to(slack, "U0GRACE")) == len(DECISIONS)
    for weeks, status in DECISIONS.items():
        wo.decide(leave_ids[weeks], status, by=user_id(wo, "grace@example.com"))
    # Each vendor call takes 0.2 s: both processes read the open requests before either has told
    # anyone, and each announcement (who else is off, for the approver's message) keeps the other
    # process's list stale for the requests after it. Only the claims keep the DMs single.
    wo_srv.faults.latency = 0.2

    env = process_env(slack, wo_srv, url, tmp_path)
    polls = run_together(["leave", "poll"], env, tmp_path)
    counts = [int(p.proc.stdout.read().strip().rpartition(" ")[2]) for p in polls if p.proc.stdout]
    assert sum(counts) == len(DECISIONS)

    news = dms_to(slack, "U0ADA")
    for status in set(DECISIONS.values()):
        expected = list(DECISIONS.values()).count(status)
        assert len([t for t in news if f"*{WORDS[status]}*" in t]) == expected, news
    updates = slack.calls_to("chat.update")
    assert len(updates) == len(DECISIONS)
    assert len({(u.args["channel"], u.args["ts"]) for u in updates}) == len(DECISIONS)
    shown = [json.dumps(u.args["blocks"]) for u in updates]
    assert len([b for b in shown if "approved" in b]) == 2 and len([b for b in shown if "declined" in b]) == 1
