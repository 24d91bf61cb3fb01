"""A digest of several messages that Slack stops part-way: resumed where it stopped, never from
the start, never twice. WhosOff simulator and Slack stand-in over HTTP; an injected clock drives
the scheduler's decisions (no sleeps)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from slack_sdk.http_retry import builtin_handlers

from sandbox.server import Request, Response, SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from storage.digests import ClaimPolicy, DigestStore
from tests.bot.digests.support import (
    ADMIN,
    CHANNEL,
    a_monday,
    all_text,
    digests,
    launch,
    posts,
    process_env,
    runs,
    start_digest_bot,
    subscribe,
    wait_ready,
)
from tests.bot.digests.test_schedule import Clock, ny
from tests.conftest import BotUnderTest
from tests.support import BOT_TOKEN, TEAM

MONDAY = a_monday()
NINE = ny(2026, 3, 9, 9, 0)  # Monday 09:00 in New York, when the digest is due
PEOPLE = 1300  # with 199-character names, 12 to a section: today's list needs three messages


class TurnsAfterFirstPost:
    """The Slack stand-in, which turns against the digest once its first message has landed:
    ``rate_limit`` chat.postMessage (429 + Retry-After) or answer further digest posts with
    ``refuse``, an error, until that is cleared; ``then`` runs once at that moment."""

    def __init__(
        self, *, rate_limit: int = 0, refuse: str | None = None, then: Callable[[], None] | None = None
    ) -> None:
        self.slack = SlackStandIn.demo(BOT_TOKEN)
        self.rate_limit, self.refuse, self.then = rate_limit, refuse, then
        self._armed = True
        self.slack.server = SimServer(self.handle, name="slack").start()

    def handle(self, request: Request) -> Response:
        to_digest = request.path.endswith("chat.postMessage") and self.slack._args(request).get("channel") == CHANNEL
        if to_digest and self.refuse and not self._armed:
            return Response.json({"ok": False, "error": self.refuse})
        response = self.slack.handle(request)
        if to_digest and self._armed and posts(self.slack):
            self._armed = False
            if self.rate_limit:
                self.slack.rate_limit("chat.postMessage", self.rate_limit, retry_after=0)
            if self.then:
                self.then()
        return response


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack-sdk waits Retry-After plus up to a second at random; with Retry-After 0, no wait."""
    monkeypatch.setattr(builtin_handlers, "random", SimpleNamespace(random=lambda: 0.0))


@pytest.fixture
def names(wo_sim: WhosOffSim) -> list[str]:
    """Everyone off on Monday, by name (none of them uses Slack, so names, not mentions)."""
    found = []
    for n in range(PEOPLE):
        name = f"Off{n:04d} {('Longfamilyname' * 15)[:191]}"
        wo_sim.add_leave(wo_sim.add_user(name, f"off{n}@big.example"), MONDAY)
        found.append(name)
    return found


def start(tmp_path: Path, slack: SlackStandIn, wo_server: SimServer, clock: Clock) -> BotUnderTest:
    bot = start_digest_bot(tmp_path, slack, wo_server, clock=clock, TIMEBOT_SCHEDULER=False)
    subscribe(bot.runtime.engine, hour=9, since=ny(2026, 3, 2, 12, 0))
    return bot


@pytest.fixture
def clock() -> Clock:
    return Clock(NINE)


def each_once(slack: SlackStandIn, names: list[str]) -> None:
    """Every message of the digest in the channel once, in order, and every person in one of them once."""
    channel = [c.args for c in posts(slack)]
    total = len(channel)
    assert total >= 3
    assert [m["blocks"][0]["text"]["text"] for m in channel] == [
        f"Who's off today · Mon 9 Mar ({n}/{total})" for n in range(1, total + 1)
    ]
    text = all_text(channel)
    assert [name for name in names if text.count(f"• {name} ·") != 1] == []


def test_a_digest_rate_limited_part_way_posts_only_its_remaining_messages_on_the_next_attempt(
    tmp_path: Path, wo_server: SimServer, names: list[str], clock: Clock, no_jitter: None
) -> None:
    slack = TurnsAfterFirstPost(rate_limit=4).slack  # the digest client tries 1 + 3 times
    bot = start(tmp_path, slack, wo_server, clock)
    try:
        first = digests(bot).fire(TEAM, CHANNEL)
        [stopped] = runs(bot.runtime.engine)
        clock.advance(timedelta(minutes=6))  # past ClaimPolicy.retry_after: the scheduler's catch-up resumes it
        [resumed] = digests(bot).catch_up()
    finally:
        bot.close()
        slack.stop()
    assert first is not None and (first.outcome, first.reason, first.messages) == ("partial", "ratelimited", 1)
    assert len(slack.calls_to("chat.postMessage#429")) == 4
    assert (stopped.status, stopped.resumable) == ("partial", True)
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ADMIN]  # no alert yet
    assert (resumed.outcome, resumed.resumed) == ("sent", 1)
    each_once(slack, names)
    [run] = runs(bot.runtime.engine)
    assert (run.status, run.attempts) == ("sent", 2)
    assert run.message_ts.split(",") == resumed.ts and resumed.ts[:1] == first.ts
    assert len(resumed.ts) == len(posts(slack))


