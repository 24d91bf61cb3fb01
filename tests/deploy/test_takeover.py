"""Nothing accepted is lost: ``timebot run`` killed with SIGKILL at each moment of a clock-in, then
started again on the same database (SQLite and PostgreSQL). Every accepted action ends with
exactly one true answer to the person, and TimeClock gets no second write."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers.ids import LEAVE_CALLBACK, LINK_CALLBACK
from sandbox.server import SimServer
from sandbox.slack import Call, SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.harness import Deployed, intake_rows, link_people, postgres_database, slack_env, start
from tests.support import leave_values, next_monday, text_input

TAKEOVER = 2  # seconds: small, so that tests wait little for a takeover
# Vendor timeouts: the 3 s reads below are still in flight at the kill that follows their arrival,
# and a takeover waits these out after the last heartbeat (a write sent just before the kill may
# still land), so the window is really WINDOW.
CONNECT_TIMEOUT, READ_TIMEOUT = 0.5, 2.0
WINDOW = max(TAKEOVER * 3 / 4, TAKEOVER / 4 + CONNECT_TIMEOUT + READ_TIMEOUT)
PEOPLE = [("U0ADA", 1), ("U0GRACE", 2), ("U0ALAN", 3)]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'timebot.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def timeclock_sim() -> TimeClockSim:
    sim = TimeClockSim()
    for slack_id, uid in PEOPLE:
        sim.add_user(uid, slack_id, f"{slack_id.lower()}@example.com", api_key=f"key-{uid}", pin="123")
    return sim


@pytest.fixture
def timeclock(timeclock_sim: TimeClockSim) -> Iterator[SimServer]:
    server = SimServer(timeclock_sim.handle, name="timeclock").start()
    yield server
    server.stop()


@pytest.fixture
def env(
    tmp_path: Path, slack: SlackStandIn, timeclock: SimServer, secret_key: str, database_url: str
) -> dict[str, str]:
    link_people(database_url, secret_key, [(s, str(uid), f"key-{uid}") for s, uid in PEOPLE])
    return {
        **slack_env(slack, tmp_path, secret_key),
        "DATABASE_URL": database_url,
        "TIMECLOCK_BASE_URL": timeclock.base_url,
        "TIMEBOT_TAKEOVER_SECONDS": str(TAKEOVER),
        "TIMEBOT_HTTP_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "TIMEBOT_HTTP_READ_TIMEOUT": str(READ_TIMEOUT),
        "TIMEBOT_WORKERS": "16",
        "TIMEBOT_HYGIENE_CHECK_SECONDS": "3600",
    }


def wait(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def final_replies(slack: SlackStandIn, key: str) -> list[str]:
    """What the person was told through the command's response_url, holding notes left out."""
    return [r.get("text", "") for r in slack.responses[key] if not r.get("text", "").startswith(":hourglass")]


def writes(server: SimServer) -> int:
    return sum(1 for r in server.requests if r.method == "POST" and r.path == "/api/sessions")


def running(sim: TimeClockSim, uid: int) -> list[dict[str, Any]]:
    return sim.running_sessions(uid)


class Takeover:
    """The first ``timebot run`` and the one started after it on the same database and settings; as
    a context manager, both are killed when the block ends, however it ends."""

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env, self.tmp_path = env, tmp_path
        self.first = start(env, tmp_path)
        self.restarted: Deployed | None = None

    def restart(self, **extra: str) -> Deployed:
        self.restarted = start({**self.env, **extra}, self.tmp_path, name="restarted")
        return self.restarted

    def kill_and_restart(self, **extra: str) -> Deployed:
        self.first.kill()
        return self.restart(**extra)

    def __enter__(self) -> Takeover:
        return self

    def __exit__(self, *exc: object) -> None:
        self.first.kill()
        if self.restarted is not None:
            self.restarted.kill()

    def answer_after_kill(self, slack: SlackStandIn, key: str) -> str:
        """The first process killed, another started: the one answer the person gets to ``key``."""
        self.kill_and_restart()
        return answered(slack, key)


def clock_in(bot: Deployed, slack: SlackStandIn) -> str:
    """``/clockin`` by Ada, acknowledged; the key of the command's response_url."""
    response, key = bot.driver(slack).command("/clockin", user="U0ADA")
    assert response.status_code == 200
    return key


def told_once(found: Callable[[], list[Any]], what: str, timeout: float = 45.0) -> Any:
    """The one thing ``found`` lists, once there is one and no second came after it."""
    first = wait(found, timeout, what)
    time.sleep(WINDOW + 1.0)  # a second answer (a second takeover) would come now
    assert len(found()) == 1, found()
    return first[0]


