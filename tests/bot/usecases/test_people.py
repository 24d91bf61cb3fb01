"""Matching Slack users to vendor users: bulk sync, the unmatched list, admin links, `timebot check`;
and each person's Slack profile: kept current by ``user_change``, asked of Slack after a week at most."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.usecases.people import PERSON_CACHE_SECONDS
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from storage.db import make_engine
from storage.models import Person, utcnow
from storage.store import Store
from tests.conftest import SECRET_KEY, BotUnderTest, make_settings, start_bot, timeclock_vendor
from tests.support import BOT_TOKEN, eventually

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())


@pytest.fixture
def whosoff() -> Iterator[tuple[WhosOffSim, SimServer]]:
    sim = WhosOffSim.demo()
    with SimServer(sim.handle, name="whosoff") as server:
        yield sim, server


def whosoff_env(sim: WhosOffSim, server: SimServer) -> dict[str, str]:
    service = next(u for u in sim.users.values() if u.email_address == "timebot@example.com")
    return {
        "WHOSOFF_BASE_URL": server.base_url,
        "WHOSOFF_APP_ID": sim.app_id,
        "WHOSOFF_CLIENT_SECRET": sim.client_secret,
        "WHOSOFF_USERNAME": service.email_address,
        "WHOSOFF_PASSWORD": service.password,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
    }


def timebot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "TIMEBOT_SECRET_KEY": SECRET_KEY,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "--log-level", "WARNING", *args],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_users_sync_links_every_slack_member_whose_email_the_vendor_knows(
    tmp_path: Path, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer]
) -> None:
    result = timebot(
        tmp_path, "users", "sync", SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url, **whosoff_env(*whosoff)
    )
    assert result.returncode == 0, result.stderr
    assert "WhosOff: 5 newly linked, 0 already linked, 0 Slack users without a match" in result.stdout
    store = Store(make_engine(f"sqlite:///{tmp_path}/t.db"))
    linked = {i.slack_user_id: i.linked_by for i in store.identities_for_vendor("T0DEMO", "whosoff")}
    assert linked == {u: "email" for u in ("U0ADA", "U0GRACE", "U0ALAN", "U0KATH", "U0LINUS")}


def test_users_unmatched_lists_people_on_both_sides_without_a_match(
    tmp_path: Path, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer]
) -> None:
    slack.add_user("U0NEW", "New Starter", "new@example.com")
    result = timebot(
        tmp_path, "users", "unmatched", SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.api_url, **whosoff_env(*whosoff)
    )
    assert result.returncode == 0, result.stderr
    assert "U0NEW  New Starter  <new@example.com>" in result.stdout
    assert "timebot@example.com" in result.stdout  # the vendor's service account has no Slack user
    assert "U0ADA" not in result.stdout


def test_check_prints_ok_with_the_round_trip_for_each_vendor(
    tmp_path: Path, whosoff: tuple[WhosOffSim, SimServer], tc_server: SimServer
) -> None:
    result = timebot(tmp_path, "check", TIMECLOCK_BASE_URL=tc_server.base_url, **whosoff_env(*whosoff))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Slack: not checked (SLACK_BOT_TOKEN is not set")
    lines = result.stdout.strip().splitlines()[1:]
    assert lines[0].startswith("TimeClock: ok in ") and " ms " in lines[0]
    assert lines[1].startswith("WhosOff: ok in ") and "users" in lines[1]


def test_check_names_the_setting_to_look_at_when_a_vendor_refuses(
    tmp_path: Path, whosoff: tuple[WhosOffSim, SimServer]
) -> None:
    env = {**whosoff_env(*whosoff), "WHOSOFF_CLIENT_SECRET": "wrong"}
    result = timebot(tmp_path, "check", **env)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if line.startswith("WhosOff:"))
    assert line.startswith("WhosOff: FAILED") and "WHOSOFF_CLIENT_SECRET" in line


def test_check_flags_routing_an_action_to_a_vendor_that_cannot_do_it(
    tmp_path: Path, whosoff: tuple[WhosOffSim, SimServer]
) -> None:
    result = timebot(tmp_path, "check", TIMEBOT_CLOCK_VENDOR="whosoff", **whosoff_env(*whosoff))
    assert result.returncode == 1
    assert "routing: TIMEBOT_CLOCK_VENDOR=whosoff, but WhosOff" in result.stdout
    assert "WhosOff: ok in " in result.stdout


def test_check_flags_a_secret_key_run_would_refuse(tmp_path: Path, whosoff: tuple[WhosOffSim, SimServer]) -> None:
    result = timebot(tmp_path, "check", TIMEBOT_SECRET_KEY="not-a-key", **whosoff_env(*whosoff))
    assert result.returncode == 1
    assert "settings: TIMEBOT_SECRET_KEY is not a valid key" in result.stdout


@pytest.fixture
def whosoff_bot(
    tmp_path: Path, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch, whosoff: tuple[WhosOffSim, SimServer]
) -> Iterator[BotUnderTest]:
    for k, v in whosoff_env(*whosoff).items():
        monkeypatch.setenv(k, v)
    bot = start_bot(make_settings(tmp_path, slack), slack, None)  # type: ignore[arg-type]
    yield bot
    bot.close()


def test_an_admin_links_someone_by_vendor_id(
    whosoff_bot: BotUnderTest, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer]
) -> None:
    sim, _ = whosoff
    katherine = next(u for u in sim.users.values() if u.email_address == "katherine@example.com")
    _, key = whosoff_bot.driver.command("/timebot", f"link <@U0ALAN|alan> {katherine.user_id}", user="U0GRACE")
    assert "Linked <@U0ALAN> to WhosOff" in slack.wait_response(key)[-1]["text"]
    row = whosoff_bot.runtime.services.store.identity("T0DEMO", "U0ALAN", "whosoff")
    assert row is not None and row.vendor_user_id == str(katherine.user_id) and row.linked_by == "admin:U0GRACE"


def test_someone_who_is_not_an_admin_cannot_link_others_and_the_attempt_is_logged(
    whosoff_bot: BotUnderTest, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    _, key = whosoff_bot.driver.command("/timebot", "link <@U0ALAN|alan> 3", user="U0ADA")
    assert "Only Timebot admins" in slack.wait_response(key)[-1]["text"]
    store = whosoff_bot.runtime.services.store
    assert store.identity("T0DEMO", "U0ALAN", "whosoff") is None
    assert [(a.slack_user_id, a.outcome) for a in store.audit_log() if a.action == "link"] == [("U0ADA", "refused")]
    assert any("refused admin-only link" in r.getMessage() for r in caplog.records)


def test_an_email_match_never_takes_an_account_an_admin_gave_someone_else(
    whosoff_bot: BotUnderTest, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer]
) -> None:
    sim, _ = whosoff
    katherine = next(u for u in sim.users.values() if u.email_address == "katherine@example.com")
    _, key = whosoff_bot.driver.command("/timebot", f"link <@U0ALAN|alan> {katherine.user_id}", user="U0GRACE")
    assert "Linked <@U0ALAN>" in slack.wait_response(key)[-1]["text"]
    _, key = whosoff_bot.driver.command("/timebot", "link", user="U0KATH")
    assert "already linked to" in slack.wait_response(key)[-1]["text"]
    assert whosoff_bot.runtime.services.store.identity("T0DEMO", "U0KATH", "whosoff") is None


def test_linking_by_email_tells_the_person_who_they_are_in_the_vendor(
    whosoff_bot: BotUnderTest, slack: SlackStandIn
) -> None:
    _, key = whosoff_bot.driver.command("/timebot", "link")
    assert "matched by your Slack email" in slack.wait_response(key)[-1]["text"]


def test_someone_the_vendor_does_not_know_is_told_to_ask_an_admin(
    whosoff_bot: BotUnderTest, slack: SlackStandIn
) -> None:
    slack.add_user("U0NEW", "New Starter", "new@example.com")
    _, key = whosoff_bot.driver.command("/timebot", "link", user="U0NEW")
    text = slack.wait_response(key)[-1]["text"]
    assert "couldn't find you in WhosOff" in text and "new@example.com" in text


# --- the person's Slack profile: kept current by user_change, users.info after a week at most --


class MovedClock:
    """The bot's clock (``create_app(clock=…)``): real time, plus however far a test moved it."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


