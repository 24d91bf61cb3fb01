"""When digests fire: wall-clock times across DST (time-machine drives the real APScheduler),
catch-up after downtime and retries (an injected clock drives the decisions). No sleeps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from bot import formatting as fmt
from sandbox.server import Request, Response, SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import (
    ADMIN,
    CHANNEL,
    all_text,
    digests,
    local,
    migrated,
    posts,
    runs,
    seed_demo_people,
    start_digest_bot,
    subscribe,
    wait_until,
)
from tests.conftest import BotUnderTest

MENTION = f"<#{CHANNEL}|team-digest>"


class Clock:
    """The time the digest code sees (``create_app(clock=…)``); tests set it, nothing ticks."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> float:
        return self.moment.timestamp()

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


def ny(*args: int) -> datetime:
    """A New York wall-clock time, as an aware UTC instant."""
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)  # type: ignore[misc]


def start(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer, clock: Clock | None = None, **overrides: object
) -> BotUnderTest:
    kwargs = {"clock": clock} if clock else {}
    bot = start_digest_bot(tmp_path, slack, wo_server, **kwargs, **overrides)  # type: ignore[arg-type]
    seed_demo_people(bot.runtime.engine)
    return bot


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (ny(2026, 3, 7, 9, 0), ny(2026, 3, 8, 9, 0)),  # Sat 14:00Z (EST), then Sun 13:00Z (EDT)
        (ny(2026, 10, 31, 9, 0), ny(2026, 11, 1, 9, 0)),  # Sat 13:00Z (EDT), then Sun 14:00Z (EST)
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_new_york_digest_fires_at_nine_local_time_on_both_sides_of_a_dst_change(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer, before: datetime, after: datetime
) -> None:
    assert after - before != timedelta(days=1)  # the instants really are 23 or 25 hours apart
    with time_machine.travel(before - timedelta(hours=1), tick=True) as traveller:
        bot = start(tmp_path, slack, wo_server)
        try:
            _, key = bot.driver.command("/timebot", f"digest add {MENTION} 09:00 America/New_York daily", user=ADMIN)
            assert "Added" in slack.wait_response(key)[-1]["text"]
            scheduler = digests(bot).scheduler
            assert scheduler is not None
            for n, moment in enumerate((before, after), start=1):
                traveller.move_to(moment - timedelta(seconds=1))
                scheduler.wakeup()
                slack.wait_for(lambda n=n: len(posts(slack)) >= n, timeout=15)
        finally:
            bot.close()
    first, second = posts(slack)
    for call, expected in ((first, before), (second, after)):
        posted = datetime.fromtimestamp(call.at, UTC)
        assert expected <= posted < expected + timedelta(seconds=5)
        assert local(posted).strftime("%H:%M") == "09:00"
        assert call.args["blocks"][0]["text"]["text"] == f"Who's off today · {fmt.day(local(expected).date())}"


def test_a_run_missed_while_the_bot_was_down_is_posted_late_when_it_comes_back_the_same_day(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer
) -> None:
    url = f"sqlite:///{tmp_path / 'timebot.db'}"
    subscribe(migrated(url), hour=9, since=ny(2026, 3, 2, 12, 0))
    clock = Clock(ny(2026, 3, 9, 11, 0))  # Monday 11:00 EDT: the 09:00 run never happened
    bot = start(tmp_path, slack, wo_server, clock)
    try:
        slack.wait_for(lambda: posts(slack), timeout=15)
        [run] = wait_until(lambda: [r for r in runs(bot.runtime.engine) if r.status == "sent"], what="sent run")
    finally:
        bot.close()
    assert "Posted late: this digest was due at 09:00 EDT" in all_text([posts(slack)[0].args])
    assert (str(run.local_date), run.late, run.trigger) == ("2026-03-09", True, "catch-up")


def test_a_run_missed_on_an_earlier_day_is_skipped_and_logged(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'timebot.db'}"
    subscribe(migrated(url), hour=9, since=ny(2026, 3, 2, 12, 0))
    clock = Clock(ny(2026, 3, 10, 8, 0))  # Tuesday 08:00: Monday's run was missed, today's is not due yet
    caplog.set_level(logging.WARNING, logger="bot.digests")
    bot = start(tmp_path, slack, wo_server, clock)
    try:
        [run] = wait_until(lambda: runs(bot.runtime.engine), what="the missed run recorded")
    finally:
        bot.close()
    assert (str(run.local_date), run.status) == ("2026-03-09", "missed")
    assert not posts(slack)
    assert any("was missed" in r.getMessage() and CHANNEL in r.getMessage() for r in caplog.records)


