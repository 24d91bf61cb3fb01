"""The bot against Slack's documented rules, as the stand-in holds them: forms corrected after a
field error, view hashes, single-use 3 s triggers, 5-post response_urls, 1/s per channel."""

from __future__ import annotations

import json
from datetime import timedelta

from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import BotUnderTest
from tests.e2e.test_core_bot import ada_pin, link
from tests.support import leave_values, next_monday, text_input

LINK_META = json.dumps({"vendor": "timeclock", "target": None})


def test_a_link_form_corrected_after_a_field_error_is_linked(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    view_id, view_hash = slack.open_view()
    first = bot.driver.submit_view(
        ids.LINK_CALLBACK, {"link_pin": text_input(None)}, private_metadata=LINK_META, view_id=view_id
    )
    assert first.json()["response_action"] == "errors"
    assert slack.views[view_id] == view_hash  # an errors ack leaves Slack's hash alone
    again = bot.driver.submit_view(
        ids.LINK_CALLBACK, {"link_pin": text_input(ada_pin(tc_sim))}, private_metadata=LINK_META, view_id=view_id
    )
    assert again.json()["response_action"] == "update"
    slack.wait_for(lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)])
    assert bot.runtime.services.store.identity("T0DEMO", "U0ADA", "timeclock") is not None


def test_a_leave_form_corrected_after_a_field_error_is_requested(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    view_id, _ = slack.open_view()
    wrong = bot.driver.submit_view(
        ids.LEAVE_CALLBACK, leave_values(monday, monday - timedelta(days=1)), view_id=view_id
    )
    assert wrong.json()["response_action"] == "errors"
    right = bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday), view_id=view_id)
    assert right.json()["response_action"] == "update"
    slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args["text"]])
    assert len(tc_sim.off_times) == 1


def test_the_same_submission_delivered_twice_links_once(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    payload = bot.driver.make.view_submission(
        ids.LINK_CALLBACK, {"link_pin": text_input(ada_pin(tc_sim))}, private_metadata=LINK_META
    )
    assert bot.driver.interaction(payload).json()["response_action"] == "update"
    assert bot.driver.interaction(payload).text == ""  # the repeat: acked, nothing done
    slack.wait_for(lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)])
    bot.runtime.services.pool.shutdown(wait=True)
    assert [r.path for r in tc_server.requests].count("/api/key") == 1
    assert len([c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)]) == 1


def test_the_leave_form_is_filled_in_against_the_hash_of_the_loading_view(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    bot.driver.command("/timeoff")
    [update] = slack.wait_call("views.update")
    assert update.args["view"]["callback_id"] == ids.LEAVE_CALLBACK
    opened = slack.calls_to("views.open")[0]
    assert update.args["hash"] != "" and update.args["view_id"] in slack.views
    assert opened.args["trigger_id"] not in slack.triggers  # spent


def test_a_late_trigger_is_answered_with_a_try_again(bot: BotUnderTest, slack: SlackStandIn) -> None:
    body, key = bot.driver.command_body("/timebot", "link")
    slack.advance(3.5)  # the request took longer than a trigger lives to reach the bot
    bot.driver.post(body, "application/x-www-form-urlencoded")
    assert "try again" in slack.wait_response(key)[-1]["text"]
    assert len(slack.calls_to("views.open")) == 1 and not slack.calls_to("views.update")


def test_a_used_up_response_url_falls_back_to_a_dm(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    body, key = bot.driver.command_body("/clockin")
    slack.responses[key].extend({"text": f"earlier {n}"} for n in range(slack.rules.response_url_posts))
    bot.driver.post(body, "application/x-www-form-urlencoded")
    dm = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0ADA"])
    assert "Clocked in" in dm[0].args["text"]
    assert len(slack.responses[key]) == slack.rules.response_url_posts


def test_dms_beyond_slacks_burst_wait_for_retry_after_and_all_land(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    slack.rules.post_burst = 1
    for _ in range(2):
        bot.driver.click("home_clock_in")  # Home buttons answer by DM, to one channel
    slack.wait_for(
        lambda: len([c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0ADA"]) >= 2, timeout=20
    )
    assert slack.calls_to("chat.postMessage#429")
