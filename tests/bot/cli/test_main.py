"""The ``timebot`` command line: start-up errors are one line and exit 2, migrations run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())


def timebot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_malformed_setting_is_named_in_one_line_with_exit_code_2(tmp_path: Path) -> None:
    result = timebot(tmp_path, "run", TIMEBOT_WORKERS="lots", SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TIMEBOT_WORKERS" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("TIMECLOCK_TIMEZONE", "Foo/Bar"),
        ("WHOSOFF_TIMEZONE", "Mars/Base"),
        ("TIMECLOCK_CONCURRENCY", "abc"),
        ("TIMECLOCK_BASE_URL", "timeclock.example.com"),
        ("SWIPECLOCK_SITE_ID", "abc"),
        ("SLACK_API_URL", "slack.com/api"),
    ],
)
def test_a_malformed_vendor_or_url_setting_is_named_in_one_line_with_exit_code_2(
    tmp_path: Path, setting: str, value: str
) -> None:
    env = {"TIMECLOCK_BASE_URL": "http://127.0.0.1:9", setting: value}
    result = timebot(tmp_path, "check", **env)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith(f"timebot: {setting} is invalid") and "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["bogus://", "not a url", "postgresql+psycopg://timebot:pw@127.0.0.1:1/timebot"])
def test_a_database_that_cannot_be_used_stops_start_up_in_one_line_with_exit_code_2(tmp_path: Path, url: str) -> None:
    result = timebot(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
    assert ":pw@" not in result.stderr


def test_http_mode_without_a_signing_secret_says_which_setting_to_add(tmp_path: Path) -> None:
    result = timebot(tmp_path, "run", SLACK_BOT_TOKEN="xoxb-1")
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr and "SLACK_APP_TOKEN" in result.stderr


def test_a_missing_secret_key_stops_start_up_and_says_how_to_make_one(tmp_path: Path) -> None:
    result = timebot(
        tmp_path, "run", SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", DATABASE_URL=f"sqlite:///{tmp_path}/t.db"
    )
    assert result.returncode == 2
    assert "TIMEBOT_SECRET_KEY" in result.stderr and "`./dev keys generate`" in result.stderr


def test_a_malformed_secret_key_is_refused(tmp_path: Path) -> None:
    result = timebot(
        tmp_path,
        "run",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        TIMEBOT_SECRET_KEY="not-a-key",
        DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
    )
    assert result.returncode == 2
    assert "TIMEBOT_SECRET_KEY is not a valid key" in result.stderr


def test_keys_generate_prints_a_usable_key(tmp_path: Path) -> None:
    result = timebot(tmp_path, "keys", "generate")
    assert result.returncode == 0
    Fernet(result.stdout.strip())


def test_db_upgrade_migrates_an_empty_database_to_the_latest_revision(tmp_path: Path) -> None:
    result = timebot(tmp_path, "db", "upgrade", DATABASE_URL=f"sqlite:///{tmp_path}/t.db")
    assert result.returncode == 0, result.stderr
    assert "database at revision" in result.stdout and "None" not in result.stdout


def test_settings_are_read_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite:///{tmp_path}/from-env.db\n")
    result = timebot(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").exists()


def test_vendor_settings_come_from_the_env_file_given_and_blank_optional_ones_are_unset(tmp_path: Path) -> None:
    (tmp_path / "company.env").write_text(
        "TIMETAP_API_KEY=12345\nTIMETAP_PRIVATE_KEY=secret\nTIMETAP_BASE_URL=http://127.0.0.1:9\n"
        "TIMETAP_LEAVE_REASON_ID=\nSWIPECLOCK_PARTNER_ID=\n"
    )
    result = timebot(tmp_path, "--env-file", "company.env", "check")
    assert "TimeTap" in result.stdout, result.stderr
    assert "is invalid" not in result.stderr


def test_a_sandbox_on_a_busy_port_says_so_in_one_line_without_a_banner_or_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = timebot(tmp_path, "sandbox", "timeclock", "--port", str(busy.getsockname()[1]))
    assert result.returncode == 2 and not result.stdout
    assert result.stderr.strip().count("\n") == 0 and "can't listen on port" in result.stderr
    assert "Traceback" not in result.stderr