def test_a_digest_whose_run_another_process_settled_mid_post_stops_posting_at_once(
    tmp_path: Path, wo_server: SimServer, names: list[str], clock: Clock
) -> None:
    turn = TurnsAfterFirstPost()
    bot = start(tmp_path, turn.slack, wo_server, clock)

    def another_process_finds_it_stale() -> None:  # as a process would that thinks this one died
        DigestStore(bot.runtime.engine).claim_run(
            TEAM,
            CHANNEL,
            MONDAY,
            owner="other",
            trigger="catch-up",
            now=clock.moment + timedelta(minutes=11),
            late=True,
            policy=ClaimPolicy(),
        )

    turn.then = another_process_finds_it_stale
    try:
        result = digests(bot).fire(TEAM, CHANNEL)
        [run] = runs(bot.runtime.engine)
    finally:
        bot.close()
        turn.slack.stop()
    assert result is not None and (result.outcome, result.reason, result.messages) == ("skipped", "lost-claim", 1)
    assert len(posts(turn.slack)) == 1
    assert run.status == "unknown"


def test_a_digest_refused_part_way_while_slack_is_briefly_unavailable_is_resumed_by_the_scheduler(
    tmp_path: Path, wo_server: SimServer, names: list[str], clock: Clock
) -> None:
    turning = TurnsAfterFirstPost(refuse="service_unavailable")
    slack = turning.slack
    bot = start(tmp_path, slack, wo_server, clock)
    try:
        first = digests(bot).fire(TEAM, CHANNEL)
        [stopped] = runs(bot.runtime.engine)
        turning.refuse = None  # Slack is back
        clock.advance(timedelta(minutes=6))
        [resumed] = digests(bot).catch_up()
    finally:
        bot.close()
        slack.stop()
    assert first is not None and (first.outcome, first.reason) == ("partial", "service_unavailable")
    assert (stopped.status, stopped.resumable) == ("partial", True)
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ADMIN]  # nobody alerted
    assert (resumed.outcome, resumed.resumed) == ("sent", 1)
    each_once(slack, names)


def test_a_digest_refused_part_way_for_good_is_not_resumed_by_the_scheduler(
    tmp_path: Path, wo_server: SimServer, names: list[str], clock: Clock
) -> None:
    turning = TurnsAfterFirstPost(refuse="is_archived")
    slack = turning.slack
    bot = start(tmp_path, slack, wo_server, clock)
    try:
        first = digests(bot).fire(TEAM, CHANNEL)
        alert = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ADMIN])
        turning.refuse = None  # unarchived: a resume would now go through
        later = []
        for _ in range(3):
            clock.advance(timedelta(minutes=6))
            later += digests(bot).catch_up()
    finally:
        bot.close()
        slack.stop()
    assert first is not None and (first.outcome, first.reason) == ("partial", "is_archived")
    assert later == []
    assert len(posts(slack)) == 1
    [run] = runs(bot.runtime.engine)
    assert (run.status, run.resumable, run.attempts) == ("partial", False, 1)
    text = alert[0].args["text"]
    assert "Only 1 of " in text and "(is_archived)" in text
    assert f"timebot digest send --channel {CHANNEL} --date 2026-03-09`" in text and "--force" not in text


def test_timebot_digest_send_resumes_a_partial_digest_instead_of_posting_it_from_the_start(
    tmp_path: Path, wo_server: SimServer, names: list[str], clock: Clock
) -> None:
    turning = TurnsAfterFirstPost(refuse="is_archived")
    slack = turning.slack
    bot = start(tmp_path, slack, wo_server, clock)
    try:
        first = digests(bot).fire(TEAM, CHANNEL)
    finally:
        bot.close()
    turning.refuse = None
    url = f"sqlite:///{tmp_path / 'timebot.db'}"
    send = launch(
        ["digest", "send", "--channel", CHANNEL, "--date", "2026-03-09"],
        process_env(slack, wo_server, url, tmp_path),
        tmp_path,
        "send",
    )
    try:
        wait_ready([send])
        send.start_at(None)
        assert send.proc.wait(30) == 0, send.log
        out = send.proc.stdout.read()  # type: ignore[union-attr]
    finally:
        slack.stop()
    assert first is not None and first.outcome == "partial"
    total = len(posts(slack))
    assert f"posted the remaining {total - 1} of {total} message(s) to {CHANNEL} for 2026-03-09" in out
    each_once(slack, names)
    [run] = runs(bot.runtime.engine)
    assert (run.status, len(run.message_ts.split(","))) == ("sent", total)
