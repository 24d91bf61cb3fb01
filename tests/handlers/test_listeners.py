"""Listeners called directly, as Bolt calls them: a real ``Ack``, a real ``Respond`` posting to the
Slack stand-in's response_url, the bot's real client and services. No signed HTTP in between, so
each test is about one listener's own behaviour."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_bolt import Ack, Respond

from handlers import ids
from handlers.commands.clock import clockin
from handlers.commands.timebot import timebot
from handlers.commands.whosoff import whosoff
from handlers.views.leave import leave_submitted
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import BotUnderTest
from tests.e2e.test_core_bot import ada_pin, link
from tests.support import TEAM, Deliveries, leave_values


def command(name: str, text: str, key: str, slack: SlackStandIn) -> dict[str, Any]:
    return {
        "command": name,
        "text": text,
        "team_id": TEAM,
        "user_id": "U0ADA",
        "channel_id": "C0TEAM",
        "trigger_id": slack.issue_trigger(),
        "response_url": slack.response_url(key),
    }


def test_clockin_with_a_bad_project_name_answers_in_the_ack_and_queues_nothing(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    ack = Ack()
    services = bot.runtime.services
    clockin(
        ack,
        command("/clockin", "x" * 101, "bad", slack),
        Respond(response_url=slack.response_url("bad")),
        bot.runtime.client,
        services,
    )
    assert ack.response is not None and ack.response.status == 200
    assert "project name" in str(ack.response.body)
    assert services.pool.pending == 0
    assert slack.responses["bad"] == []


def test_clockin_acks_empty_then_answers_through_response_url(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    ack = Ack()
    clockin(
        ack,
        command("/clockin", "", "in", slack),
        Respond(response_url=slack.response_url("in")),
        bot.runtime.client,
        bot.runtime.services,
    )
    assert ack.response is not None and ack.response.body == ""
    answer = slack.wait_response("in")[-1]
    assert answer["response_type"] == "ephemeral"
    assert "clocked in" in answer["text"].lower()


def test_whosoff_refuses_a_period_it_cannot_read_in_the_ack(bot: BotUnderTest, slack: SlackStandIn) -> None:
    ack = Ack()
    whosoff(
        ack,
        command("/whosoff", "someday", "p", slack),
        Respond(response_url=slack.response_url("p")),
        bot.runtime.client,
        bot.runtime.services,
    )
    assert ack.response is not None and "someday" in str(ack.response.body)
    assert slack.responses["p"] == []


def test_an_unknown_timebot_subcommand_gets_the_help_in_the_ack(bot: BotUnderTest, slack: SlackStandIn) -> None:
    ack = Ack()
    timebot(
        ack,
        command("/timebot", "frobnicate", "h", slack),
        Respond(response_url=slack.response_url("h")),
        bot.runtime.client,
        bot.runtime.services,
    )
    assert ack.response is not None
    assert "I don't know `/timebot frobnicate`" in str(ack.response.body)


def test_a_leave_form_ending_before_it_starts_comes_back_as_a_field_error(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    body = Deliveries(slack).view_submission(ids.LEAVE_CALLBACK, leave_values(date(2099, 3, 10), date(2099, 3, 9)))
    view = body["view"]
    ack = Ack()
    leave_submitted(ack, body, view, bot.runtime.client, bot.runtime.services)
    assert ack.response is not None
    answer = json.loads(str(ack.response.body))
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {"end": "The last day is before the first day."}
    assert slack.calls_to("views.update") == []
