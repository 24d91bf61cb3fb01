"""What a person meets first: `/timebot status` and App Home say how they are known or what to do
next, for a PIN vendor (TimeClock) and an email-matched one (WhosOff); wording follows the kind of
leave and the kind of request. Real HTTP: Slack stand-in -> bot -> simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import start_digest_bot, user_id
from tests.conftest import BotUnderTest
from tests.support import leave_values, next_monday


@pytest.fixture
def wo_bot(tmp_path: Path, slack: SlackStandIn, wo_server: SimServer) -> Iterator[BotUnderTest]:
    bot = start_digest_bot(tmp_path, slack, wo_server)
    yield bot
    bot.close()


def status_text(bot: BotUnderTest, slack: SlackStandIn, user: str) -> str:
    _, key = bot.driver.command("/timebot", "status", user=user)
    return str(slack.wait_response(key)[-1]["text"])


def home(bot: BotUnderTest, slack: SlackStandIn, user: str) -> str:
    bot.driver.event({"type": "app_home_opened", "user": user, "tab": "home"})
    return json.dumps(slack.wait_call("views.publish")[-1].args["view"])


def stranger(slack: SlackStandIn) -> str:
    slack.add_user("U0NEW", "Nova Newcomer", "nova@elsewhere.example", "Europe/London")
    return "U0NEW"


# --- /timebot status -------------------------------------------------------------------------------


def test_status_on_an_email_vendor_says_who_the_person_is_matched_as(wo_bot: BotUnderTest, slack: SlackStandIn) -> None:
    text = status_text(wo_bot, slack, "U0ALAN")
    assert "Matched by email as Alan Turing in WhosOff" in text
    assert "Not linked" not in text


def test_status_on_an_email_vendor_tells_a_person_it_cannot_find_what_to_do(
    wo_bot: BotUnderTest, slack: SlackStandIn
) -> None:
    text = status_text(wo_bot, slack, stranger(slack))
    assert "couldn't find you in WhosOff" in text and "nova@elsewhere.example" in text
    assert "Ask a Timebot admin" in text


def test_status_on_timeclock_before_linking_says_how_to_link(bot: BotUnderTest, slack: SlackStandIn) -> None:
    text = status_text(bot, slack, "U0ALAN")
    assert "TimeClock: not linked yet. Type `/timebot link`" in text


# --- App Home ----------------------------------------------------------------------------------------


def test_home_for_an_unlinked_timeclock_person_offers_one_link_button_and_nothing_that_cannot_work(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    view = home(bot, slack, "U0ALAN")
    assert view.count("home_link") == 1
    assert "/timebot link" not in view
    assert "home_request_leave" not in view and "home_clock_in" not in view


def test_home_for_a_person_an_email_vendor_cannot_find_says_whom_to_ask_and_offers_no_buttons(
    wo_bot: BotUnderTest, slack: SlackStandIn
) -> None:
    view = home(wo_bot, slack, stranger(slack))
    assert "couldn't find you in WhosOff" in view
    assert "home_request_leave" not in view and "home_link" not in view


def test_home_for_a_person_matched_by_email_offers_request_leave(wo_bot: BotUnderTest, slack: SlackStandIn) -> None:
    view = home(wo_bot, slack, "U0ALAN")
    assert "home_request_leave" in view and "home_link" not in view


# --- wording ---------------------------------------------------------------------------------------


def test_a_sickness_request_is_confirmed_with_a_sickness_emoji(
    wo_bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    sickness = next(t.leave_type_id for t in wo_sim.leave_types.values() if t.name == "Sickness")
    monday = next_monday()
    wo_bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday, leave_type=str(sickness)))
    [dm] = slack.wait_for(
        lambda: [c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args["text"]]
    )
    assert dm.args["text"].startswith(":face_with_thermometer:") and ":palm_tree:" not in dm.args["text"]
    assert user_id(wo_sim, "ada@example.com") in {leave.user_id for leave in wo_sim.leave.values()}


def test_an_admin_linking_someone_sees_a_possessive(bot: BotUnderTest, slack: SlackStandIn) -> None:
    bot.driver.command("/timebot", "link <@U0ALAN>", user="U0GRACE")
    view = slack.wait_call("views.open")[0].args["view"]
    assert "Connect <@U0ALAN>'s TimeClock account." in json.dumps(view)


def test_whosoff_with_the_vendor_down_does_not_say_nothing_was_changed(
    wo_bot: BotUnderTest, slack: SlackStandIn, wo_server: SimServer
) -> None:
    wo_server.stop()
    _, key = wo_bot.driver.command("/whosoff", "week")
    text = slack.wait_response(key, timeout=20)[-1]["text"]
    assert "WhosOff isn't answering right now" in text and "Nothing was changed" not in text
