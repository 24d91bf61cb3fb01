"""Resilience, end to end over real HTTP: what people hear, and what TimeClock ends up holding,
when TimeClock is down, hangs, fails or loses an answer, when Slack rate-limits us or a
response_url has expired, and when more people ask at once than there are workers.

Each test picks the bot's own settings (read timeout, breaker) so the outcome follows from the
settings under test rather than from the speed of the machine.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.config import Settings
from bot.vendors.http import HttpPolicy
from handlers import ids
from sandbox.server import Request, Response, SimServer
from sandbox.slack import Call, SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import BotUnderTest, make_settings, start_bot, timeclock_vendor
from tests.support import TEAM, eventually, leave_values, next_monday

# Short vendor timeouts so a hanging TimeClock is given up on well inside 3 s (3 tries of 0.2 s).
QUICK = {"TIMEBOT_HTTP_CONNECT_TIMEOUT": 0.5, "TIMEBOT_HTTP_READ_TIMEOUT": 0.2}
HOLDING = "slow to answer"  # the watchdog's holding notice, not an answer
JARGON = ("Traceback", "Exception", "Error", "httpx", "Timeout", "127.0.0.1", "None")


# --- set-up ----------------------------------------------------------------------------------


@pytest.fixture
def start(tmp_path: Path, slack: SlackStandIn) -> Iterator[Callable[..., BotUnderTest]]:
    """Start the bot against the TimeClock at ``base_url`` with these TIMEBOT_* settings; the
    vendor gets the HTTP policy those settings describe, as in production."""
    started: list[BotUnderTest] = []

    def _start(base_url: str, **settings: object) -> BotUnderTest:
        chosen = make_settings(tmp_path, slack, **settings)
        bot = start_bot(chosen, slack, {"timeclock": timeclock_vendor(base_url, chosen.http_policy)})
        started.append(bot)
        return bot

    yield _start
    for bot in started:
        bot.close()


class ArrivalLog(SimServer):
    """A simulator server that also notes when each request arrived, faulted ones included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[tuple[float, str, str]] = []

    def _record(self, request: Request) -> None:
        self.arrivals.append((time.monotonic(), request.method, request.path))
        super()._record(request)


def link(bot: BotUnderTest, slack_user: str, sim: TimeClockSim, tc_user: int = 1) -> None:
    services = bot.runtime.services
    pin = f"{tc_user}{sim.users[tc_user].pin}"
    services.people.link(services.people.actor(TEAM, slack_user), "timeclock", {"pin": pin})


def shipped_default(alias: str) -> Any:
    return next(f.default for f in Settings.model_fields.values() if f.alias == alias)


def answer_on(slack: SlackStandIn, key: str, timeout: float = 10.0) -> str:
    """The first reply on a command's response_url that is an answer, not the holding notice."""
    replies = slack.wait_for(lambda: [r for r in slack.responses[key] if HOLDING not in r["text"]], timeout)
    return replies[0]["text"]


def dms_to(slack: SlackStandIn, user: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


def dm_to(slack: SlackStandIn, user: str, containing: str = "", timeout: float = 10.0) -> str:
    """The text of the first DM to ``user`` that contains ``containing``."""
    dms = slack.wait_for(lambda: [c for c in dms_to(slack, user) if containing in c.args["text"]], timeout)
    return dms[0].args["text"]


def ask(bot: BotUnderTest, slack: SlackStandIn, command: str) -> tuple[float, str]:
    """Ada sends ``command``; returns the seconds from its ack to the answer, and the answer."""
    if command == "/timeoff submit":  # the leave modal's Submit: the answer shows in the modal and as a DM
        monday = next_monday()
        response = bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday), view_id="V0LEAVE")
        acked = time.monotonic()
        assert response.status_code == 200
        text = dm_to(slack, "U0ADA")
        modal = [c.args["view"] for c in slack.calls_to("views.update") if c.args.get("view_id") == "V0LEAVE"]
        assert modal[-1]["blocks"][0]["text"]["text"] == text
    else:
        response, key = bot.driver.command(command, "next week" if command == "/whosoff" else "")
        acked = time.monotonic()
        assert response.status_code == 200
        text = answer_on(slack, key)
    return time.monotonic() - acked, text


def settle(bot: BotUnderTest) -> None:
    """Wait until the bot's work pool has nothing queued or running."""
    eventually(lambda: not bot.runtime.services.pool.pending)


def assert_plain(text: str) -> None:
    assert not [word for word in JARGON if word in text], text