def answered(slack: SlackStandIn, key: str, timeout: float = 45.0) -> str:
    return str(told_once(lambda: final_replies(slack, key), "the person's answer", timeout))


def restart_dms(slack: SlackStandIn) -> list[Call]:
    """The direct messages that speak of a restart."""
    return [c for c in slack.calls_to("chat.postMessage") if "restart" in c.args.get("text", "")]


def dm_told_once(slack: SlackStandIn, what: str) -> str:
    return str(told_once(lambda: restart_dms(slack), what).args["text"])


def test_a_clock_in_killed_before_the_vendor_read_is_clocked_in_at_its_own_time_after_the_restart(
    tmp_path: Path,
    env: dict[str, str],
    slack: SlackStandIn,
    timeclock: SimServer,
    timeclock_sim: TimeClockSim,
    database_url: str,
) -> None:
    timeclock.faults.method_latency["GET"] = 3.0  # the read is in flight when the process dies
    with Takeover(env, tmp_path) as bots:
        sent_at = time.time()
        key = clock_in(bots.first, slack)
        wait(lambda: any(r["key"].startswith("cmd:") for r in intake_rows(database_url)), what="the intake row")
        timeclock.faults.method_latency.clear()
        reply = bots.answer_after_kill(slack, key)
        assert "finished after a restart" in reply and "clocked in" in reply, reply
        assert writes(timeclock) == 1
        [session] = running(timeclock_sim, 1)
        assert session["clock_in"] <= int(sent_at) + 2  # when the person asked, not when it was resumed


