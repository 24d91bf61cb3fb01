"""Set-up an operator meets first, over real HTTP against the Slack stand-in: wrong tokens,
partly configured vendors, `timebot check` advice, a port in use, the start-up summary, the
manifest."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.bot.cli.test_main import ROOT, timebot
from tests.support import BOT_TOKEN

KEY = Fernet.generate_key().decode()


@pytest.fixture
def tc_url() -> Iterator[str]:
    with SimServer(TimeClockSim.demo().handle, name="timeclock") as server:
        yield server.base_url


def run_env(tmp_path: Path, slack: SlackStandIn, tc_url: str, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": slack.api_url,
        "TIMEBOT_SECRET_KEY": KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TIMECLOCK_BASE_URL": tc_url,
        "TIMEBOT_SCHEDULER": "false",
        **extra,
    }


def one_line_exit_2(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("timebot: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_bot_token_slack_refuses_stops_start_up_naming_it(tmp_path: Path, slack: SlackStandIn, tc_url: str) -> None:
    line = one_line_exit_2(
        timebot(tmp_path, "run", "--port", "0", **run_env(tmp_path, slack, tc_url, SLACK_BOT_TOKEN="xoxb-revoked"))
    )
    assert "SLACK_BOT_TOKEN" in line and "invalid_auth" in line
    assert [c.method for c in slack.calls] == []  # refused: nothing recorded as a call that got through


def test_a_refused_bot_token_stops_start_up_before_any_scheduler_starts(
    tmp_path: Path, slack: SlackStandIn, tc_url: str
) -> None:
    result = timebot(
        tmp_path,
        "run",
        "--port",
        "0",
        **run_env(tmp_path, slack, tc_url, SLACK_BOT_TOKEN="xoxb-revoked", TIMEBOT_SCHEDULER="true"),
    )
    one_line_exit_2(result)
    assert "apscheduler" not in result.stderr and "Added job" not in result.stderr


def test_check_without_a_vendor_still_checks_slack_and_agrees_with_run_that_it_starts(
    tmp_path: Path, slack: SlackStandIn, tc_url: str
) -> None:
    env = run_env(tmp_path, slack, tc_url)
    del env["TIMECLOCK_BASE_URL"]
    result = timebot(tmp_path, "check", **env)
    assert "Slack: ok" in result.stdout
    assert "vendors: none configured, so `run` starts" in result.stdout
    assert result.returncode == 0, result.stdout


def test_an_app_token_slack_refuses_stops_socket_mode_start_up_naming_it(
    tmp_path: Path, slack: SlackStandIn, tc_url: str
) -> None:
    line = one_line_exit_2(timebot(tmp_path, "run", **run_env(tmp_path, slack, tc_url, SLACK_APP_TOKEN="xapp-wrong")))
    assert "SLACK_APP_TOKEN" in line
    assert slack.calls_to("auth.test") and slack.calls_to("apps.connections.open")


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path, slack: SlackStandIn, tc_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        line = one_line_exit_2(
            timebot(tmp_path, "run", "--host", "127.0.0.1", "--port", port, **run_env(tmp_path, slack, tc_url))
        )
    assert port in line and "--port" in line


def test_start_up_says_the_mode_and_which_vendor_serves_what_without_bolts_token_warning(
    tmp_path: Path, slack: SlackStandIn, tc_url: str
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), **run_env(tmp_path, slack, tc_url)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = []
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if "Timebot is running" in line:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    summary = seen[-1]
    assert "HTTP mode on http://127.0.0.1:" in summary
    assert "clocking in and out → TimeClock" in summary and "Sandbox as @timebot" in summary
    assert not [line for line in seen if "will be unused" in line or "Traceback" in line]


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        (
            {"WHOSOFF_BASE_URL": "http://127.0.0.1:9", "WHOSOFF_APP_ID": "app"},
            ["WHOSOFF_CLIENT_SECRET", "WHOSOFF_USERNAME", "WHOSOFF_PASSWORD"],
        ),
        ({"TIMETAP_API_KEY": "300001"}, ["TIMETAP_PRIVATE_KEY"]),
        ({"SWIPECLOCK_API_SECRET": "s"}, ["SWIPECLOCK_SITE_ID"]),
    ],
)
def test_a_partly_configured_vendor_stops_start_up_naming_what_is_missing(
    tmp_path: Path, slack: SlackStandIn, tc_url: str, env: dict[str, str], missing: list[str]
) -> None:
    line = one_line_exit_2(timebot(tmp_path, "run", **run_env(tmp_path, slack, tc_url, **env)))
    assert all(name in line for name in missing), line
    assert not slack.calls  # stopped before Slack was asked anything


def test_check_reports_the_bot_and_its_scopes_against_the_manifest(
    tmp_path: Path, slack: SlackStandIn, tc_url: str
) -> None:
    slack.scopes = ["commands", "chat:write", "users:read"]
    result = timebot(tmp_path, "check", **run_env(tmp_path, slack, tc_url))
    slack_line = next(line for line in result.stdout.splitlines() if line.startswith("Slack:"))
    assert "@timebot (UBOT) in Sandbox" in slack_line
    assert "scopes granted: commands, chat:write, users:read" in slack_line
    assert "MISSING from manifest.yml: chat:write.public, users:read.email" in slack_line
    assert result.returncode == 1


def test_check_with_a_refused_bot_token_names_the_setting(tmp_path: Path, slack: SlackStandIn, tc_url: str) -> None:
    result = timebot(tmp_path, "check", **run_env(tmp_path, slack, tc_url, SLACK_BOT_TOKEN="xoxb-nope"))
    assert "Slack: FAILED: SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in result.stdout
    assert result.returncode == 1


def test_check_names_the_timeclock_service_key_when_timeclock_refuses_it(
    tmp_path: Path, slack: SlackStandIn, tc_url: str
) -> None:
    result = timebot(
        tmp_path,
        "check",
        **run_env(tmp_path, slack, tc_url, TIMECLOCK_SERVICE_USER_ID="1", TIMECLOCK_SERVICE_API_KEY="not-the-key"),
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("TimeClock:"))
    assert "FAILED" in line and "TIMECLOCK_SERVICE_API_KEY" in line
    assert "/timebot link" not in line and "Link again" not in line


def test_manifest_for_http_mode_fills_in_every_request_url(tmp_path: Path) -> None:
    result = timebot(tmp_path, "manifest", "--http", "https://bot.example.com")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    url = "https://bot.example.com/slack/events"
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {url}
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_manifest_for_http_mode_fills_in_the_oauth_redirect_url(tmp_path: Path) -> None:
    result = timebot(tmp_path, "manifest", "--http", "https://bot.example.com/")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["oauth_config"]["redirect_urls"] == [
        "https://bot.example.com/slack/oauth_redirect"
    ]


def test_manifest_refuses_a_plain_http_url_in_one_line(tmp_path: Path) -> None:
    result = timebot(tmp_path, "manifest", "--http", "http://bot.example.com")
    assert result.returncode != 0 and not result.stdout
    assert "Slack only calls https URLs" in result.stderr and "Traceback" not in result.stderr


def test_manifest_takes_plain_http_for_a_bot_on_this_machine(tmp_path: Path) -> None:
    result = timebot(tmp_path, "manifest", "--http", "http://localhost:3000")
    assert result.returncode == 0, result.stderr
    assert (
        yaml.safe_load(result.stdout)["settings"]["interactivity"]["request_url"]
        == "http://localhost:3000/slack/events"
    )


def test_dev_help_lists_the_subcommands() -> None:
    result = subprocess.run(
        [str(ROOT / "dev"), "help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHON": sys.executable},
    )
    listed = {line.split()[0] for line in result.stdout.splitlines() if line[:4] == "    " and line[4:5].isalpha()}
    assert {"run", "test", "check", "sandbox", "keys", "manifest", "digest", "users", "db"} <= listed, result.stdout