def calls_to_timeclock(server: SimServer, path: str) -> list[str]:
    return [r.method for r in server.requests if r.path == path]


# --- TimeClock down or hanging: everyone hears what happened within 3 s --------------------

COMMANDS = ["/clockin", "/clockout", "/timeoff submit", "/whosoff"]


@pytest.mark.parametrize("command", COMMANDS)
def test_with_timeclock_down_every_command_says_so_within_3s_of_the_ack(
    command: str,
    start: Callable[..., BotUnderTest],
    tc_server: SimServer,
    tc_sim: TimeClockSim,
    slack: SlackStandIn,
) -> None:
    bot = start(tc_server.base_url, **QUICK)
    link(bot, "U0ADA", tc_sim)
    tc_server.stop()  # TimeClock goes down: connections are refused
    took, text = ask(bot, slack, command)
    assert took < 3.0
    assert "TimeClock isn't answering right now (connection refused)" in text
    assert ("Nothing was changed" in text) == (command != "/whosoff")  # /whosoff only reads
    assert_plain(text)


HANG_ANSWERS = {
    "/clockin": "TimeClock isn't answering right now (timed out)",
    "/clockout": "TimeClock isn't answering right now (timed out)",
    "/whosoff": "TimeClock isn't answering right now (timed out)",
    # the request was sent and never answered: the bot can't know, and says so
    "/timeoff submit": "TimeClock didn't answer in time, so this may or may not have gone through",
}


@pytest.mark.parametrize("command", COMMANDS)
def test_with_timeclock_hanging_every_command_says_so_within_3s_of_the_ack(
    command: str,
    start: Callable[..., BotUnderTest],
    tc_server: SimServer,
    tc_sim: TimeClockSim,
    slack: SlackStandIn,
) -> None:
    bot = start(tc_server.base_url, **QUICK)
    link(bot, "U0ADA", tc_sim)
    if command == "/timeoff submit":  # the write hangs; the reads before it (the overlap check) answer
        tc_server.faults.only_methods = frozenset({"POST"})
    tc_server.faults.script.extend(["hang"] * 20)
    took, text = ask(bot, slack, command)
    assert took < 3.0
    assert HANG_ANSWERS[command] in text
    assert_plain(text)


@pytest.mark.parametrize("command", ["/clockin", "/clockout", "/whosoff"])
def test_with_default_timeouts_a_hanging_timeclock_gets_a_plain_holding_message_within_3s(
    command: str,
    start: Callable[..., BotUnderTest],
    tc_server: SimServer,
    tc_sim: TimeClockSim,
    slack: SlackStandIn,
) -> None:
    """The shipped read timeout (10 s, three tries) is too long to answer a hang within 3 s;
    what the person gets in time is the watchdog's notice, which names the vendor."""
    bot = start(
        tc_server.base_url,
        TIMEBOT_HTTP_READ_TIMEOUT=shipped_default("TIMEBOT_HTTP_READ_TIMEOUT"),
        TIMEBOT_SLOW_NOTICE_SECONDS=shipped_default("TIMEBOT_SLOW_NOTICE_SECONDS"),
    )
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.script.extend(["hang"] * 20)
    response, key = bot.driver.command(command)
    acked = time.monotonic()
    assert response.status_code == 200
    first = slack.wait_response(key, timeout=10)[0]["text"]
    assert time.monotonic() - acked < 3.0
    assert "TimeClock is slow to answer; I'll tell you here as soon as it does." in first
    tc_server.faults.script.clear()
    tc_server.stop()  # let the job waiting on TimeClock finish now, not after 3 x 10 s


