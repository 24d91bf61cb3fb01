"""Forgotten clock-outs when Slack says no to the reminder: a rate limit is waited out (nothing
went out, so the next check sends it), any other refusal is recorded and never retried. Bot,
TimeClock simulator and Slack stand-in share a controllable clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.http_retry import builtin_handlers

from tests.bot.usecases.hygiene_support import World

LONDON = ZoneInfo("Europe/London")
EVENING = datetime(2026, 7, 14, 18, 7, tzinfo=LONDON)  # a Tuesday, outside quiet hours


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack-sdk waits Retry-After plus up to a second at random; with Retry-After 0, no wait."""
    monkeypatch.setattr(builtin_handlers, "random", SimpleNamespace(random=lambda: 0.0))


def due(world: World) -> None:
    """Ada linked, and a session of hers 10 h 5 min old: her reminder is due."""
    world.link("U0ADA", 1)
    world.sim.add_session(1, world.clock() - timedelta(hours=10, minutes=5).total_seconds())


def test_a_reminder_slack_rate_limits_past_the_retries_goes_out_at_the_next_check(world_factory, no_jitter) -> None:
    world = world_factory(EVENING)
    due(world)
    world.slack.rate_limit("chat.postMessage", times=4, retry_after=0)  # the posting client tries 1 + 3 times
    assert world.services.hygiene.check() == 0
    assert world.dms("U0ADA") == []
    assert [w.status for w in world.services.hygiene.hygiene.watches("timeclock", ["open"])] == ["open"]
    assert world.services.hygiene.check() == 1
    assert len(world.dms("U0ADA")) == 1


def test_a_reminder_slack_refuses_for_good_is_recorded_with_slacks_error_and_not_sent_again(world_factory) -> None:
    world = world_factory(EVENING)
    due(world)
    world.slack.refuse("chat.postMessage", "channel_not_found")
    assert world.services.hygiene.check() == 0
    [failed] = world.services.hygiene.hygiene.watches("timeclock", ["failed"])
    assert failed.detail == "chat.postMessage: channel_not_found"
    assert world.services.hygiene.check() == 0
    assert world.dms("U0ADA") == []