@pytest.fixture
def clock() -> MovedClock:
    return MovedClock()


@pytest.fixture
def clocked_bot(tmp_path: Path, slack: SlackStandIn, tc_server: SimServer, clock: MovedClock) -> Iterator[BotUnderTest]:
    under_test = start_bot(
        make_settings(tmp_path, slack), slack, {"timeclock": timeclock_vendor(tc_server.base_url)}, clock=clock
    )
    yield under_test
    under_test.close()


def _age_profile(bot: BotUnderTest, clock: MovedClock, user: str, hours: float) -> datetime:
    """The profile as a later morning finds it: written ``hours`` ago, and this process's own copy
    of the row long lapsed; returns the row's time."""
    store = bot.runtime.services.store
    with store.session() as s:
        row = s.get(Person, ("T0DEMO", user))
        assert row is not None
        row.updated_at = utcnow() - timedelta(hours=hours)
        s.add(row)
        s.commit()
    clock.ahead += PERSON_CACHE_SECONDS + 1
    return row.updated_at


def _asked(slack: SlackStandIn, user: str) -> int:
    return [c.args["user"] for c in slack.calls_to("users.info")].count(user)


def _stored(bot: BotUnderTest, user: str) -> Person:
    person = bot.runtime.services.store.person("T0DEMO", user)
    assert person is not None
    return person


