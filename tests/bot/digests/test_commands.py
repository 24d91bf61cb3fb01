"""``/timebot digest add|list|remove|preview``: signed slash commands over HTTP to the running bot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given
from hypothesis import strategies as st

from bot.digests.spec import canonical_days, day_set, describe_days, parse_days, parse_spec
from bot.jobs.digests import DigestSchedule
from bot.parse import InputError
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from storage.digests import DigestStore
from tests.bot.digests.support import (
    ADMIN,
    CHANNEL,
    NY,
    digests,
    local,
    posts,
    seed_demo_people,
    start_digest_bot,
    user_id,
)
from tests.conftest import BotUnderTest
from tests.support import TEAM

MENTION = f"<#{CHANNEL}|team-digest>"


@pytest.fixture
def bot(tmp_path: Path, slack: SlackStandIn, wo_server: SimServer) -> Iterator[BotUnderTest]:
    under_test = start_digest_bot(tmp_path, slack, wo_server)
    seed_demo_people(under_test.runtime.engine)
    yield under_test
    under_test.close()


def reply(bot: BotUnderTest, slack: SlackStandIn, text: str, user: str = ADMIN) -> dict:
    response, key = bot.driver.command("/timebot", text, user=user)
    assert response.status_code == 200
    return slack.wait_response(key)[-1]


def store(bot: BotUnderTest) -> DigestStore:
    return DigestStore(bot.runtime.engine)


def job_time(bot: BotUnderTest, channel: str = CHANNEL) -> datetime | None:
    scheduler = digests(bot).scheduler
    assert scheduler is not None
    return scheduler.next_fire(TEAM, channel)


def test_an_admin_adds_a_digest_that_is_stored_and_scheduled_at_once(bot: BotUnderTest, slack: SlackStandIn) -> None:
    answer = reply(bot, slack, f"digest add {MENTION} 09:00 America/New_York mon-fri")
    assert answer["text"].startswith(
        "Added a daily digest: <#C0DIGEST> · everyone · daily at 09:00 on Mon–Fri · America/New_York · next "
    )
    assert ":warning:" not in answer["text"]
    assert answer["response_type"] == "ephemeral"
    sub = store(bot).subscription(TEAM, CHANNEL)
    assert sub is not None and (sub.hour, sub.minute, sub.tz, sub.days) == (9, 0, NY, "mon-fri")
    fire = job_time(bot)
    assert fire is not None and local(fire).strftime("%H:%M") == "09:00" and local(fire).weekday() < 5


def test_someone_who_is_not_an_admin_is_refused_and_the_refusal_is_audited(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    answer = reply(bot, slack, f"digest add {MENTION} 09:00", user="U0ADA")
    assert "Only Timebot admins" in answer["text"]
    assert store(bot).subscription(TEAM, CHANNEL) is None
    audit = bot.runtime.services.store.audit_log()
    assert any(a.action == "digest add" and a.outcome == "refused" and a.slack_user_id == "U0ADA" for a in audit)


def test_the_time_zone_defaults_to_the_admins_own_slack_zone(bot: BotUnderTest, slack: SlackStandIn) -> None:
    reply(bot, slack, f"digest add {MENTION} 8:30am")
    sub = store(bot).subscription(TEAM, CHANNEL)
    assert sub is not None and (sub.hour, sub.minute, sub.tz) == (8, 30, NY)  # Grace's Slack zone


def test_crontab_numbers_for_days_are_refused_in_the_ack(bot: BotUnderTest, slack: SlackStandIn) -> None:
    response, _ = bot.driver.command("/timebot", f"digest add {MENTION} 09:00 1-5", user=ADMIN)
    assert "day names" in response.text
    assert store(bot).subscription(TEAM, CHANNEL) is None


def test_a_channel_that_is_not_a_mention_is_refused_in_the_ack(bot: BotUnderTest) -> None:
    response, _ = bot.driver.command("/timebot", "digest add team 09:00", user=ADMIN)
    assert "isn't a channel" in response.text


def test_adding_the_same_channel_again_changes_its_schedule_without_a_restart(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    reply(bot, slack, f"digest add {MENTION} 09:00 {NY}")
    answer = reply(bot, slack, f"digest add {MENTION} 10:45 Europe/London daily skip-empty")
    assert answer["text"].startswith("Updated the daily digest")
    fire = job_time(bot)
    assert fire is not None and local(fire, "Europe/London").strftime("%H:%M") == "10:45"
    assert len(store(bot).subscriptions(TEAM)) == 1


def test_list_shows_each_digest_with_its_next_run(bot: BotUnderTest, slack: SlackStandIn) -> None:
    reply(bot, slack, f"digest add {MENTION} 09:00 {NY} mon,wed,fri skip-empty")
    text = reply(bot, slack, "digest list")["text"]
    assert "<#C0DIGEST> · everyone · daily at 09:00 on Mon, Wed, Fri · America/New_York · next " in text
    assert "skips empty days" in text and ("EST" in text or "EDT" in text)


def test_remove_deletes_the_digest_and_its_job(bot: BotUnderTest, slack: SlackStandIn) -> None:
    reply(bot, slack, f"digest add {MENTION} 09:00")
    assert "Removed" in reply(bot, slack, f"digest remove {MENTION}")["text"]
    assert store(bot).subscription(TEAM, CHANNEL) is None
    assert job_time(bot) is None
    assert "had no daily digest" in reply(bot, slack, f"digest remove {MENTION}")["text"]


def test_preview_shows_todays_digest_to_the_caller_only(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    today = local(datetime.now(UTC)).date()  # the admin's (and so the preview's) zone
    wo_sim.add_leave(user_id(wo_sim, "ada@example.com"), today, today + timedelta(days=1), note="secret reason")
    reply(bot, slack, f"digest add {MENTION} 09:00 mon-sun")
    answer = reply(bot, slack, f"digest preview {MENTION}")
    assert answer["response_type"] == "ephemeral"
    text = json.dumps(answer["blocks"])
    assert "Ada Lovelace" in text and "only you can see this" in text and "secret reason" not in text
    assert not posts(slack)
    assert not store(bot).runs(CHANNEL)


def test_preview_of_a_channel_without_a_digest_says_there_is_none_and_how_to_add_one(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    response, key = bot.driver.command("/timebot", f"digest preview {MENTION}", user=ADMIN)
    assert response.status_code == 200
    note, preview = slack.wait_response(key, count=2)[:2]
    assert f"<#{CHANNEL}> has no daily digest" in note["text"]
    assert f"/timebot digest add <#{CHANNEL}> 09:00" in note["text"]
    assert preview["blocks"] and not posts(slack)


def test_a_scheduler_picks_up_a_digest_added_by_another_process_on_resync(bot: BotUnderTest) -> None:
    other = DigestStore(bot.runtime.engine)  # what another bot process writes
    from storage.models import DigestSubscription

    other.save_subscription(
        DigestSubscription(
            team_id=TEAM, channel_id="C0OTHER", hour=7, minute=15, tz="UTC", days="mon-sun", created_by=ADMIN
        ),
        datetime.now(UTC),
    )
    scheduler = digests(bot).scheduler
    assert isinstance(scheduler, DigestSchedule)
    assert job_time(bot, "C0OTHER") is None
    scheduler.resync()
    fire = job_time(bot, "C0OTHER")
    assert fire is not None and fire.astimezone(UTC).strftime("%H:%M") == "07:15"
    other.delete_subscription(TEAM, "C0OTHER")
    scheduler.resync()
    assert job_time(bot, "C0OTHER") is None


# --- parsing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("mon-fri", "mon-fri"),
        ("weekdays", "mon-fri"),
        ("Monday-Friday", "mon-fri"),
        ("daily", "mon-sun"),
        ("mon,wed,fri", "mon,wed,fri"),
        ("fri-mon", "mon,fri-sun"),
        ("sat,sun", "sat,sun"),
        ("tue–thu", "tue-thu"),
    ],
)
def test_days_are_read_as_names_into_the_cron_day_of_week(typed: str, canonical: str) -> None:
    assert parse_days(typed) == canonical


@given(st.sets(st.integers(min_value=0, max_value=6), min_size=1))
def test_any_set_of_weekdays_round_trips_and_fires_only_on_those_days(days: set[int]) -> None:
    canonical = canonical_days(days)
    assert parse_days(canonical) == canonical and day_set(canonical) == frozenset(days)
    trigger = CronTrigger(day_of_week=canonical, hour=9, minute=0, timezone=UTC)
    fired, moment = set(), datetime(2026, 3, 1, tzinfo=UTC)
    for _ in range(14):
        moment = trigger.get_next_fire_time(None, moment + timedelta(minutes=1))
        fired.add(moment.weekday())
    assert fired == set(days)
    assert describe_days(canonical)


@pytest.mark.parametrize("typed", ["1-5", "mon-funday", "0,6"])
def test_days_that_are_numbers_or_unknown_names_are_refused(typed: str) -> None:
    with pytest.raises(InputError):
        parse_days(typed)


def test_the_options_after_the_time_can_come_in_any_order() -> None:
    spec = parse_spec(["7pm", "skip-empty", "weekends", "europe/berlin", "ahead=5"])
    assert (spec.hour, spec.minute, spec.tz, spec.days, spec.skip_empty, spec.days_ahead) == (
        19,
        0,
        "Europe/Berlin",
        "sat,sun",
        True,
        5,
    )
