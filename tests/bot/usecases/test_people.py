"""Matching Slack users to vendor users: bulk sync, the unmatched list, admin links, `timebot check`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from storage.db import make_engine
from storage.models import Person, utcnow
from storage.queries import Store
from tests.conftest import SECRET_KEY, BotUnderTest, make_settings, start_bot
from tests.support import BOT_TOKEN

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())


@pytest.fixture
def whosoff() -> Iterator[tuple[WhosOffSim, SimServer]]:
    sim = WhosOffSim.demo()
    with SimServer(sim.handle, name="whosoff") as server:
        yield sim, server


def whosoff_env(sim: WhosOffSim, server: SimServer) -> dict[str, str]:
    service = next(u for u in sim.users.values() if u.email_address == "timebot@example.com")
    return {"WHOSOFF_BASE_URL": server.base_url, "WHOSOFF_APP_ID": sim.app_id,
            "WHOSOFF_CLIENT_SECRET": sim.client_secret, "WHOSOFF_USERNAME": service.email_address,
            "WHOSOFF_PASSWORD": service.password, "WHOSOFF_IP_ADDRESS": "127.0.0.1"}


def timebot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite:///{tmp_path}/t.db", "TIMEBOT_SECRET_KEY": SECRET_KEY}
    return subprocess.run([sys.executable, "-m", "bot.cli", "--log-level", "WARNING", *args], cwd=tmp_path,
                          env={**base, **env}, capture_output=True, text=True, timeout=60, check=False)


def test_users_sync_links_every_slack_member_whose_email_the_vendor_knows(
        tmp_path: Path, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer]) -> None:
    result = timebot(tmp_path, "users", "sync", SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url,
                     **whosoff_env(*whosoff))
    assert result.returncode == 0, result.stderr
    assert "WhosOff: 5 newly linked, 0 already linked, 0 Slack users without a match" in result.stdout
    store = Store(make_engine(f"sqlite:///{tmp_path}/t.db"))
    linked = {i.slack_user_id: i.linked_by for i in store.identities_for_vendor("T0DEMO", "whosoff")}
    assert linked == {u: "email" for u in ("U0ADA", "U0GRACE", "U0ALAN", "U0KATH", "U0LINUS")}


def test_users_unmatched_lists_people_on_both_sides_without_a_match(
        tmp_path: Path, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer]) -> None:
    slack.add_user("U0NEW", "New Starter", "new@example.com")
    result = timebot(tmp_path, "users", "unmatched", SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url,
                     **whosoff_env(*whosoff))
    assert result.returncode == 0, result.stderr
    assert "U0NEW  New Starter  <new@example.com>" in result.stdout
    assert "timebot@example.com" in result.stdout  # the vendor's service account has no Slack user
    assert "U0ADA" not in result.stdout


def test_check_prints_ok_with_the_round_trip_for_each_vendor(
        tmp_path: Path, whosoff: tuple[WhosOffSim, SimServer], tc_server: SimServer) -> None:
    result = timebot(tmp_path, "check", TIMECLOCK_BASE_URL=tc_server.base_url, **whosoff_env(*whosoff))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Slack: not checked (SLACK_BOT_TOKEN is not set")
    lines = result.stdout.strip().splitlines()[1:]
    assert lines[0].startswith("TimeClock: ok in ") and " ms " in lines[0]
    assert lines[1].startswith("WhosOff: ok in ") and "users" in lines[1]


def test_check_names_the_setting_to_look_at_when_a_vendor_refuses(
        tmp_path: Path, whosoff: tuple[WhosOffSim, SimServer]) -> None:
    env = {**whosoff_env(*whosoff), "WHOSOFF_CLIENT_SECRET": "wrong"}
    result = timebot(tmp_path, "check", **env)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if line.startswith("WhosOff:"))
    assert line.startswith("WhosOff: FAILED") and "WHOSOFF_CLIENT_SECRET" in line


def test_check_flags_routing_an_action_to_a_vendor_that_cannot_do_it(
        tmp_path: Path, whosoff: tuple[WhosOffSim, SimServer]) -> None:
    result = timebot(tmp_path, "check", TIMEBOT_CLOCK_VENDOR="whosoff", **whosoff_env(*whosoff))
    assert result.returncode == 1
    assert "routing: TIMEBOT_CLOCK_VENDOR=whosoff, but WhosOff" in result.stdout
    assert "WhosOff: ok in " in result.stdout


def test_check_flags_a_secret_key_run_would_refuse(tmp_path: Path, whosoff: tuple[WhosOffSim, SimServer]) -> None:
    result = timebot(tmp_path, "check", TIMEBOT_SECRET_KEY="not-a-key", **whosoff_env(*whosoff))
    assert result.returncode == 1
    assert "settings: TIMEBOT_SECRET_KEY is not a valid key" in result.stdout


@pytest.fixture
def whosoff_bot(tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch,
                whosoff: tuple[WhosOffSim, SimServer]) -> Iterator[BotUnderTest]:
    for k, v in whosoff_env(*whosoff).items():
        monkeypatch.setenv(k, v)
    bot = start_bot(make_settings(tmp_path, slack), slack, None)  # type: ignore[arg-type]
    yield bot
    bot.close()


def test_an_admin_links_someone_by_vendor_id(whosoff_bot: BotUnderTest, slack: SlackStandIn,
                                             whosoff: tuple[WhosOffSim, SimServer]) -> None:
    sim, _ = whosoff
    katherine = next(u for u in sim.users.values() if u.email_address == "katherine@example.com")
    _, key = whosoff_bot.driver.command("/timebot", f"link <@U0ALAN|alan> {katherine.user_id}", user="U0GRACE")
    assert "Linked <@U0ALAN> to WhosOff" in slack.wait_response(key)[-1]["text"]
    row = whosoff_bot.runtime.services.store.identity("T0DEMO", "U0ALAN", "whosoff")
    assert row is not None and row.vendor_user_id == str(katherine.user_id) and row.linked_by == "admin:U0GRACE"


def test_someone_who_is_not_an_admin_cannot_link_others_and_the_attempt_is_logged(
        whosoff_bot: BotUnderTest, slack: SlackStandIn, caplog: pytest.LogCaptureFixture) -> None:
    _, key = whosoff_bot.driver.command("/timebot", "link <@U0ALAN|alan> 3", user="U0ADA")
    assert "Only Timebot admins" in slack.wait_response(key)[-1]["text"]
    store = whosoff_bot.runtime.services.store
    assert store.identity("T0DEMO", "U0ALAN", "whosoff") is None
    assert [(a.slack_user_id, a.outcome) for a in store.audit_log() if a.action == "link"] == [("U0ADA", "refused")]
    assert any("refused admin-only link" in r.getMessage() for r in caplog.records)


def test_an_email_match_never_takes_an_account_an_admin_gave_someone_else(
        whosoff_bot: BotUnderTest, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer]) -> None:
    sim, _ = whosoff
    katherine = next(u for u in sim.users.values() if u.email_address == "katherine@example.com")
    _, key = whosoff_bot.driver.command("/timebot", f"link <@U0ALAN|alan> {katherine.user_id}", user="U0GRACE")
    assert "Linked <@U0ALAN>" in slack.wait_response(key)[-1]["text"]
    _, key = whosoff_bot.driver.command("/timebot", "link", user="U0KATH")
    assert "already linked to" in slack.wait_response(key)[-1]["text"]
    assert whosoff_bot.runtime.services.store.identity("T0DEMO", "U0KATH", "whosoff") is None


def test_linking_by_email_tells_the_person_who_they_are_in_the_vendor(
        whosoff_bot: BotUnderTest, slack: SlackStandIn) -> None:
    _, key = whosoff_bot.driver.command("/timebot", "link")
    assert "matched by your Slack email" in slack.wait_response(key)[-1]["text"]


def test_someone_the_vendor_does_not_know_is_told_to_ask_an_admin(
        whosoff_bot: BotUnderTest, slack: SlackStandIn) -> None:
    slack.add_user("U0NEW", "New Starter", "new@example.com")
    _, key = whosoff_bot.driver.command("/timebot", "link", user="U0NEW")
    text = slack.wait_response(key)[-1]["text"]
    assert "couldn't find you in WhosOff" in text and "new@example.com" in text


# --- the person's Slack profile, cached 12 hours ----------------------------------------------


def _age_profile(bot: BotUnderTest, user: str, hours: float) -> datetime:
    """Make the cached profile ``hours`` old, as the next morning finds yesterday's; returns its time."""
    store = bot.runtime.services.store
    with store.session() as s:
        row = s.get(Person, ("T0DEMO", user))
        assert row is not None
        row.updated_at = utcnow() - timedelta(hours=hours)
        s.add(row)
        s.commit()
        return row.updated_at


def test_a_stale_profile_slack_confirms_unchanged_is_not_rewritten_nor_asked_for_again(
        bot: BotUnderTest, slack: SlackStandIn) -> None:
    people = bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")  # first sight: asked and saved
    aged = _age_profile(bot, "U0ADA", 13)

    people.actor("T0DEMO", "U0ADA")
    people.actor("T0DEMO", "U0ADA")

    assert [c.args["user"] for c in slack.calls_to("users.info")].count("U0ADA") == 2  # once more, not twice
    stored = bot.runtime.services.store.person("T0DEMO", "U0ADA")
    assert stored is not None and stored.updated_at == aged  # nothing changed: no write


def test_a_stale_profile_that_changed_in_slack_is_saved(bot: BotUnderTest, slack: SlackStandIn) -> None:
    people = bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")
    _age_profile(bot, "U0ADA", 13)
    slack.users["U0ADA"].tz = "Europe/Warsaw"  # moved

    assert str(people.actor("T0DEMO", "U0ADA").tz) == "Europe/Warsaw"
    stored = bot.runtime.services.store.person("T0DEMO", "U0ADA")
    assert stored is not None and stored.tz == "Europe/Warsaw"