def test_a_clock_in_killed_during_the_vendor_write_is_reported_not_written_again(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    timeclock.faults.method_latency["POST"] = 0.5  # lands after the kill, before any takeover could read back
    with Takeover(env, tmp_path) as bots:
        key = clock_in(bots.first, slack)
        wait(lambda: ("POST", "/api/sessions") in timeclock.arrived, what="the vendor write")
        reply = bots.answer_after_kill(slack, key)
        assert "finished after a restart" in reply and "clocked in since" in reply, reply
        assert writes(timeclock) == 1
        assert len(running(timeclock_sim, 1)) == 1


def test_a_clock_in_killed_after_the_vendor_answered_but_before_the_reply_is_told_once(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    assert slack.server is not None
    slack.server.faults.script.append("hang")  # the reply never reaches Slack: the process dies sending it
    slack.server.faults.only_path = "/respond/"
    with Takeover(env, tmp_path) as bots:
        key = clock_in(bots.first, slack)
        wait(lambda: writes(timeclock) == 1, what="the vendor's answer")
        wait(lambda: any(p.startswith("/respond/") for _, p in slack.server.arrived), what="the reply on its way")
        reply = bots.answer_after_kill(slack, key)
        assert "finished after a restart" in reply and "clocked in since" in reply, reply
        assert writes(timeclock) == 1
        assert len(running(timeclock_sim, 1)) == 1


def test_a_clock_in_older_than_the_resume_window_is_reported_with_a_button_and_not_written(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, database_url: str
) -> None:
    timeclock.faults.method_latency["GET"] = 3.0
    with Takeover(env, tmp_path) as bots:
        _, key = bots.first.driver(slack).command("/clockin", user="U0ADA")
        wait(lambda: intake_rows(database_url), what="the intake row")
        timeclock.faults.method_latency.clear()
        restarted = bots.kill_and_restart(TIMEBOT_RESUME_WITHIN="0.001")  # 60 ms: all too old
        reply = answered(slack, key)
        assert "didn't reach TimeClock before a restart" in reply and "Clock in now?" in reply, reply
        assert writes(timeclock) == 0
        [payload] = [r for r in slack.responses[key] if r.get("text") == reply]
        assert "intake_clock_in_now" in str(payload.get("blocks"))

        restarted.driver(slack).click("intake_clock_in_now", user="U0ADA", container="message")
        wait(lambda: writes(timeclock) == 1, what="the clock-in the button asked for")


def test_a_new_clock_in_while_a_takeover_is_pending_is_told_so_and_then_not_locked_out(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer
) -> None:
    timeclock.faults.method_latency["GET"] = 3.0
    slow_env = {**env, "TIMEBOT_TAKEOVER_SECONDS": "12"}
    with Takeover(slow_env, tmp_path) as bots:
        _, first = bots.first.driver(slack).command("/clockin", user="U0ADA")
        wait(lambda: ("GET", "/api/sessions") in timeclock.arrived, what="the vendor read")
        timeclock.faults.method_latency.clear()
        restarted = bots.kill_and_restart()
        driver = restarted.driver(slack)

        _, second = driver.command("/clockin", user="U0ADA")
        waiting = wait(lambda: final_replies(slack, second), what="the answer to the second /clockin")[0]
        assert "is being finished after a restart" in waiting, waiting
        assert "still working" not in waiting

        done = answered(slack, first, timeout=60)
        assert "finished after a restart" in done, done
        _, third = driver.command("/clockin", user="U0ADA")
        assert "already clocked in" in wait(lambda: final_replies(slack, third), what="the third answer")[0]
        assert writes(timeclock) == 1


def test_a_clock_out_killed_before_the_vendor_read_ends_the_session_at_the_time_asked(
    tmp_path: Path,
    env: dict[str, str],
    slack: SlackStandIn,
    timeclock: SimServer,
    timeclock_sim: TimeClockSim,
    database_url: str,
) -> None:
    timeclock_sim.add_session(1, time.time() - 3600)
    timeclock.faults.method_latency["GET"] = 3.0
    with Takeover(env, tmp_path) as bots:
        sent_at = time.time()
        _, key = bots.first.driver(slack).command("/clockout", user="U0ADA")
        wait(lambda: intake_rows(database_url), what="the intake row")
        timeclock.faults.method_latency.clear()
        reply = bots.answer_after_kill(slack, key)
        assert "finished after a restart: clocked out at" in reply, reply
        assert timeclock_sim.running_sessions(1) == []
        [ended] = timeclock_sim.sessions.values()
        assert ended["clock_out"] <= int(sent_at) + 2  # when the person asked, not when it was resumed


def test_a_clock_out_killed_during_the_vendor_write_is_reported_not_written_again(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    timeclock_sim.add_session(1, time.time() - 3600)
    timeclock.faults.method_latency["PATCH"] = 0.5  # lands after the kill, before any takeover could read back
    with Takeover(env, tmp_path) as bots:
        _, key = bots.first.driver(slack).command("/clockout", user="U0ADA")
        wait(lambda: any(m == "PATCH" for m, _ in timeclock.arrived), what="the vendor write")
        reply = bots.answer_after_kill(slack, key)
        assert "finished after a restart" in reply and "you're clocked out" in reply, reply
        assert sum(1 for r in timeclock.requests if r.method == "PATCH") == 1
        assert timeclock_sim.running_sessions(1) == []


def test_a_clock_out_killed_after_the_vendor_answered_but_before_the_reply_is_told_once(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    assert slack.server is not None
    timeclock_sim.add_session(1, time.time() - 3600)
    slack.server.faults.script.append("hang")  # the reply never reaches Slack: the process dies sending it
    slack.server.faults.only_path = "/respond/"
    with Takeover(env, tmp_path) as bots:
        _, key = bots.first.driver(slack).command("/clockout", user="U0ADA")
        wait(lambda: any(r.method == "PATCH" for r in timeclock.requests), what="the vendor's answer")
        wait(lambda: any(p.startswith("/respond/") for _, p in slack.server.arrived), what="the reply on its way")
        reply = bots.answer_after_kill(slack, key)
        assert "finished after a restart" in reply and "you're clocked out" in reply, reply
        assert "still working" not in reply
        assert sum(1 for r in timeclock.requests if r.method == "PATCH") == 1
        assert timeclock_sim.running_sessions(1) == []


def test_sigterm_finishes_the_clock_in_it_holds_and_nothing_is_repeated_after_a_restart(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, database_url: str
) -> None:
    timeclock.faults.method_latency["GET"] = 2.0
    with Takeover(env, tmp_path) as bots:
        _, key = bots.first.driver(slack).command("/clockin", user="U0ADA")
        wait(lambda: ("GET", "/api/sessions") in timeclock.arrived, what="the vendor read")
        assert bots.first.terminate() == 0
        assert [r["state"] for r in intake_rows(database_url)] == ["done"]
        assert final_replies(slack, key)[0].startswith(":large_green_circle: Clocked in at")
        bots.restart()
        time.sleep(WINDOW + 1.0)
        assert len(final_replies(slack, key)) == 1
        assert writes(timeclock) == 1


def off_time_writes(server: SimServer) -> int:
    return sum(1 for r in server.requests if r.method == "POST" and r.path == "/api/off-times")


def dms_to(slack: SlackStandIn, user: str) -> list[str]:
    """Every direct message that reached ``user``."""
    return [c.args.get("text", "") for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


def submit_leave(bot: Deployed, slack: SlackStandIn) -> None:
    """Ada asks for a day of leave a week after next Monday, and the form is accepted."""
    day = next_monday() + timedelta(days=7)
    response = bot.driver(slack).submit_view(LEAVE_CALLBACK, leave_values(day, day), user="U0ADA")
    assert response.status_code == 200


def click_cancel(bot: Deployed, slack: SlackStandIn, off: dict[str, Any]) -> None:
    """Ada presses Cancel on her off-time ``off``, and the click is accepted."""
    response = bot.driver(slack).click(
        "leave_cancel", user="U0ADA", value=json.dumps({"id": str(off["id"])}), container="message"
    )
    assert response.status_code == 200


def off_time_deletes(server: SimServer) -> int:
    return sum(1 for r in server.requests if r.method == "DELETE" and r.path.startswith("/api/off-times/"))


def test_a_leave_request_killed_before_the_vendor_read_is_sent_once_after_the_restart(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    timeclock.faults.method_latency["GET"] = 3.0  # the overlap check is in flight when the process dies
    with Takeover(env, tmp_path) as bots:
        submit_leave(bots.first, slack)
        wait(lambda: ("GET", "/api/off-times") in timeclock.arrived, what="the vendor read")
        assert off_time_writes(timeclock) == 0
        timeclock.faults.method_latency.clear()
        bots.kill_and_restart()
        dm = dm_told_once(slack, "the DM about the request")
        assert "was finished after a restart. " in dm and "Leave requested in TimeClock" in dm, dm
        assert dms_to(slack, "U0ADA") == [dm]
        assert "still working" not in dm
        assert off_time_writes(timeclock) == 1 and len(timeclock_sim.off_times) == 1


def test_leave_typed_as_text_killed_before_the_vendor_read_is_sent_after_the_restart_as_the_type_it_named(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    timeclock.faults.method_latency["GET"] = 3.0  # the overlap check is in flight when the process dies
    with Takeover(env, tmp_path) as bots:
        day = next_monday() + timedelta(days=7)
        response, key = bots.first.driver(slack).command("/timeoff", f"other {day.isoformat()}", user="U0ADA")
        assert response.status_code == 200
        wait(lambda: ("GET", "/api/off-times") in timeclock.arrived, what="the vendor read")
        timeclock.faults.method_latency.clear()
        answer = bots.answer_after_kill(slack, key)
        assert "was finished after a restart. " in answer and "Leave requested in TimeClock" in answer, answer
        [off] = timeclock_sim.off_times.values()
        assert off["type"] == 0  # "Other time off", as typed: not the vendor's default type


def test_a_leave_request_killed_during_the_vendor_write_is_found_not_sent_again(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    timeclock.faults.method_latency["POST"] = 0.5  # lands after the kill, before any takeover could read back
    with Takeover(env, tmp_path) as bots:
        day = next_monday() + timedelta(days=7)
        response = bots.first.driver(slack).submit_view(LEAVE_CALLBACK, leave_values(day, day), user="U0ADA")
        assert response.status_code == 200
        wait(lambda: ("POST", "/api/off-times") in timeclock.arrived, what="the vendor write")
        bots.kill_and_restart()
        dm = dm_told_once(slack, "the DM about the request")
        assert "was finished after a restart: TimeClock has it" in dm, dm
        assert off_time_writes(timeclock) == 1 and len(timeclock_sim.off_times) == 1


def test_a_leave_request_killed_after_the_vendor_answered_but_before_the_reply_is_told_once(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    assert slack.server is not None
    slack.server.faults.script.append("hang")  # the DM never reaches Slack: the process dies sending it
    slack.server.faults.only_path = "/api/chat.postMessage"
    with Takeover(env, tmp_path) as bots:
        submit_leave(bots.first, slack)
        wait(lambda: off_time_writes(timeclock) == 1, what="the vendor's answer")
        wait(lambda: ("POST", "/api/chat.postMessage") in slack.server.arrived, what="the DM on its way")
        bots.kill_and_restart()
        dm = dm_told_once(slack, "the DM about the request")
        assert "was finished after a restart: TimeClock has it" in dm, dm
        assert dms_to(slack, "U0ADA") == [dm]
        assert "still working" not in dm
        assert off_time_writes(timeclock) == 1 and len(timeclock_sim.off_times) == 1


def test_a_cancel_killed_before_the_vendor_read_is_carried_out_after_the_restart(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    day = next_monday() + timedelta(days=7)
    off = timeclock_sim.add_off_time(1, day, day)
    timeclock.faults.method_latency["GET"] = 3.0
    with Takeover(env, tmp_path) as bots:
        response = bots.first.driver(slack).click(
            "leave_cancel", user="U0ADA", value=json.dumps({"id": str(off["id"])}), container="message"
        )
        assert response.status_code == 200
        wait(lambda: ("GET", "/api/off-times") in timeclock.arrived, what="the vendor read")
        timeclock.faults.method_latency.clear()
        bots.kill_and_restart()
        dm = dm_told_once(slack, "the DM about the cancel")
        assert "finished after a restart. Cancelled your" in dm, dm
        assert timeclock_sim.off_times == {}


def test_a_cancel_killed_during_the_vendor_write_is_reported_not_sent_again(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    off = timeclock_sim.add_off_time(1, next_monday() + timedelta(days=7), next_monday() + timedelta(days=7))
    # The delete lands after the process is gone, and before the takeover can begin (the heartbeat
    # goes stale no sooner than a second after the kill): a vendor finishes a write sent to it.
    timeclock.faults.method_latency["DELETE"] = 0.5
    with Takeover(env, tmp_path) as bots:
        click_cancel(bots.first, slack, off)
        wait(lambda: any(m == "DELETE" for m, _ in timeclock.arrived), what="the vendor write")
        bots.first.kill()
        assert off_time_deletes(timeclock) == 0  # killed during the write, not after it
        bots.restart()
        dm = dm_told_once(slack, "the DM about the cancel")
        assert "was finished after a restart: TimeClock no longer has that request" in dm, dm
        assert dms_to(slack, "U0ADA") == [dm]
        assert "still working" not in dm
        assert off_time_deletes(timeclock) == 1 and timeclock_sim.off_times == {}


def test_a_cancel_killed_after_the_vendor_answered_but_before_the_reply_is_told_once(
    tmp_path: Path, env: dict[str, str], slack: SlackStandIn, timeclock: SimServer, timeclock_sim: TimeClockSim
) -> None:
    assert slack.server is not None
    off = timeclock_sim.add_off_time(1, next_monday() + timedelta(days=7), next_monday() + timedelta(days=7))
    slack.server.faults.script.append("hang")  # the DM never reaches Slack: the process dies sending it
    slack.server.faults.only_path = "/api/chat.postMessage"
    with Takeover(env, tmp_path) as bots:
        click_cancel(bots.first, slack, off)
        wait(lambda: off_time_deletes(timeclock) == 1, what="the vendor's answer")
        wait(lambda: ("POST", "/api/chat.postMessage") in slack.server.arrived, what="the DM on its way")
        bots.kill_and_restart()
        dm = dm_told_once(slack, "the DM about the cancel")
        assert "was finished after a restart: TimeClock no longer has that request" in dm, dm
        assert dms_to(slack, "U0ADA") == [dm]
        assert "still working" not in dm
        assert off_time_deletes(timeclock) == 1 and timeclock_sim.off_times == {}


def test_a_link_killed_during_the_vendor_call_is_not_resumed_the_pin_is_never_stored_and_the_person_is_told(
    tmp_path: Path,
    env: dict[str, str],
    slack: SlackStandIn,
    timeclock: SimServer,
    timeclock_sim: TimeClockSim,
    database_url: str,
) -> None:
    timeclock_sim.add_user(9, "Katherine", "katherine@example.com", api_key="key-9", pin="789")
    timeclock.faults.method_latency["POST"] = 3.0
    with Takeover(env, tmp_path) as bots:
        meta = json.dumps({"vendor": "timeclock", "target": None})
        bots.first.driver(slack).submit_view(
            LINK_CALLBACK, {"link_pin": text_input("9789")}, user="U0KATH", private_metadata=meta
        )
        wait(lambda: ("POST", "/api/key") in timeclock.arrived, what="the PIN on its way to TimeClock")
        assert "9789" not in str(intake_rows(database_url))
        bots.kill_and_restart()
        dm = wait(lambda: restart_dms(slack), timeout=45, what="the DM about the link")
        assert "interrupted by a restart" in dm[0].args["text"] and "link again" in dm[0].args["text"]
        assert "home_link" in str(dm[0].args.get("blocks"))