def test_a_run_carried_past_local_midnight_is_not_posted_under_the_new_date(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer
) -> None:
    clock = Clock(ny(2026, 3, 10, 0, 30))  # the 23:50 job of Monday, run late on Tuesday
    bot = start(tmp_path, slack, wo_server, clock, TIMEBOT_SCHEDULER=False)
    try:
        subscribe(bot.runtime.engine, hour=23, minute=50, since=ny(2026, 3, 2, 12, 0))
        assert digests(bot).fire("T0DEMO", CHANNEL) is None
    finally:
        bot.close()
    assert not posts(slack) and not runs(bot.runtime.engine)


def test_a_digest_added_after_todays_time_first_posts_the_next_day(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer
) -> None:
    clock = Clock(ny(2026, 3, 9, 11, 0))
    bot = start(tmp_path, slack, wo_server, clock, TIMEBOT_SCHEDULER=False)
    try:
        subscribe(bot.runtime.engine, hour=9, since=ny(2026, 3, 9, 10, 0))
        assert digests(bot).catch_up(at_start=True) == []
    finally:
        bot.close()
    assert not posts(slack) and not runs(bot.runtime.engine)


def absences_down_while(sim: WhosOffSim, down: list[bool]) -> Callable[[Request], Response]:
    """WhosOff whose absence listing answers 503 while ``down[0]`` holds."""

    def handle(request: Request) -> Response:
        if down[0] and request.path.endswith("whosoff/retrieve"):
            return Response.json({"Data": [], "Errors": [{"Code": "SIM-503", "Message": "down"}]}, 503)
        return sim.handle(request)

    return handle


def test_a_digest_that_could_not_be_built_is_retried_five_minutes_later(
    tmp_path: Path, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    down = [True]
    with SimServer(absences_down_while(wo_sim, down), name="whosoff") as wo_server:
        clock = Clock(ny(2026, 3, 9, 9, 3))
        bot = start(tmp_path, slack, wo_server, clock, TIMEBOT_SCHEDULER=False)
        try:
            subscribe(bot.runtime.engine, hour=9, since=ny(2026, 3, 2, 12, 0))
            [first] = digests(bot).catch_up()
            down[0] = False
            clock.advance(timedelta(minutes=1))
            [too_soon] = digests(bot).catch_up()
            clock.advance(timedelta(minutes=5))
            [retried] = digests(bot).catch_up()
        finally:
            bot.close()
    assert (first.outcome, too_soon.outcome, too_soon.reason, retried.outcome) == (
        "failed",
        "skipped",
        "retry-later",
        "sent",
    )
    assert len(posts(slack)) == 1
    assert [(r.status, r.attempts) for r in runs(bot.runtime.engine)] == [("sent", 2)]


def test_a_digest_that_could_not_be_built_on_its_last_attempt_is_reported_to_the_admin(
    tmp_path: Path, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    with SimServer(absences_down_while(wo_sim, [True]), name="whosoff") as wo_server:
        clock = Clock(ny(2026, 3, 9, 9, 3))
        bot = start(tmp_path, slack, wo_server, clock, TIMEBOT_SCHEDULER=False)
        try:
            subscribe(bot.runtime.engine, hour=9, since=ny(2026, 3, 2, 12, 0))
            outcomes = []
            for _ in range(4):
                outcomes += [r.outcome for r in digests(bot).catch_up()]
                clock.advance(timedelta(minutes=6))
        finally:
            bot.close()
    assert outcomes == ["failed", "failed", "failed", "skipped"]
    alerts = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == ADMIN]
    assert len(alerts) == 1 and "couldn't put together the digest" in alerts[0].args["text"]
    assert not posts(slack)


def test_a_scheduled_run_fired_after_another_process_moved_the_time_does_not_post(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer
) -> None:
    clock = Clock(ny(2026, 3, 9, 9, 0))
    bot = start(tmp_path, slack, wo_server, clock, TIMEBOT_SCHEDULER=False)
    try:
        subscribe(bot.runtime.engine, hour=8, since=ny(2026, 3, 9, 8, 59))  # was 09:00 until a minute ago
        result = digests(bot).fire("T0DEMO", CHANNEL)  # this process's 09:00 job, not yet resynced
    finally:
        bot.close()
    assert result is None
    assert not posts(slack)