def test_a_profile_thirteen_hours_old_is_used_without_asking_slack(
    clocked_bot: BotUnderTest, slack: SlackStandIn, clock: MovedClock
) -> None:
    people = clocked_bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")  # first sight: asked and saved
    _age_profile(clocked_bot, clock, "U0ADA", 13)  # yesterday's rush, seen from this morning's

    assert str(people.actor("T0DEMO", "U0ADA").tz) == "Europe/London"
    assert _asked(slack, "U0ADA") == 1


def test_a_stale_profile_slack_confirms_unchanged_is_not_rewritten_nor_asked_for_again(
    clocked_bot: BotUnderTest, slack: SlackStandIn, clock: MovedClock
) -> None:
    people = clocked_bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")
    aged = _age_profile(clocked_bot, clock, "U0ADA", 8 * 24)

    people.actor("T0DEMO", "U0ADA")
    clock.ahead += PERSON_CACHE_SECONDS + 1  # and once more from the database, not this process's copy
    people.actor("T0DEMO", "U0ADA")

    assert _asked(slack, "U0ADA") == 2  # once more, not twice
    assert _stored(clocked_bot, "U0ADA").updated_at == aged  # nothing changed: no write


def test_a_stale_profile_that_changed_in_slack_is_saved(
    clocked_bot: BotUnderTest, slack: SlackStandIn, clock: MovedClock
) -> None:
    people = clocked_bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")
    _age_profile(clocked_bot, clock, "U0ADA", 8 * 24)
    slack.users["U0ADA"].tz = "Europe/Warsaw"  # moved, and the event saying so was missed

    assert str(people.actor("T0DEMO", "U0ADA").tz) == "Europe/Warsaw"
    assert _stored(clocked_bot, "U0ADA").tz == "Europe/Warsaw"


def test_a_profile_another_process_saved_shows_here_once_this_processs_copy_lapses(
    clocked_bot: BotUnderTest, slack: SlackStandIn, clock: MovedClock
) -> None:
    people = clocked_bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")
    other_process = Store(clocked_bot.runtime.engine)
    other_process.save_person("T0DEMO", "U0ADA", name="Ada Lovelace", email="ada@example.com", tz="Asia/Tokyo")

    assert str(people.actor("T0DEMO", "U0ADA").tz) == "Europe/London"  # its own copy: no read of the table
    clock.ahead += PERSON_CACHE_SECONDS + 1
    assert str(people.actor("T0DEMO", "U0ADA").tz) == "Asia/Tokyo"
    assert str(people.cached_zone("T0DEMO", "U0ADA")) == "Asia/Tokyo"
    assert _asked(slack, "U0ADA") == 1


