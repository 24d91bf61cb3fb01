"""The core bot against TimeClock, end to end over real HTTP: Slack stand-in -> bot -> simulator."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot import formatting as fmt
from bot.crypto import SecretBox
from bot.errors import UserError
from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import BotUnderTest, make_settings, start_bot, timeclock_vendor
from tests.support import eventually, leave_values, next_monday, text_input, timepicker


def link(bot: BotUnderTest, user: str, pin: str) -> None:
    services = bot.runtime.services
    services.people.link(services.people.actor("T0DEMO", user), "timeclock", {"pin": pin})


def ada_pin(sim: TimeClockSim) -> str:
    return f"1{sim.users[1].pin}"


def last_text(slack: SlackStandIn, key: str, count: int = 1) -> str:
    return slack.wait_response(key, count)[-1]["text"]


# --- linking ---------------------------------------------------------------------------------


def test_link_opens_a_modal_asking_for_the_timeclock_pin(bot: BotUnderTest, slack: SlackStandIn) -> None:
    response, _ = bot.driver.command("/timebot", "link")
    assert response.status_code == 200
    view = slack.wait_call("views.open")[0].args["view"]
    assert view["callback_id"] == ids.LINK_CALLBACK
    assert [b.get("block_id") for b in view["blocks"] if b["type"] == "input"] == ["link_pin"]


def test_submitting_the_pin_links_the_person_and_stores_the_key_encrypted(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tmp_path: Path
) -> None:
    meta = json.dumps({"vendor": "timeclock", "target": None})
    response = bot.driver.submit_view(
        ids.LINK_CALLBACK, {"link_pin": text_input(ada_pin(tc_sim))}, private_metadata=meta
    )
    assert response.status_code == 200
    assert json.loads(response.text)["response_action"] == "update"
    done = slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)]
    )
    assert f"linked to TimeClock as {tc_sim.users[1].name} (user 1)" in json.dumps(done[0].args)
    identity = bot.runtime.services.store.identity("T0DEMO", "U0ADA", "timeclock")
    assert identity is not None and identity.vendor_user_id == "1"
    raw = Path(tmp_path / "timebot.db").read_bytes()
    assert tc_sim.users[1].api_key.encode() not in raw
    with sqlite3.connect(tmp_path / "timebot.db") as db:
        stored = db.execute("select secret_enc from identity").fetchone()[0]
    assert tc_sim.users[1].api_key not in stored


def test_a_timeclock_account_someone_else_linked_cannot_be_linked_again(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    meta = json.dumps({"vendor": "timeclock", "target": None})
    bot.driver.submit_view(
        ids.LINK_CALLBACK, {"link_pin": text_input(ada_pin(tc_sim))}, user="U0ALAN", private_metadata=meta
    )
    update = slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update") if "already linked to Ada Lovelace" in json.dumps(c.args)]
    )
    assert update[0].args["view"]["callback_id"] == ids.LINK_CALLBACK
    assert bot.runtime.services.store.identity("T0DEMO", "U0ALAN", "timeclock") is None


def test_two_people_linking_one_timeclock_account_at_the_same_moment_leaves_it_with_one_of_them(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer, tmp_path: Path
) -> None:
    """Forced interleaving: both pass the "already linked?" check while another connection holds
    the write lock, then both write; the database's unique rule decides."""
    tc_server.faults.latency = 0.5
    meta = json.dumps({"vendor": "timeclock", "target": None})
    for user, view in (("U0ADA", "V0LINKA"), ("U0ALAN", "V0LINKB")):
        bot.driver.submit_view(
            ids.LINK_CALLBACK,
            {"link_pin": text_input(ada_pin(tc_sim))},
            user=user,
            private_metadata=meta,
            view_id=view,
        )
    arrived = lambda path: sum(r.path == path for r in tc_server.requests)  # noqa: E731
    eventually(lambda: arrived("/api/key") == 2)
    holder = sqlite3.connect(tmp_path / "timebot.db", isolation_level=None, timeout=5)
    holder.execute("BEGIN IMMEDIATE")
    try:
        eventually(lambda: arrived("/api/profile") == 2)
        time.sleep(0.5)  # both have checked and now wait to write
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    def outcomes() -> list[str]:
        return [s for s in (json.dumps(c.args) for c in slack.calls_to("views.update")) if "inked" in s]

    said = slack.wait_for(lambda: outcomes() if len(outcomes()) >= 2 else [])
    store = bot.runtime.services.store
    holders = [u for u in ("U0ADA", "U0ALAN") if store.identity("T0DEMO", u, "timeclock") is not None]
    assert len(holders) == 1
    assert sum("already linked to" in s for s in said) == 1


