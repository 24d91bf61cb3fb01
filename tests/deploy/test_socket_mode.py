"""Socket Mode as deployed: ``SLACK_APP_TOKEN`` set, no signing secret and no public URL; the
connections opened through ``SLACK_API_URL``'s ``apps.connections.open``, each request an envelope."""

from __future__ import annotations

from pathlib import Path

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.harness import link_timeclock, replies, slack_env, start
from tests.doubles.socket_mode import SocketModeStandIn
from tests.support import SocketDriver

APP_TOKEN = "xapp-1-A0TIMEBOT-1-deploy"


def test_a_command_over_socket_mode_is_acked_on_the_socket_and_answered(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer, secret_key: str
) -> None:
    socket = SocketModeStandIn(APP_TOKEN).start()
    slack.enable_socket_mode(socket)
    env = {
        **slack_env(slack, tmp_path, secret_key),
        "SLACK_APP_TOKEN": APP_TOKEN,
        "TIMEBOT_SOCKET_CONNECTIONS": "3",
        "TIMECLOCK_BASE_URL": tc_server.base_url,
    }
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs none
    bot = start(env, tmp_path)
    try:
        assert "Timebot is running in Socket Mode (3 connections)" in bot.log
        socket.wait_connected(timeout=20, count=3)
        driver = SocketDriver(slack, socket)
        link_timeclock(driver.submit_view, slack, f"1{tc_sim.users[1].pin}")
        ack, key = driver.command("/clockin")
        assert ack.envelope_id
        replies(slack, key, "Clocked in")
        assert len(tc_sim.running_sessions(1)) == 1
    finally:
        code = bot.terminate()
        socket.stop()
    assert code == 0, bot.log[-2000:]
    assert "Traceback" not in bot.log
