"""``timebot run`` in Socket Mode, as the README's quick start runs it: an app-level token, no
signing secret, the connection opened through ``SLACK_API_URL`` and every request arriving as an
envelope over the WebSocket that the Slack stand-in serves."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO

import httpx
import pytest

from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import SECRET_KEY
from tests.doubles.socket_mode import SocketModeStandIn
from tests.e2e.test_core_bot import ada_pin
from tests.support import BOT_TOKEN, SocketDriver, eventually, leave_values, next_monday, text_input

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
APP_TOKEN = "xapp-1-A0TIMEBOT-1-socketmode"
CONNECTIONS = 2  # TIMEBOT_SOCKET_CONNECTIONS's default


@pytest.fixture
def socket_bot(tmp_path: Path, slack: SlackStandIn, tc_server: SimServer) -> Iterator[SocketDriver]:
    """The real ``timebot run`` process, configured only through its environment."""
    yield from running_bot(tmp_path, slack, tc_server)


def link_over_socket(driver: SocketDriver, slack: SlackStandIn, pin: str) -> None:
    meta = json.dumps({"vendor": "timeclock", "target": None})
    driver.submit_view(ids.LINK_CALLBACK, {"link_pin": text_input(pin)}, private_metadata=meta)
    slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)], timeout=20
    )


def clock_in_requests(tc_server: SimServer) -> int:
    return len([r for r in tc_server.requests if r.method == "POST" and r.path == "/api/sessions"])


def test_run_with_an_app_token_opens_the_connection_through_the_configured_api_url(
    socket_bot: SocketDriver, slack: SlackStandIn
) -> None:
    assert slack.calls_to("apps.connections.open")
    ack, _ = socket_bot.command("/timebot", "link")
    assert ack.payload is None  # a bare ack: the modal opens through views.open
    view = slack.wait_call("views.open", timeout=20)[0].args["view"]
    assert view["callback_id"] == ids.LINK_CALLBACK


def test_clockin_over_socket_mode_is_acked_at_once_and_answered_by_response_url(
    socket_bot: SocketDriver, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link_over_socket(socket_bot, slack, ada_pin(tc_sim))
    tc_server.faults.latency = 5.0
    ack, key = socket_bot.command("/clockin")
    assert ack.seconds < 3.0
    replies = slack.wait_for(lambda: [r for r in slack.responses[key] if "Clocked in" in r["text"]], timeout=30)
    assert replies
    assert clock_in_requests(tc_server) == 1
    assert tc_sim.rejected_auth == 0
    assert len(tc_sim.running_sessions(1)) == 1


def test_a_modal_field_error_comes_back_in_the_socket_mode_ack(socket_bot: SocketDriver, tc_server: SimServer) -> None:
    start = next_monday()
    ack = socket_bot.submit_view(ids.LEAVE_CALLBACK, leave_values(start, start - timedelta(days=2)))
    assert ack.payload == {"response_action": "errors", "errors": {"end": "The last day is before the first day."}}
    assert not tc_server.requests


def test_the_same_command_delivered_twice_over_the_socket_clocks_in_once(
    socket_bot: SocketDriver, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link_over_socket(socket_bot, slack, ada_pin(tc_sim))
    fields, key = socket_bot.make.command_fields("/clockin")
    socket_bot.socket.deliver("slash_commands", fields)
    socket_bot.socket.deliver("slash_commands", fields)
    slack.wait_response(key, timeout=20)
    time.sleep(0.5)
    assert clock_in_requests(tc_server) == 1
    assert len(slack.responses[key]) == 1


def test_debug_logs_in_socket_mode_hold_no_pin_key_token_or_reply_link(
    socket_bot: SocketDriver, slack: SlackStandIn, tc_sim: TimeClockSim, tmp_path: Path
) -> None:
    link_over_socket(socket_bot, slack, ada_pin(tc_sim))
    _, key = socket_bot.command("/clockin")
    slack.wait_for(lambda: [r for r in slack.responses[key] if "Clocked in" in r["text"]], timeout=20)
    log = (tmp_path / "bot.log").read_text()
    assert "Timebot is running in Socket Mode" in log
    for secret in (ada_pin(tc_sim), tc_sim.users[1].api_key, BOT_TOKEN, APP_TOKEN, "ticket=", key):
        assert secret not in log


def test_only_the_app_level_token_may_open_a_socket_mode_connection(slack: SlackStandIn) -> None:
    socket_mode(slack)
    url = slack.api_url + "apps.connections.open"
    as_bot = httpx.post(url, headers={"Authorization": f"Bearer {BOT_TOKEN}"}).json()
    as_app = httpx.post(url, headers={"Authorization": f"Bearer {APP_TOKEN}"}).json()
    assert as_bot == {"ok": False, "error": "not_allowed_token_type"}
    assert as_app["ok"] and as_app["url"].startswith("ws://127.0.0.1:")


# --- Slack's connection refresh, dropped links, a failing apps.connections.open -------------------


@pytest.fixture
def refresh_bot(tmp_path: Path, slack: SlackStandIn, tc_server: SimServer) -> Iterator[SocketDriver]:
    """``timebot run`` against a Slack that closes a refreshed connection 1.5 s after telling it to go."""
    yield from running_bot(tmp_path, slack, tc_server, refresh_close_after=1.5)


def running_bot(
    tmp_path: Path, slack: SlackStandIn, tc_server: SimServer, refresh_close_after: float = 10.0
) -> Iterator[SocketDriver]:
    """``timebot run`` over a started Socket Mode stand-in, stopped with SIGTERM afterwards."""
    socket = socket_mode(slack, refresh_close_after)
    proc, log = start_run(tmp_path, slack, socket, tc_server)
    try:
        yield SocketDriver(slack, socket)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def socket_mode(slack: SlackStandIn, refresh_close_after: float = 10.0) -> SocketModeStandIn:
    """Slack's Socket Mode side, started and answering the stand-in's ``apps.connections.open``."""
    socket = SocketModeStandIn(APP_TOKEN, refresh_close_after=refresh_close_after).start()
    slack.enable_socket_mode(socket)
    return socket


def start_run(
    tmp_path: Path, slack: SlackStandIn, socket: SocketModeStandIn, tc_server: SimServer, **extra: str
) -> tuple[subprocess.Popen[bytes], IO[str]]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timebot.db'}",
        "TIMEBOT_SECRET_KEY": SECRET_KEY,
        "TIMECLOCK_BASE_URL": tc_server.base_url,
        "TIMEBOT_HTTP_READ_TIMEOUT": "10",
        **extra,
    }
    log = (tmp_path / "bot.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "--log-level", "DEBUG", "run"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    socket.wait_connected(timeout=30, count=CONNECTIONS)
    return proc, log


def test_the_bot_keeps_two_socket_mode_connections_open(refresh_bot: SocketDriver) -> None:
    refresh_bot.socket.wait_connected(timeout=10, count=2)
    assert len(refresh_bot.socket.links()) == 2


def test_a_command_half_a_second_after_a_refresh_is_acked_within_a_second_ten_times_out_of_ten(
    refresh_bot: SocketDriver,
) -> None:
    socket = refresh_bot.socket
    for _ in range(10):
        socket.wait_connected(timeout=20, count=CONNECTIONS)
        eventually(lambda: not any(link.told_to_refresh for link in socket.links()), timeout=20)
        socket.disconnect(reason="refresh_requested")
        time.sleep(0.5)
        ack, _ = refresh_bot.command("/clockin")
        assert ack.seconds < 1.0


def test_a_warning_disconnect_is_handled_like_a_refresh(refresh_bot: SocketDriver) -> None:
    socket = refresh_bot.socket
    old = socket.disconnect(reason="warning")
    time.sleep(0.5)
    ack, _ = refresh_bot.command("/clockin")
    assert ack.seconds < 1.0
    eventually(lambda: old not in socket.links() and len(socket.links()) == CONNECTIONS, timeout=20)


def test_the_refreshed_connection_is_replaced(refresh_bot: SocketDriver) -> None:
    socket = refresh_bot.socket
    opened = socket.opened
    old = socket.disconnect()
    eventually(lambda: socket.opened == opened + 1, timeout=10)
    eventually(lambda: old not in socket.links(), timeout=10)
    socket.wait_connected(timeout=10, count=CONNECTIONS)


def test_a_link_dropped_without_a_word_is_reopened_and_commands_are_still_acked(refresh_bot: SocketDriver) -> None:
    socket = refresh_bot.socket
    opened = socket.opened
    socket.drop()
    eventually(lambda: socket.opened == opened + 1, timeout=20)
    socket.wait_connected(timeout=20, count=CONNECTIONS)
    for _ in range(CONNECTIONS):  # round robin: each open connection gets one
        ack, _ = refresh_bot.command("/clockin")
        assert ack.seconds < 1.0


def test_apps_connections_open_failing_once_is_retried_after_a_back_off(
    refresh_bot: SocketDriver, slack: SlackStandIn
) -> None:
    socket = refresh_bot.socket
    opened, calls = socket.opened, len(slack.calls_to("apps.connections.open"))
    socket.fail_next_open(1, status=500, error="internal_error")
    socket.disconnect()
    eventually(lambda: socket.opened == opened + 1, timeout=20)
    assert len(slack.calls_to("apps.connections.open")) == calls + 2
    socket.wait_connected(timeout=20, count=CONNECTIONS)
    ack, _ = refresh_bot.command("/clockin")
    assert ack.seconds < 1.0


def test_the_bot_starts_even_when_the_first_apps_connections_open_fails(
    tmp_path: Path, slack: SlackStandIn, tc_server: SimServer
) -> None:
    socket = socket_mode(slack)
    socket.fail_next_open(1, error="internal_error")
    proc, log = start_run(tmp_path, slack, socket, tc_server)
    try:
        ack, _ = SocketDriver(slack, socket).command("/clockin")
        assert ack.seconds < 1.0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_a_shutdown_during_a_refresh_ends_cleanly(tmp_path: Path, slack: SlackStandIn, tc_server: SimServer) -> None:
    socket = socket_mode(slack, refresh_close_after=5.0)
    proc, log = start_run(tmp_path, slack, socket, tc_server)
    socket.fail_next_open(1, error="internal_error")  # the replacement is still backing off
    socket.disconnect()
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=15)
    log.close()
    output = (tmp_path / "bot.log").read_text()
    assert code == 0
    assert "Traceback" not in output
    eventually(lambda: not socket.links(), timeout=10)


def test_a_command_from_another_workspace_over_socket_mode_gets_one_line_and_reaches_no_vendor(
    socket_bot: SocketDriver, slack: SlackStandIn, tc_server: SimServer
) -> None:
    from bot.slack.bolt import FOREIGN_WORKSPACE

    fields, key = socket_bot.make.command_fields("/clockin", team_id="T9")
    ack = socket_bot.socket.deliver("slash_commands", fields)
    assert ack.payload is None
    assert slack.wait_response(key) == [{"text": FOREIGN_WORKSPACE}]
    assert tc_server.requests == []
