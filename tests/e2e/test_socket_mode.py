"""``timebot run`` in Socket Mode, as the README's quick start runs it: an app-level token, no
signing secret, the connection opened through ``SLACK_API_URL`` and every request arriving as an
envelope over the WebSocket that the Slack stand-in serves."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from handlers.render import blocks
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import SECRET_KEY
from tests.doubles.socket_mode import SocketModeStandIn
from tests.e2e.test_core_bot import ada_pin
from tests.support import BOT_TOKEN, SocketDriver, leave_values, next_monday, text_input

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
APP_TOKEN = "xapp-1-A0TIMEBOT-1-socketmode"


@pytest.fixture
def socket_bot(tmp_path: Path, slack: SlackStandIn, tc_server: SimServer) -> Iterator[SocketDriver]:
    """The real ``timebot run`` process, configured only through its environment."""
    socket = SocketModeStandIn(APP_TOKEN).start()
    slack.enable_socket_mode(socket)
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timebot.db'}", "TIMEBOT_SECRET_KEY": SECRET_KEY,
        "TIMECLOCK_BASE_URL": tc_server.base_url, "TIMEBOT_HTTP_READ_TIMEOUT": "10",
    }
    log = (tmp_path / "bot.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "--log-level", "DEBUG", "run"], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        socket.wait_connected(timeout=30)
        yield SocketDriver(slack, socket)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def link_over_socket(driver: SocketDriver, slack: SlackStandIn, pin: str) -> None:
    meta = json.dumps({"vendor": "timeclock", "target": None})
    driver.submit_view(blocks.LINK_CALLBACK, {"link_pin": text_input(pin)}, private_metadata=meta)
    slack.wait_for(lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)],
                   timeout=20)


def clock_in_requests(tc_server: SimServer) -> int:
    return len([r for r in tc_server.requests if r.method == "POST" and r.path == "/api/sessions"])


def test_run_with_an_app_token_opens_the_connection_through_the_configured_api_url(
    socket_bot: SocketDriver, slack: SlackStandIn
) -> None:
    assert slack.calls_to("apps.connections.open")
    ack, _ = socket_bot.command("/timebot", "link")
    assert ack.payload is None  # a bare ack: the modal opens through views.open
    view = slack.wait_call("views.open", timeout=20)[0].args["view"]
    assert view["callback_id"] == blocks.LINK_CALLBACK


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


def test_a_modal_field_error_comes_back_in_the_socket_mode_ack(
    socket_bot: SocketDriver, tc_server: SimServer
) -> None:
    start = next_monday()
    ack = socket_bot.submit_view(blocks.LEAVE_CALLBACK, leave_values(start, start - timedelta(days=2)))
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
    slack.enable_socket_mode(SocketModeStandIn(APP_TOKEN).start())
    url = slack.api_url + "apps.connections.open"
    as_bot = httpx.post(url, headers={"Authorization": f"Bearer {BOT_TOKEN}"}).json()
    as_app = httpx.post(url, headers={"Authorization": f"Bearer {APP_TOKEN}"}).json()
    assert as_bot == {"ok": False, "error": "not_allowed_token_type"}
    assert as_app["ok"] and as_app["url"].startswith("ws://127.0.0.1:")
