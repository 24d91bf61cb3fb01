"""Admin rights as Slack has them now, stored keys the running key can't open, a read-only database."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError
from bot.crypto import SecretBox
from bot.runtime.app import create_app
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.bot.cli.test_main import timebot
from tests.bot.digests.support import start_digest_bot
from tests.bot.digests.test_commands import MENTION, reply
from tests.conftest import BotUnderTest, make_settings, start_bot, timeclock_vendor
from tests.e2e.test_core_bot import ada_pin, link
from tests.support import BOT_TOKEN, SIGNING_SECRET, next_monday

BOSS = "U0BOSS"  # a workspace admin in Slack, not in TIMEBOT_ADMINS


# --- admin rights --------------------------------------------------------------------------


def test_a_demoted_workspace_admin_is_refused_a_digest_a_minute_later(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer
) -> None:
    now = [time.time()]
    slack.add_user(BOSS, "Bo Boss", "bo@example.com", "UTC", is_admin=True)
    bot = start_digest_bot(tmp_path, slack, wo_server, clock=lambda: now[0], TIMEBOT_ADMINS="U0SOMEONE")
    try:
        assert reply(bot, slack, f"digest add {MENTION} 09:00", user=BOSS)["text"].startswith("Added")
        slack.users[BOSS].is_admin = False  # demoted in Slack
        now[0] += 61
        answer = reply(bot, slack, f"digest add {MENTION} 10:00", user=BOSS)
        assert "Only Timebot admins" in answer["text"]
        assert [c.args["user"] for c in slack.calls_to("users.info")].count(BOSS) >= 2  # asked Slack again
    finally:
        bot.close()


def test_timebot_admins_stays_an_override_whatever_slack_says(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer
) -> None:
    bot = start_digest_bot(tmp_path, slack, wo_server, TIMEBOT_ADMINS="U0ADA")  # not an admin in Slack
    try:
        assert reply(bot, slack, f"digest add {MENTION} 09:00", user="U0ADA")["text"].startswith("Added")
    finally:
        bot.close()


# --- stored keys ---------------------------------------------------------------------------


def linked_bot(tmp_path: Path, slack: SlackStandIn, tc_server: SimServer, tc_sim: TimeClockSim) -> BotUnderTest:
    bot = start_bot(make_settings(tmp_path, slack), slack, {"timeclock": timeclock_vendor(tc_server.base_url)})
    link(bot, "U0ADA", ada_pin(tc_sim))
    link(bot, "U0ALAN", f"3{tc_sim.users[3].pin}")
    return bot


def test_a_restart_with_a_different_key_stops_with_one_line_and_exit_code_2(
    tmp_path: Path, slack: SlackStandIn, tc_server: SimServer, tc_sim: TimeClockSim
) -> None:
    linked_bot(tmp_path, slack, tc_server, tc_sim).close()
    result = timebot(
        tmp_path,
        "--log-level",
        "WARNING",
        "run",
        "--port",
        "0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'timebot.db'}",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        TIMEBOT_SECRET_KEY=Fernet.generate_key().decode(),
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "TIMEBOT_OLD_SECRET_KEYS" in result.stderr and "timebot keys rotate" in result.stderr


def test_a_restart_with_the_old_key_listed_as_old_starts(
    tmp_path: Path, slack: SlackStandIn, tc_server: SimServer, tc_sim: TimeClockSim
) -> None:
    bot = linked_bot(tmp_path, slack, tc_server, tc_sim)
    old = bot.runtime.settings.secret_key.get_secret_value()  # type: ignore[union-attr]
    bot.close()
    with pytest.raises(ConfigError, match="TIMEBOT_SECRET_KEY can't decrypt any"):
        create_app(make_settings(tmp_path, slack, TIMEBOT_SECRET_KEY=Fernet.generate_key().decode()), vendors={})
    create_app(
        make_settings(tmp_path, slack, TIMEBOT_SECRET_KEY=Fernet.generate_key().decode(), TIMEBOT_OLD_SECRET_KEYS=old),
        vendors={},
    ).close()


def spoil_alans_key(tmp_path: Path) -> None:
    foreign = SecretBox(Fernet.generate_key().decode()).encrypt("a key from another installation")
    with sqlite3.connect(tmp_path / "timebot.db") as db:
        db.execute("update identity set secret_enc = ? where slack_user_id = 'U0ALAN'", (foreign,))


def test_some_unreadable_keys_at_start_up_log_one_error_with_the_count(
    tmp_path: Path, slack: SlackStandIn, tc_server: SimServer, tc_sim: TimeClockSim, caplog: pytest.LogCaptureFixture
) -> None:
    linked_bot(tmp_path, slack, tc_server, tc_sim).close()
    spoil_alans_key(tmp_path)
    with caplog.at_level(logging.INFO):
        create_app(make_settings(tmp_path, slack), vendors={}).close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("1 of 2 stored credentials checked can't be decrypted")


def test_whosoff_says_how_many_people_it_left_out_and_why_and_warns_once_per_run(
    tmp_path: Path, slack: SlackStandIn, tc_server: SimServer, tc_sim: TimeClockSim, caplog: pytest.LogCaptureFixture
) -> None:
    bot = linked_bot(tmp_path, slack, tc_server, tc_sim)
    try:
        spoil_alans_key(tmp_path)
        monday = next_monday()
        tc_sim.add_off_time(1, monday, monday)
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                _, key = bot.driver.command("/whosoff", f"{monday}..{monday}", user="U0GRACE")
                answer = json.dumps(slack.wait_response(key)[-1])
                assert "Ada Lovelace" in answer  # named as the Slack directory knows her
                assert "1 person left out: their stored keys can't be read" in answer
                assert "TIMEBOT_SECRET_KEY" in answer
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "decrypt" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        bot.close()


# --- the database volume -------------------------------------------------------------------


def test_a_database_where_nothing_can_be_written_stops_the_bot_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    """Tests run as root, where a 0555 directory is still writable: a path under a plain file
    fails for everyone, at the same step a read-only volume does (creating the migration lock)."""
    (tmp_path / "volume").write_text("not a directory")
    result = timebot(
        tmp_path,
        "--log-level",
        "WARNING",
        "run",
        DATABASE_URL=f"sqlite:///{tmp_path / 'volume' / 'x.db'}",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        TIMEBOT_SECRET_KEY=Fernet.generate_key().decode(),
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "DATABASE_URL" in result.stderr and "x.db" in result.stderr