def test_a_user_change_event_moves_a_known_persons_time_zone_without_asking_slack(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    _, key = bot.driver.command("/timebot", "status")
    assert "time zone (Europe/London)" in slack.wait_response(key)[-1]["text"]
    asked = _asked(slack, "U0ADA")
    slack.users["U0ADA"].tz = "Europe/Warsaw"  # she moves in Slack's settings

    assert bot.driver.event(bot.driver.make.user_change("U0ADA")).status_code == 200
    people = bot.runtime.services.people
    eventually(lambda: str(people.cached_zone("T0DEMO", "U0ADA")) == "Europe/Warsaw")

    _, key = bot.driver.command("/timebot", "status")
    assert "time zone (Europe/Warsaw)" in slack.wait_response(key)[-1]["text"]
    assert _stored(bot, "U0ADA").tz == "Europe/Warsaw"
    assert _asked(slack, "U0ADA") == asked


def test_a_user_change_for_someone_timebot_never_met_stores_nothing(bot: BotUnderTest, slack: SlackStandIn) -> None:
    people = bot.runtime.services.people
    assert people.profile_changed("T0DEMO", slack.user_object("U0KATH")) is False
    assert bot.runtime.services.store.people("T0DEMO") == []


def test_an_unchanged_profile_in_a_user_change_writes_nothing(bot: BotUnderTest, slack: SlackStandIn) -> None:
    people = bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")
    written = _stored(bot, "U0ADA").updated_at  # then a status change: nothing Timebot keeps differs

    assert people.profile_changed("T0DEMO", slack.user_object("U0ADA")) is False
    assert _stored(bot, "U0ADA").updated_at == written


def test_an_unchanged_user_change_counts_as_slacks_word_so_a_week_old_profile_is_not_asked_for(
    clocked_bot: BotUnderTest, slack: SlackStandIn, clock: MovedClock
) -> None:
    people = clocked_bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")
    aged = _age_profile(clocked_bot, clock, "U0ADA", 8 * 24)

    people.profile_changed("T0DEMO", slack.user_object("U0ADA"))
    people.actor("T0DEMO", "U0ADA")

    assert _asked(slack, "U0ADA") == 1
    assert _stored(clocked_bot, "U0ADA").updated_at == aged


@pytest.mark.parametrize(
    "user",
    [
        {"id": "U0ADA", "real_name": "Ada Lovelace", "tz": 3600},
        {"id": "U0ADA", "real_name": "Ada Lovelace", "tz": "Europe/Warsaw", "profile": "ada@example.com"},
        {"real_name": "Ada Lovelace", "tz": "Europe/Warsaw"},
    ],
    ids=["a number for a time zone", "a profile that is not an object", "no user id"],
)
def test_a_malformed_user_change_changes_nothing(bot: BotUnderTest, user: dict[str, Any]) -> None:
    people = bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")
    before = _stored(bot, "U0ADA")

    assert people.profile_changed("T0DEMO", user) is False
    after = _stored(bot, "U0ADA")
    assert (after.tz, after.updated_at) == (before.tz, before.updated_at)


def test_an_unsigned_user_change_changes_nothing(bot: BotUnderTest, slack: SlackStandIn) -> None:
    people = bot.runtime.services.people
    people.actor("T0DEMO", "U0ADA")
    people.actor("T0DEMO", "U0ALAN")
    slack.users["U0ADA"].tz = "Europe/Warsaw"

    forged = bot.driver.event(bot.driver.make.user_change("U0ADA"), secret="not-the-signing-secret")
    assert forged.status_code == 401
    slack.users["U0ALAN"].tz = "Asia/Tokyo"  # a genuine one after it: the forged one would have run by then
    bot.driver.event(bot.driver.make.user_change("U0ALAN"))
    eventually(lambda: _stored(bot, "U0ALAN").tz == "Asia/Tokyo")

    assert _stored(bot, "U0ADA").tz == "Europe/London"
    assert _asked(slack, "U0ADA") == 1