def test_a_timeclock_account_linked_in_one_workspace_cannot_be_linked_from_another(
    bot: BotUnderTest, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    usecases = bot.runtime.services.people
    with pytest.raises(UserError, match="already linked to Ada Lovelace"):
        usecases.link(usecases.actor("T0OTHER", "U0ALAN"), "timeclock", {"pin": ada_pin(tc_sim)})
    usecases.link(usecases.actor("T0OTHER", "U0ADA"), "timeclock", {"pin": ada_pin(tc_sim)})  # Grid: still Ada


def test_an_admin_linking_someone_by_id_on_timeclock_is_told_to_use_the_pin_form(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    _, key = bot.driver.command("/timebot", "link <@U0ALAN|alan> 3", user="U0GRACE")
    text = slack.wait_response(key)[-1]["text"]
    assert "TimeClock needs the person's own key: use `/timebot link @person`" in text


def test_an_empty_pin_is_a_field_error_on_the_pin(bot: BotUnderTest, tc_server: SimServer) -> None:
    meta = json.dumps({"vendor": "timeclock", "target": None})
    response = bot.driver.submit_view(ids.LINK_CALLBACK, {"link_pin": text_input(None)}, private_metadata=meta)
    assert response.json() == {"response_action": "errors", "errors": {"link_pin": "Enter your TimeClock PIN."}}
    assert not tc_server.requests


def test_a_wrong_pin_shows_the_form_again_with_the_reason(bot: BotUnderTest, slack: SlackStandIn) -> None:
    meta = json.dumps({"vendor": "timeclock", "target": None})
    bot.driver.submit_view(ids.LINK_CALLBACK, {"link_pin": text_input("1999")}, private_metadata=meta)
    update = slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update") if "didn't accept that PIN" in json.dumps(c.args)]
    )
    assert update[0].args["view"]["callback_id"] == ids.LINK_CALLBACK
    assert bot.runtime.services.store.identity("T0DEMO", "U0ADA", "timeclock") is None


def test_an_unlinked_person_is_told_how_to_link(bot: BotUnderTest, slack: SlackStandIn) -> None:
    _, key = bot.driver.command("/clockin")
    assert "/timebot link" in last_text(slack, key)


# --- clocking in and out -------------------------------------------------------------------


def test_clockin_is_acked_fast_even_when_timeclock_takes_five_seconds(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    tc_server.faults.latency = 5.0
    started = time.monotonic()
    response, key = bot.driver.command("/clockin")
    acked_in = time.monotonic() - started
    assert response.status_code == 200
    assert acked_in < 3.0
    replies = slack.wait_for(lambda: [r for r in slack.responses[key] if "Clocked in" in r["text"]], timeout=30)
    assert replies
    posts = [r for r in tc_server.requests if r.method == "POST" and r.path == "/api/sessions"]
    assert len(posts) == 1
    assert tc_sim.rejected_auth == 0
    assert len(tc_sim.running_sessions(1)) == 1


def test_a_slow_vendor_gets_a_holding_message_before_the_result(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    tc_server.faults.latency = 2.0
    _, key = bot.driver.command("/clockin")
    texts = [r["text"] for r in slack.wait_response(key, 2, timeout=20)]
    assert "slow to answer" in texts[0]
    assert "Clocked in" in texts[1]


def test_a_retried_delivery_creates_no_second_session(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    body, key = bot.driver.command_body("/clockin")
    first = bot.driver.post(body, "application/x-www-form-urlencoded")
    retry = bot.driver.post(
        body,
        "application/x-www-form-urlencoded",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status_code == retry.status_code == 200
    slack.wait_response(key)
    time.sleep(0.5)
    assert len([r for r in tc_server.requests if r.method == "POST" and r.path == "/api/sessions"]) == 1
    assert len(tc_sim.running_sessions(1)) == 1


def test_a_retry_delivered_to_another_bot_process_on_the_same_database_creates_no_second_session(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    other = start_bot(bot.runtime.settings, slack, {"timeclock": timeclock_vendor(tc_server.base_url)})
    try:
        body, key = bot.driver.command_body("/clockin")
        first = bot.driver.post(body, "application/x-www-form-urlencoded")
        retry = other.driver.post(body, "application/x-www-form-urlencoded", headers={"X-Slack-Retry-Num": "1"})
        assert first.status_code == retry.status_code == 200
        slack.wait_response(key)
        time.sleep(0.5)
    finally:
        other.close()
    assert len([r for r in tc_server.requests if r.method == "POST" and r.path == "/api/sessions"]) == 1
    assert len(tc_sim.running_sessions(1)) == 1
    assert len(slack.responses[key]) == 1


@contextmanager
def busy_process(
    bot: BotUnderTest, slack: SlackStandIn, tc_server: SimServer
) -> Iterator[tuple[BotUnderTest, threading.Event]]:
    """A second bot process on the same database whose only worker is taken until the event is set;
    its slow notice comes after 0.3 s."""
    settings = bot.runtime.settings.model_copy(update={"workers": 1, "slow_notice_seconds": 0.3})
    busy = start_bot(settings, slack, {"timeclock": timeclock_vendor(tc_server.base_url)})
    gate = threading.Event()
    busy.runtime.services.pool.submit(gate.wait)
    try:
        yield busy, gate
    finally:
        gate.set()
        busy.close()


def test_a_retry_queued_behind_a_busy_process_gets_no_slow_notice_of_its_own(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    with busy_process(bot, slack, tc_server) as (busy, gate):
        body, key = bot.driver.command_body("/clockin")
        bot.driver.post(body, "application/x-www-form-urlencoded")
        slack.wait_response(key)
        busy.driver.post(body, "application/x-www-form-urlencoded", headers={"X-Slack-Retry-Num": "1"})
        time.sleep(1.0)  # well past the busy process's slow-notice time
        gate.set()
        time.sleep(0.5)
    assert [r["text"] for r in slack.responses[key] if "slow" in r["text"]] == []
    assert len(slack.responses[key]) == 1
    assert len(tc_sim.running_sessions(1)) == 1


def test_a_clockin_queued_behind_a_full_pool_is_told_so_in_the_ack_and_gets_no_slow_notice(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    with busy_process(bot, slack, tc_server) as (busy, gate):
        response, key = busy.driver.command("/clockin")
        time.sleep(1.0)  # well past the slow-notice time
        gate.set()
        final = slack.wait_for(lambda: [r for r in slack.responses[key] if "Clocked in" in r["text"]], timeout=10)
    assert "yours is queued" in response.text  # at once, in the ack: no Slack call for it
    assert final and [r["text"] for r in slack.responses[key] if "slow" in r["text"]] == []


def test_a_clockin_on_an_idle_bot_acks_with_nothing_to_read(bot: BotUnderTest, tc_sim: TimeClockSim) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    response, _ = bot.driver.command("/clockin")
    assert response.status_code == 200 and response.text == ""


def test_clockin_says_since_when_in_the_persons_own_time_zone(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0GRACE", f"2{tc_sim.users[2].pin}")
    _, key = bot.driver.command("/clockin", user="U0GRACE")
    text = last_text(slack, key)
    now_ny = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert now_ny.strftime("%Z") in text  # EST / EDT, Grace's Slack zone


def test_clocking_in_twice_says_since_when_and_sends_nothing(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    _, first = bot.driver.command("/clockin")
    last_text(slack, first)
    _, second = bot.driver.command("/clockin")
    assert "already clocked in since" in last_text(slack, second)
    assert len([r for r in tc_server.requests if r.method == "POST" and r.path == "/api/sessions"]) == 1


def test_clockin_with_a_project_books_the_session_on_it(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    _, key = bot.driver.command("/clockin", "support")
    assert "Support" in last_text(slack, key)
    assert tc_sim.running_sessions(1)[0]["project_id"] == 2


def test_clockin_with_an_unknown_project_lists_the_real_ones(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    _, key = bot.driver.command("/clockin", "moonshot")
    text = last_text(slack, key)
    assert "moonshot" in text and "Support" in text and "Website" in text
    assert not tc_sim.running_sessions(1)


def test_clockout_ends_the_running_session(bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    _, key = bot.driver.command("/clockin")
    last_text(slack, key)
    _, key = bot.driver.command("/clockout", "done for today")
    assert "Clocked out" in last_text(slack, key)
    assert not tc_sim.running_sessions(1)
    assert tc_sim.sessions[1]["note"] == "done for today"


def test_clockout_while_not_clocked_in_is_explained(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    _, key = bot.driver.command("/clockout")
    assert "aren't clocked in" in last_text(slack, key)


def running_since(sim: TimeClockSim, user_id: int, since: datetime) -> int:
    """A session TimeClock holds from before today (the bot can't clock in in the past)."""
    with sim._lock:
        session_id = max(sim.sessions, default=0) + 1
        sim.sessions[session_id] = {
            "id": session_id,
            "user_id": user_id,
            "clock_in": int(since.timestamp()),
            "clock_out": None,
            "note": None,
            "project_id": None,
            "created_at": 0,
            "updated_at": 0,
        }
    return session_id


def test_a_session_from_yesterday_offers_an_end_time_on_its_start_day(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    yesterday_9 = datetime.combine(date.today() - timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=9)
    running_since(tc_sim, 1, yesterday_9)
    _, key = bot.driver.command("/clockout")
    reply = slack.wait_response(key)[-1]
    assert "can't end a session after midnight" in reply["text"]
    button = reply["blocks"][1]["elements"][0]
    assert button["action_id"] == "clockout_pick_time"
    assert not [r for r in tc_server.requests if r.method == "PATCH"]
    # the person picks 17:30 on the start day
    meta = button["value"]
    response = bot.driver.submit_view(ids.END_TIME_CALLBACK, {"end_time": timepicker("17:30")}, private_metadata=meta)
    assert response.status_code == 200
    slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if "Clocked out" in c.args.get("text", "")])
    assert tc_sim.sessions[1]["clock_out"] == int((yesterday_9 + timedelta(hours=8, minutes=30)).timestamp())


def test_an_end_time_after_the_persons_midnight_but_within_timeclocks_day_is_accepted(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0LINUS", f"5{tc_sim.users[5].pin}")  # Helsinki, two hours ahead of TimeClock's UTC
    yesterday_21 = datetime.combine(date.today() - timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=21)
    session_id = running_since(tc_sim, 5, yesterday_21)  # 23:00 on Linus's clock
    _, key = bot.driver.command("/clockout", user="U0LINUS")
    meta = slack.wait_response(key)[-1]["blocks"][1]["elements"][0]["value"]
    response = bot.driver.submit_view(
        ids.END_TIME_CALLBACK, {"end_time": timepicker("01:30")}, user="U0LINUS", private_metadata=meta
    )
    assert response.text == ""  # no field error: 01:30 in Helsinki is 23:30 in TimeClock's day
    slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if "Clocked out" in c.args.get("text", "")])
    assert tc_sim.sessions[session_id]["clock_out"] == int((yesterday_21 + timedelta(hours=2, minutes=30)).timestamp())


def test_an_end_time_before_the_start_is_a_field_error(bot: BotUnderTest, tc_sim: TimeClockSim) -> None:
    started = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    meta = json.dumps({"session_id": "1", "started": started.timestamp(), "latest": None})
    response = bot.driver.submit_view(ids.END_TIME_CALLBACK, {"end_time": timepicker("08:00")}, private_metadata=meta)
    body = json.loads(response.text)
    assert body["response_action"] == "errors"
    assert "end_time" in body["errors"]


# --- leave -----------------------------------------------------------------------------------


def test_timeoff_opens_the_leave_modal_with_timeclock_leave_types(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    bot.driver.command("/timeoff")
    slack.wait_call("views.open")
    update = slack.wait_call("views.update")[0].args["view"]
    assert update["callback_id"] == ids.LEAVE_CALLBACK
    types = update["blocks"][0]["element"]["options"]
    assert [o["text"]["text"] for o in types] == ["Vacation", "Other time off"]


def test_leave_ending_before_it_starts_is_a_field_error_and_sends_nothing(
    bot: BotUnderTest, tc_server: SimServer
) -> None:
    start = next_monday()
    response = bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(start, start - timedelta(days=2)))
    body = json.loads(response.text)
    assert body == {"response_action": "errors", "errors": {"end": "The last day is before the first day."}}
    assert not tc_server.requests


def test_leave_starting_before_the_backdate_window_is_a_field_error(bot: BotUnderTest) -> None:
    past = date.today() - timedelta(days=20)  # TIMEBOT_LEAVE_BACKDATE_DAYS is 14 by default
    body = json.loads(bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(past, past)).text)
    assert body["response_action"] == "errors" and "start" in body["errors"]


def test_leave_over_a_year_long_is_a_field_error(bot: BotUnderTest) -> None:
    start = next_monday()
    body = json.loads(bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(start, start + timedelta(days=400))).text)
    assert body["response_action"] == "errors" and "over a year" in body["errors"]["end"]


def test_submitted_leave_is_created_and_confirmed_with_working_days(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    response = bot.driver.submit_view(
        ids.LEAVE_CALLBACK, leave_values(monday, monday + timedelta(days=6), note="family trip")
    )
    assert json.loads(response.text)["response_action"] == "update"
    dm = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args["text"]])
    assert "5 working days" in dm[0].args["text"]
    assert "waiting for approval" in dm[0].args["text"]
    [off] = tc_sim.off_times.values()
    assert (off["start_at"], off["end_at"], off["type"], off["note"]) == (
        monday.isoformat(),
        (monday + timedelta(days=6)).isoformat(),
        1,
        "family trip",
    )


def test_half_days_on_timeclock_go_into_the_note_and_count_half(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday + timedelta(days=1), start_portion="pm"))
    dm = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args["text"]])
    assert "1.5 working days" in dm[0].args["text"]
    assert f"afternoon of {fmt.day(monday)} only" in next(iter(tc_sim.off_times.values()))["note"]


def test_overlapping_leave_is_refused_before_timeclock_is_asked(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    tc_sim.add_off_time(1, monday, monday + timedelta(days=2))
    bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday + timedelta(days=1), monday + timedelta(days=1)))
    dm = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if "already have" in c.args["text"]])
    assert f"You already have leave on {fmt.day(monday + timedelta(days=1))} (pending)" in dm[0].args["text"]
    assert len(tc_sim.off_times) == 1


# --- who's off -------------------------------------------------------------------------------


def test_whosoff_still_lists_everyone_else_when_one_stored_key_cannot_be_decrypted(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tmp_path: Path
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    link(bot, "U0ALAN", f"3{tc_sim.users[3].pin}")
    monday = next_monday()
    tc_sim.add_off_time(1, monday, monday)
    foreign = SecretBox(Fernet.generate_key().decode()).encrypt("a key from another installation")
    with sqlite3.connect(tmp_path / "timebot.db") as db:
        db.execute("update identity set secret_enc = ? where slack_user_id = 'U0ALAN'", (foreign,))
    _, key = bot.driver.command("/whosoff", f"{monday}..{monday}", user="U0GRACE")
    reply = slack.wait_response(key)[-1]
    assert "Ada Lovelace" in json.dumps(reply["blocks"])


def test_whosoff_lists_linked_people_by_day_with_holidays(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    link(bot, "U0ALAN", f"3{tc_sim.users[3].pin}")
    monday = next_monday()
    tc_sim.add_off_time(1, monday, monday + timedelta(days=1))
    tc_sim.add_off_time(3, monday + timedelta(days=1), monday + timedelta(days=1), type_=0)
    tc_sim.add_holiday(monday + timedelta(days=2))
    tc_sim.fetch_holidays((monday + timedelta(days=2)).year)
    _, key = bot.driver.command("/whosoff", "next week")
    reply = slack.wait_response(key)[-1]
    text = json.dumps(reply["blocks"])
    assert "Ada Lovelace" in text and "Alan Turing" in text and "Public holiday" in text
    days = [b["text"]["text"] for b in reply["blocks"][1:] if b["type"] == "section"]
    assert "Ada Lovelace" in days[0] and "Alan Turing" not in days[0]
    assert "Ada Lovelace" in days[1] and "Alan Turing" in days[1]
    assert days[1].index("Ada") < days[1].index("Alan")


def test_whosoff_for_a_weekend_day_with_nobody_off_says_everyone_is_in(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    saturday = next_monday() + timedelta(days=5)
    _, key = bot.driver.command("/whosoff", saturday.isoformat())
    reply = slack.wait_response(key)[-1]
    assert "Everyone's in" in json.dumps(reply["blocks"])


def test_whosoff_with_an_impossible_date_says_so_without_a_vendor_call(bot: BotUnderTest, tc_server: SimServer) -> None:
    response, _ = bot.driver.command("/whosoff", "2026-02-31")
    assert "isn't a real date" in response.text
    assert not tc_server.requests


# --- security and start-up -----------------------------------------------------------------


def test_a_request_with_a_bad_signature_gets_401(bot: BotUnderTest) -> None:
    body, _ = bot.driver.command_body("/clockin")
    assert bot.driver.post(body, "application/x-www-form-urlencoded", secret="wrong").status_code == 401


def test_a_request_older_than_five_minutes_gets_401(bot: BotUnderTest) -> None:
    body, _ = bot.driver.command_body("/clockin")
    old = time.time() - 301
    assert bot.driver.post(body, "application/x-www-form-urlencoded", timestamp=old).status_code == 401


def test_a_command_whose_text_contains_payload_still_works(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    response, key = bot.driver.command("/clockout", "shipped the payload parser")
    assert response.status_code == 200
    assert "aren't clocked in" in last_text(slack, key)


def test_linking_someone_else_is_acked_in_time_even_when_slack_is_slow_to_say_who_is_asking(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    slack.rate_limit("users.info", times=1, retry_after=4)
    started = time.monotonic()
    response, key = bot.driver.command("/timebot", "link <@U0ALAN|alan>", user="U0ADA")
    assert response.status_code == 200
    assert time.monotonic() - started < 3.0
    assert slack.wait_response(key, timeout=20)[-1]["text"] == "Only Timebot admins can link someone else."
    assert not slack.calls_to("views.open")


def test_a_command_that_fails_before_its_ack_answers_the_person_in_the_ack(tmp_path: Path, slack: SlackStandIn) -> None:
    unconfigured = start_bot(make_settings(tmp_path, slack), slack, {})
    try:
        response, _ = unconfigured.driver.command("/timebot", "link")
    finally:
        unconfigured.close()
    assert response.status_code == 200
    assert response.json() == {
        "response_type": "ephemeral",
        "text": "No vendor is configured yet. An admin needs to set one up (see the README).",
    }


def test_a_button_that_fails_after_its_ack_tells_the_person_by_dm(tmp_path: Path, slack: SlackStandIn) -> None:
    unconfigured = start_bot(make_settings(tmp_path, slack), slack, {})
    try:
        assert unconfigured.driver.click("home_link").status_code == 200
        dm = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0ADA"])
    finally:
        unconfigured.close()
    assert "No vendor is configured yet" in dm[0].args["text"]


def test_request_keys_are_forgotten_once_no_slack_retry_can_come(tmp_path: Path, slack: SlackStandIn) -> None:
    from sqlmodel import Session

    from storage.db import make_engine, upgrade
    from storage.models import ProcessedRequest, utcnow

    engine = make_engine(f"sqlite:///{tmp_path / 'timebot.db'}")
    upgrade(engine)
    with Session(engine) as s:
        s.add(ProcessedRequest(key="cmd:T0DEMO:old", at=utcnow() - timedelta(days=3)))
        s.add(ProcessedRequest(key="cmd:T0DEMO:recent", at=utcnow() - timedelta(minutes=5)))
        s.commit()
    engine.dispose()
    running = start_bot(make_settings(tmp_path, slack), slack, {})
    try:
        store = running.runtime.services.store
        eventually(lambda: not store.request_seen("cmd:T0DEMO:old"))
        assert store.request_seen("cmd:T0DEMO:recent")
    finally:
        running.close()


def test_a_button_nothing_handles_any_more_is_acknowledged_so_slack_shows_no_warning(bot: BotUnderTest) -> None:
    response = bot.driver.click("retired_button")
    assert (response.status_code, response.text) == (200, "")


def test_a_form_nothing_handles_any_more_says_it_is_out_of_date(bot: BotUnderTest) -> None:
    response = bot.driver.submit_view("retired_form", {})
    assert response.status_code == 200
    assert "This form is out of date" in json.dumps(response.json()["view"])


def test_an_event_nobody_listens_for_is_acknowledged_so_slack_does_not_retry_it(bot: BotUnderTest) -> None:
    response = bot.driver.event({"type": "reaction_added", "user": "U0ADA", "reaction": "tada"})
    assert response.status_code == 200


def test_a_clockout_button_from_an_older_version_says_it_is_out_of_date(bot: BotUnderTest, slack: SlackStandIn) -> None:
    bot.driver.click("clockout_pick_time", value="[1, 2]")
    dm = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if "out of date" in c.args["text"]])
    assert dm and not slack.calls_to("views.open")


def test_a_clockout_form_with_unreadable_times_says_it_is_out_of_date(bot: BotUnderTest) -> None:
    response = bot.driver.submit_view(
        ids.END_TIME_CALLBACK,
        {"end_time": timepicker("17:30")},
        private_metadata=json.dumps({"started": "abc", "latest": None}),
    )
    body = response.json()
    assert body["response_action"] == "update" and "out of date" in json.dumps(body["view"])


def test_a_leave_form_without_a_first_day_is_a_field_error_on_it(bot: BotUnderTest, tc_server: SimServer) -> None:
    start = next_monday()
    values = leave_values(start, start)
    values["start"] = {"type": "datepicker", "selected_date": None}
    response = bot.driver.submit_view(ids.LEAVE_CALLBACK, values)
    assert response.json() == {"response_action": "errors", "errors": {"start": "Pick a date."}}
    assert not tc_server.requests


def test_a_clockout_form_without_a_time_is_a_field_error_on_it(bot: BotUnderTest) -> None:
    meta = json.dumps({"session_id": "1", "started": time.time() - 3600, "latest": None})
    response = bot.driver.submit_view(ids.END_TIME_CALLBACK, {"end_time": timepicker("")}, private_metadata=meta)
    assert response.json() == {"response_action": "errors", "errors": {"end_time": "Pick a time."}}


def test_a_leave_form_with_a_half_day_it_never_offered_gets_a_field_error(bot: BotUnderTest) -> None:
    start = next_monday()
    response = bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(start, start, start_portion="evening"))
    assert response.json() == {"response_action": "errors", "errors": {"start_portion": "Pick one of the choices."}}


def test_what_a_vendor_says_is_shown_as_text_never_as_links_or_mentions(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    tc_sim.add_project(99, "<!everyone> <@U0GRACE> <https://evil.example|Re-link here>", assignees={1})
    _, key = bot.driver.command("/clockin", "nosuch")
    text = slack.wait_response(key)[-1]["text"]
    assert "&lt;!everyone&gt; &lt;@U0GRACE&gt; &lt;https://evil.example|Re-link here&gt;" in text
    assert "<!everyone>" not in text and "<https://evil.example" not in text


def test_healthz_answers_ok(bot: BotUnderTest) -> None:
    import httpx

    assert httpx.get(f"{bot.url}/healthz").json() == {"ok": True}


def test_timebot_run_without_slack_tokens_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_app_home_shows_clock_state_and_upcoming_leave(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    monday = next_monday()
    tc_sim.add_off_time(1, monday, monday)
    bot.driver.event({"type": "app_home_opened", "user": "U0ADA", "tab": "home"})
    view = slack.wait_call("views.publish")[0].args["view"]
    text = json.dumps(view)
    assert "home_clock_in" in text and "home_request_leave" in text
    assert fmt.day(monday) in text


def test_app_home_tells_an_unlinked_person_how_to_link(bot: BotUnderTest, slack: SlackStandIn) -> None:
    bot.driver.event({"type": "app_home_opened", "user": "U0ALAN", "tab": "home"})
    view = slack.wait_call("views.publish")[0].args["view"]
    assert "home_link" in json.dumps(view)


def test_the_clock_in_button_on_app_home_clocks_in_and_refreshes_the_tab(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    assert bot.driver.click("home_clock_in").status_code == 200
    view = slack.wait_call("views.publish")[0].args["view"]
    assert "home_clock_out" in json.dumps(view)
    assert len(tc_sim.running_sessions(1)) == 1


def test_a_rejected_request_is_logged_without_its_body(bot: BotUnderTest) -> None:
    import io
    import logging
    from urllib.parse import quote

    seen = io.StringIO()
    handler = logging.StreamHandler(seen)
    bolt_logger = logging.getLogger("slack_bolt.RequestVerification")  # Bolt does not propagate to root
    web_logger = logging.getLogger("bot.runtime.web")
    bolt_logger.addHandler(handler)
    web_logger.addHandler(handler)
    level, web_level = bolt_logger.level, web_logger.level
    bolt_logger.setLevel(logging.INFO)
    web_logger.setLevel(logging.INFO)
    meta = json.dumps({"vendor": "timeclock", "target": None})
    state = {"values": {"link_pin": {"value": text_input("1987654")}}}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0DEMO"},
        "user": {"id": "U0ADA"},
        "view": {"id": "V1", "callback_id": ids.LINK_CALLBACK, "private_metadata": meta, "state": state},
    }
    try:
        late = bot.driver.post(
            "payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded", timestamp=time.time() - 600
        )
    finally:
        bolt_logger.removeHandler(handler)
        web_logger.removeHandler(handler)
        bolt_logger.setLevel(level)
        web_logger.setLevel(web_level)
    assert late.status_code == 401
    assert seen.getvalue().strip() == "refused a request that failed Slack's signature check"
    assert "1987654" not in seen.getvalue()


def test_status_shows_the_persons_identities_and_clock_state(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    _, key = bot.driver.command("/clockin")
    last_text(slack, key)
    _, key = bot.driver.command("/timebot", "status")
    text = last_text(slack, key)
    assert "TimeClock: user 1 (linked by you)" in text
    assert "clocked in since" in text and "Europe/London" in text


def test_unlink_forgets_the_person_and_their_stored_key(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim
) -> None:
    link(bot, "U0ADA", ada_pin(tc_sim))
    _, key = bot.driver.command("/timebot", "unlink")
    assert "unlinked" in last_text(slack, key)
    assert bot.runtime.services.store.identities_of("T0DEMO", "U0ADA") == []


def test_an_unknown_subcommand_gets_the_help(bot: BotUnderTest) -> None:
    response, _ = bot.driver.command("/timebot", "frobnicate")
    assert "I don't know `/timebot frobnicate`" in response.text and "/clockin" in response.text
