"""SIGTERM, as a deploy, ``docker stop`` or Kubernetes sends it: the process stops by itself, with
exit code 0, and work already acknowledged to Slack is finished and answered first."""

from __future__ import annotations

from pathlib import Path

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.harness import link_timeclock, replies, slack_env, start
from tests.doubles.socket_mode import SocketModeStandIn
from tests.support import SocketDriver, eventually

APP_TOKEN = "xapp-1-A0TIMEBOT-1-sigterm"


def test_an_idle_process_exits_0_on_sigterm(
    tmp_path: Path, slack: SlackStandIn, tc_server: SimServer, secret_key: str
) -> None:
    bot = start({**slack_env(slack, tmp_path, secret_key), "TIMECLOCK_BASE_URL": tc_server.base_url}, tmp_path)
    assert bot.terminate(timeout=20) == 0, bot.log[-2000:]
    assert "Traceback" not in bot.log


def test_a_clock_in_in_flight_at_sigterm_is_still_made_and_answered(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer, secret_key: str
) -> None:
    bot = start({**slack_env(slack, tmp_path, secret_key), "TIMECLOCK_BASE_URL": tc_server.base_url}, tmp_path)
    try:
        driver = bot.driver(slack)
        link_timeclock(driver.submit_view, slack, f"1{tc_sim.users[1].pin}")
        tc_server.faults.latency = 2.0  # TimeClock is slow: the clock-in is still on its way at SIGTERM
        response, key = driver.command("/clockin")
        assert response.status_code == 200  # acknowledged at once; the vendor call runs after
        eventually(lambda: tc_server.in_flight > 0, timeout=20)
    finally:
        code = bot.terminate(timeout=30)
    assert code == 0, bot.log[-2000:]
    assert replies(slack, key, "Clocked in", timeout=1)
    assert len(tc_sim.running_sessions(1)) == 1
    assert "Traceback" not in bot.log


def test_in_socket_mode_a_clock_in_in_flight_at_sigterm_is_still_made_and_answered(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer, secret_key: str
) -> None:
    socket = SocketModeStandIn(APP_TOKEN).start()
    slack.enable_socket_mode(socket)
    env = {
        **slack_env(slack, tmp_path, secret_key),
        "SLACK_APP_TOKEN": APP_TOKEN,
        "TIMECLOCK_BASE_URL": tc_server.base_url,
    }
    bot = start(env, tmp_path)
    try:
        socket.wait_connected(timeout=20, count=2)
        driver = SocketDriver(slack, socket)
        link_timeclock(driver.submit_view, slack, f"1{tc_sim.users[1].pin}")
        tc_server.faults.latency = 2.0
        ack, key = driver.command("/clockin")
        assert ack.envelope_id
        eventually(lambda: tc_server.in_flight > 0, timeout=20)
    finally:
        code = bot.terminate(timeout=30)
        socket.stop()
    assert code == 0, bot.log[-2000:]
    assert replies(slack, key, "Clocked in", timeout=1)
    assert len(tc_sim.running_sessions(1)) == 1
    assert "Traceback" not in bot.log
