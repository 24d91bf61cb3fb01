"""Clicks, modal submissions and events from another workspace reach no listener: Slack gets its
200 carrying the one line (shown where Slack shows an ack's text), nothing is published, read or
stored. (Commands, answered on their response_url, through the real process: tests/deploy.)"""

from __future__ import annotations

import json
from typing import Any

from bot.slack.bolt import FOREIGN_WORKSPACE
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from storage.models import Person
from tests.conftest import BotUnderTest
from tests.support import text_input

OTHER_TEAM = "T9"


def from_other_team(payload: dict[str, Any]) -> dict[str, Any]:
    payload["team"] = {"id": OTHER_TEAM, "domain": "elsewhere"}
    payload["user"]["team_id"] = OTHER_TEAM
    return payload


def people_rows(bot: BotUnderTest) -> int:
    from sqlmodel import Session, select

    with Session(bot.runtime.engine) as s:
        return len(s.exec(select(Person)).all())


def test_an_event_from_another_workspace_publishes_nothing(bot: BotUnderTest, slack: SlackStandIn) -> None:
    body = bot.driver.make.event_callback({"type": "app_home_opened", "user": "U0ADA", "tab": "home"})
    body["team_id"] = OTHER_TEAM
    response = bot.driver.post(json.dumps(body), "application/json")
    assert (response.status_code, response.text) == (200, FOREIGN_WORKSPACE)
    assert slack.calls_to("views.publish") == [] and slack.calls_to("users.info") == []
    assert people_rows(bot) == 0


def test_a_click_from_another_workspace_reaches_no_listener(bot: BotUnderTest, slack: SlackStandIn) -> None:
    response = bot.driver.interaction(from_other_team(bot.driver.make.click("home_link")))
    assert (response.status_code, response.text) == (200, FOREIGN_WORKSPACE)
    assert slack.calls_to("views.open") == [] and slack.calls_to("users.info") == []
    assert people_rows(bot) == 0


def test_a_modal_submission_from_another_workspace_links_nobody(
    bot: BotUnderTest, slack: SlackStandIn, tc_server: SimServer
) -> None:
    from handlers import ids

    meta = json.dumps({"vendor": "timeclock", "target": None})
    payload = from_other_team(
        bot.driver.make.view_submission(ids.LINK_CALLBACK, {"link_pin": text_input("1101")}, private_metadata=meta)
    )
    payload["view"]["team_id"] = OTHER_TEAM
    response = bot.driver.interaction(payload)
    assert (response.status_code, response.text) == (200, FOREIGN_WORKSPACE)
    assert tc_server.requests == [] and slack.calls_to("views.update") == []
    assert people_rows(bot) == 0