def test_with_default_timeouts_a_leave_request_to_a_hanging_timeclock_says_so_in_the_form_within_3s(
    start: Callable[..., BotUnderTest], tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    bot = start(
        tc_server.base_url,
        TIMEBOT_HTTP_READ_TIMEOUT=shipped_default("TIMEBOT_HTTP_READ_TIMEOUT"),
        TIMEBOT_SLOW_NOTICE_SECONDS=shipped_default("TIMEBOT_SLOW_NOTICE_SECONDS"),
    )
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.script.extend(["hang"] * 20)
    monday = next_monday()
    response = bot.driver.submit_view(ids.LEAVE_CALLBACK, leave_values(monday, monday), view_id="V0SLOW")
    acked = time.monotonic()
    assert response.status_code == 200
    update = slack.wait_for(
        lambda: next((c for c in slack.calls_to("views.update") if "slow to answer" in json.dumps(c.args)), None),
        timeout=10,
    )
    assert time.monotonic() - acked < 3.0
    assert "TimeClock is slow to answer" in json.dumps(update.args)
    tc_server.faults.script.clear()
    tc_server.stop()


# --- the circuit breaker -------------------------------------------------------------------


def test_after_a_handful_of_timeouts_the_breaker_opens_and_commands_answer_at_once_without_calling_timeclock(
    start: Callable[..., BotUnderTest], tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    bot = start(tc_server.base_url, TIMEBOT_HTTP_READ_TIMEOUT=0.4, TIMEBOT_BREAKER_FAILURES=3)
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.script.extend(["hang"] * 20)

    def received() -> int:  # each request TimeClock receives takes one "hang" from the script
        return 20 - len(tc_server.faults.script)

    _, text = ask(bot, slack, "/clockin")
    assert "TimeClock isn't answering right now (timed out)" in text
    assert received() == 3  # three tries, three failures: the breaker is now open
    for command in ("/clockin", "/clockout", "/whosoff"):
        took, text = ask(bot, slack, command)
        assert took < 0.4  # sooner than a single read timeout: TimeClock was not asked
        assert "TimeClock isn't answering right now (too many recent failures" in text
        assert ("Nothing was changed; try again shortly." if command != "/whosoff" else "Try again shortly.") in text
        assert_plain(text)
    assert received() == 3


def test_while_the_breaker_is_open_a_recovered_timeclock_gets_no_calls_then_one_trial_clocks_in(
    start: Callable[..., BotUnderTest], tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    bot = start(tc_server.base_url, **QUICK, TIMEBOT_BREAKER_FAILURES=3, TIMEBOT_BREAKER_COOLDOWN=1.0)
    link(bot, "U0ADA", tc_sim)
    port = tc_server.port
    tc_server.stop()
    _, text = ask(bot, slack, "/clockin")
    assert "connection refused" in text
    with SimServer(tc_sim.handle, port=port, name="timeclock-again") as back:
        _, text = ask(bot, slack, "/clockin")
        assert "too many recent failures" in text
        assert back.requests == []
        breaker = bot.runtime.services.router.vendors["timeclock"].http.breaker  # type: ignore[attr-defined]
        eventually(lambda: not breaker.is_open, timeout=5)  # the 1 s cooldown passes
        _, text = ask(bot, slack, "/clockin")
        assert "Clocked in" in text
        assert len(tc_sim.running_sessions(1)) == 1


def test_an_outage_leaves_the_operator_a_trace_in_the_log_when_it_starts_and_ends(
    start: Callable[..., BotUnderTest],
    tc_server: SimServer,
    tc_sim: TimeClockSim,
    slack: SlackStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = start(tc_server.base_url, **QUICK, TIMEBOT_BREAKER_FAILURES=3, TIMEBOT_BREAKER_COOLDOWN=0.5)
    link(bot, "U0ADA", tc_sim)
    port = tc_server.port
    tc_server.stop()
    with caplog.at_level(logging.WARNING, logger="bot.vendors.http"):
        ask(bot, slack, "/clockin")
        with SimServer(tc_sim.handle, port=port, name="timeclock-again"):
            time.sleep(0.6)  # the cooldown passes
            assert "Clocked in" in ask(bot, slack, "/clockin")[1]
    said = [r.getMessage() for r in caplog.records if r.name == "bot.vendors.http"]
    assert "TimeClock unavailable: connection refused" in said
    assert any(m.startswith("TimeClock failed 3 times in a row: pausing calls") for m in said)
    assert "TimeClock answers again; calls resume" in said


# --- faults end with TimeClock holding each action exactly once ------------------------------


def server_error() -> Response:
    return Response.json({"name": "Internal Server Error", "message": "boom", "code": 0, "status": 500}, 500)


def test_a_page_that_is_not_timeclocks_api_gets_a_plain_answer_and_no_traceback(
    bot: BotUnderTest,
    tc_server: SimServer,
    tc_sim: TimeClockSim,
    slack: SlackStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.only_methods = frozenset({"GET"})
    tc_server.faults.script.append(Response.text("<html>Sign in to the company proxy</html>", 200, "text/html"))
    _, text = ask(bot, slack, "/clockin")
    assert "TimeClock sent an answer Timebot couldn't read" in text and "TIMECLOCK_BASE_URL" in text
    assert not [r for r in caplog.records if r.exc_info]
    assert not tc_sim.running_sessions(1)


def test_a_500_on_a_read_is_retried_and_the_clockin_lands_once(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.only_methods = frozenset({"GET"})
    tc_server.faults.script.append(server_error())
    _, text = ask(bot, slack, "/clockin")
    assert "Clocked in" in text
    assert calls_to_timeclock(tc_server, "/api/sessions") == ["GET", "GET", "POST"]
    assert len(tc_sim.running_sessions(1)) == 1


def test_a_500_on_the_clockin_is_checked_with_timeclock_then_sent_again_and_lands_once(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.only_methods = frozenset({"POST"})
    tc_server.faults.script.append(server_error())
    _, text = ask(bot, slack, "/clockin")
    assert "Clocked in" in text
    # look, write (500), look again: nothing there, so write once more
    assert calls_to_timeclock(tc_server, "/api/sessions") == ["GET", "POST", "GET", "POST"]
    assert len(tc_sim.running_sessions(1)) == 1


def test_a_500_on_a_leave_request_is_checked_with_timeclock_then_sent_again_and_lands_once(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.only_methods = frozenset({"POST"})
    tc_server.faults.script.append(server_error())
    _, text = ask(bot, slack, "/timeoff submit")
    assert "Leave requested" in text
    assert calls_to_timeclock(tc_server, "/api/off-times") == ["GET", "POST", "GET", "POST"]  # overlap check first
    assert len(tc_sim.off_times) == 1


def test_a_clockin_that_timed_out_is_not_sent_again_even_when_timeclock_shows_nothing_yet(
    start: Callable[..., BotUnderTest], tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    """A timed-out write may still be in progress at TimeClock: sending it again could make a
    second session, so the person is told it may or may not have gone through."""
    bot = start(tc_server.base_url, **QUICK)
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.only_methods = frozenset({"POST"})
    tc_server.faults.script.append("hang")
    _, text = ask(bot, slack, "/clockin")
    assert "TimeClock didn't answer in time, so this may or may not have gone through" in text
    assert "/timebot status" in text
    assert not tc_server.faults.script  # the one POST reached TimeClock ...
    assert calls_to_timeclock(tc_server, "/api/sessions") == ["GET", "GET"]  # ... and was never repeated


def test_a_429_on_the_clockin_is_retried_after_retry_after_and_lands_once(
    start: Callable[..., BotUnderTest], tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    with ArrivalLog(tc_sim.handle, name="timeclock") as server:
        bot = start(server.base_url)
        link(bot, "U0ADA", tc_sim)
        server.faults.only_methods = frozenset({"POST"})
        server.faults.script.append(Response.json({"message": "slow down"}, 429, {"Retry-After": "1"}))
        _, text = ask(bot, slack, "/clockin")
        assert "Clocked in" in text
        posts = [at for at, method, path in server.arrivals if (method, path) == ("POST", "/api/sessions")]
        assert len(posts) == 2
        assert posts[1] - posts[0] >= 1.0
        assert len(tc_sim.running_sessions(1)) == 1


@pytest.mark.parametrize(
    "fault",
    [
        "drop",  # TimeClock creates the session, then the connection dies
        "garble",  # TimeClock creates the session; a page that isn't JSON comes back (a proxy in the way)
    ],
)
def test_a_clockin_whose_answer_is_lost_is_confirmed_with_timeclock_not_sent_twice(
    fault: str, bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.only_methods = frozenset({"POST"})
    tc_server.faults.script.append(fault)
    _, text = ask(bot, slack, "/clockin")
    assert "Clocked in" in text
    assert calls_to_timeclock(tc_server, "/api/sessions") == ["GET", "POST", "GET"]
    assert len(tc_sim.running_sessions(1)) == 1


def test_a_leave_request_whose_answer_is_lost_is_confirmed_with_timeclock_not_sent_twice(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.only_methods = frozenset({"POST"})
    tc_server.faults.script.append("drop")
    _, text = ask(bot, slack, "/timeoff submit")
    assert "Leave requested" in text
    assert calls_to_timeclock(tc_server, "/api/off-times") == ["GET", "POST", "GET"]  # overlap check first
    assert len(tc_sim.off_times) == 1


def test_a_clockout_whose_answer_is_lost_is_sent_again_and_ends_the_session_once(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    assert "Clocked in" in ask(bot, slack, "/clockin")[1]
    tc_server.faults.only_methods = frozenset({"PATCH"})
    tc_server.faults.script.append("drop")  # setting the end time is idempotent, so it may be repeated
    _, text = ask(bot, slack, "/clockout")
    assert "Clocked out" in text
    assert [r.method for r in tc_server.requests if r.path == "/api/sessions/1"] == ["PATCH", "PATCH"]
    assert len(tc_sim.sessions) == 1
    assert not tc_sim.running_sessions(1)


def test_a_clockout_whose_every_answer_is_lost_is_checked_with_timeclock_not_called_unchanged(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    assert "Clocked in" in ask(bot, slack, "/clockin")[1]
    tc_server.faults.only_methods = frozenset({"PATCH"})
    tc_server.faults.script.extend(["drop"] * (HttpPolicy().max_retries + 1))  # each lands, no answer comes
    _, text = ask(bot, slack, "/clockout")
    assert "Clocked out" in text and "Nothing was changed" not in text
    assert not tc_sim.running_sessions(1)


def test_a_clockin_that_landed_is_confirmed_even_when_the_audit_row_cannot_be_written(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn, tmp_path: Path
) -> None:
    link(bot, "U0ADA", tc_sim)
    with sqlite3.connect(tmp_path / "timebot.db") as db:
        db.execute("DROP TABLE audit_log")  # every audit write now fails
    _, text = ask(bot, slack, "/clockin")
    assert "Clocked in" in text and "Nothing was changed" not in text
    assert len(tc_sim.running_sessions(1)) == 1


def test_when_the_database_cannot_take_the_request_key_the_person_is_told_and_nothing_is_sent(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn, tmp_path: Path
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.requests.clear()
    with sqlite3.connect(tmp_path / "timebot.db") as db:
        db.execute("DROP TABLE processed_request")
    _, text = ask(bot, slack, "/clockin")
    assert "Something went wrong on my side. Nothing was changed" in text
    assert not tc_server.requests


# --- Slack faults ----------------------------------------------------------------------------


def test_a_rate_limited_dm_is_retried_after_retry_after_and_lands_once(
    bot: BotUnderTest, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    bot.driver.click("home_clock_in")  # App Home buttons answer by DM
    assert "Clocked in" in dm_to(slack, "U0ADA", timeout=15)
    [limited] = slack.calls_to("chat.postMessage#429")
    [landed] = dms_to(slack, "U0ADA")
    assert landed.at - limited.at >= 1.0


def test_a_rate_limited_home_tab_publish_is_retried_after_retry_after_and_lands_once(
    bot: BotUnderTest, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    slack.rate_limit("views.publish", times=1, retry_after=1)
    bot.driver.event({"type": "app_home_opened", "user": "U0ADA", "tab": "home"})
    [landed] = slack.wait_call("views.publish", timeout=15)
    [limited] = slack.calls_to("views.publish#429")
    assert landed.at - limited.at >= 1.0
    assert "home_clock_in" in json.dumps(landed.args["view"])


def test_an_expired_response_url_falls_back_to_a_dm(
    bot: BotUnderTest, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    body, key = bot.driver.command_body("/clockin")
    slack.expired_response_urls.add(key)
    assert bot.driver.post(body, "application/x-www-form-urlencoded").status_code == 200
    assert "Clocked in" in dm_to(slack, "U0ADA")
    assert not slack.responses[key]
    assert len(tc_sim.running_sessions(1)) == 1


# --- a burst bigger than the worker pool ---------------------------------------------------


def test_a_burst_bigger_than_the_worker_pool_queues_and_clocks_everyone_in_once(
    start: Callable[..., BotUnderTest], tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    bot = start(tc_server.base_url, TIMEBOT_WORKERS=2)
    people = {f"U0{name.upper()}": uid for uid, name in enumerate(["ada", "grace", "alan", "kath", "linus"], 1)}
    for uid in range(6, 13):
        slack.add_user(f"U0P{uid:02d}", f"Person {uid}", f"person{uid}@example.com", "UTC")
        tc_sim.add_user(uid, f"Person {uid}", f"person{uid}@example.com", pin=f"{100 + uid}")
        people[f"U0P{uid:02d}"] = uid
    for user, uid in people.items():
        link(bot, user, tc_sim, uid)
    tc_server.faults.latency = 0.15  # two calls per clock-in: six rounds of two workers take ~2 s

    def clock_in(user: str) -> tuple[int, float, str]:
        sent = time.monotonic()
        response, key = bot.driver.command("/clockin", user=user)
        return response.status_code, time.monotonic() - sent, key

    with ThreadPoolExecutor(max_workers=len(people)) as senders:
        results = list(senders.map(clock_in, people))
    assert [status for status, _, _ in results] == [200] * 12
    assert max(took for _, took, _ in results) < 3.0
    for _, _, key in results:
        assert "Clocked in" in answer_on(slack, key, timeout=20)
    assert calls_to_timeclock(tc_server, "/api/sessions").count("POST") == 12
    assert all(len(tc_sim.running_sessions(uid)) == 1 for uid in people.values())


# --- re-deliveries and double clicks never double an action ----------------------------------
# (a re-delivered slash command is covered in test_core_bot.py)


def test_a_double_click_on_clock_in_clocks_in_once(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.latency = 0.15  # the first click is still at TimeClock when the second arrives
    assert bot.driver.click("home_clock_in").status_code == 200
    assert bot.driver.click("home_clock_in").status_code == 200
    dms = slack.wait_for(lambda: dms if len(dms := dms_to(slack, "U0ADA")) >= 2 else None)
    texts = [c.args["text"] for c in dms]
    assert sum("Clocked in" in t for t in texts) == 1
    assert sum("already clocked in since" in t for t in texts) == 1
    assert calls_to_timeclock(tc_server, "/api/sessions").count("POST") == 1
    assert len(tc_sim.running_sessions(1)) == 1


def test_a_redelivered_leave_submission_requests_the_leave_once(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    monday = next_monday()
    state = {"values": {block: {"value": element} for block, element in leave_values(monday, monday).items()}}
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "demo"},
        "user": {"id": "U0ADA", "team_id": TEAM},
        "api_app_id": "A0TIMEBOT",
        "trigger_id": "1.2.trigger",
        "view": {
            "id": "V0LEAVE",
            "type": "modal",
            "callback_id": ids.LEAVE_CALLBACK,
            "private_metadata": "{}",
            "state": state,
            "hash": "h1",
            "team_id": TEAM,
        },
    }
    body = "payload=" + quote(json.dumps(payload))
    first = bot.driver.post(body, "application/x-www-form-urlencoded")
    again = bot.driver.post(
        body,
        "application/x-www-form-urlencoded",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status_code == again.status_code == 200
    assert "Leave requested" in dm_to(slack, "U0ADA")
    settle(bot)
    assert len(dms_to(slack, "U0ADA")) == 1
    assert calls_to_timeclock(tc_server, "/api/off-times").count("POST") == 1
    assert len(tc_sim.off_times) == 1


# --- what the holding note blames, and what a failed write is called --------------------------


def test_a_database_lock_gets_a_holding_note_that_blames_the_database_not_timeclock(
    start: Callable[..., BotUnderTest],
    tc_server: SimServer,
    tc_sim: TimeClockSim,
    slack: SlackStandIn,
    tmp_path: Path,
) -> None:
    bot = start(tc_server.base_url, TIMEBOT_SLOW_NOTICE_SECONDS=0.3, TIMEBOT_ACK_FIRST_SECONDS=0.1)
    link(bot, "U0ADA", tc_sim)
    tc_server.requests.clear()
    holder = sqlite3.connect(tmp_path / "timebot.db", isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        response, key = bot.driver.command("/clockin")
        assert response.status_code == 200
        note = slack.wait_response(key)[0]["text"]
        assert "database" in note and "TimeClock" not in note
        assert calls_to_timeclock(tc_server, "/api/sessions") == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "Clocked in" in answer_on(slack, key)


def test_a_clockin_that_timeclock_fails_twice_without_recording_is_said_not_to_have_gone_through(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.only_methods = frozenset({"POST"})
    tc_server.faults.script.extend([server_error(), server_error()])
    _, text = ask(bot, slack, "/clockin")
    assert "didn't go through" in text and "may or may not" not in text
    assert calls_to_timeclock(tc_server, "/api/sessions") == ["GET", "POST", "GET", "POST", "GET"]
    assert not tc_sim.running_sessions(1)
    assert bot.runtime.services.store.audit_log(1)[0].outcome == "failed"


def test_a_leave_request_that_timeclock_fails_twice_without_recording_is_said_not_to_have_gone_through(
    bot: BotUnderTest, tc_server: SimServer, tc_sim: TimeClockSim, slack: SlackStandIn
) -> None:
    link(bot, "U0ADA", tc_sim)
    tc_server.faults.only_methods = frozenset({"POST"})
    tc_server.faults.script.extend([server_error(), server_error()])
    _, text = ask(bot, slack, "/timeoff submit")
    assert "didn't go through" in text and "may or may not" not in text
    assert not tc_sim.off_times
