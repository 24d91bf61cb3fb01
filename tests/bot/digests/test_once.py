"""Exactly once: one post per channel per local date across real processes, crashes and restarts,
on SQLite and PostgreSQL. Bot processes are real ``timebot run``/``timebot digest send``
subprocesses; time-machine puts them and this process on the same (travelled) clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from sandbox.server import Request, Response, SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from storage.digests import ClaimPolicy, DigestStore
from tests.bot.digests.support import (
    ADMIN,
    CHANNEL,
    all_text,
    database,
    launch,
    local,
    migrated,
    postgres_url,  # noqa: F401 - fixture
    posts,
    process_env,
    real_time,
    run_bot_args,
    runs,
    seed_demo_people,
    start_digest_bot,
    subscribe,
    wait_ready,
    wait_until,
)
from tests.support import BOT_TOKEN, TEAM

FIRE = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # Monday 09:00 in New York (EDT)


class Gate:
    """Holds chosen requests of a simulator until released: the moment a process is killed."""

    def __init__(self, matches: Callable[[Request], bool]) -> None:
        self.matches = matches
        self.seen = threading.Event()
        self.release = threading.Event()

    def wrap(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def held(request: Request) -> Response:
            if self.matches(request) and not self.release.is_set():
                response = handler(request)  # Slack records the post before it is held
                self.seen.set()
                self.release.wait(30)
                return response
            return handler(request)

        return held


def slack_with(gate: Gate | None = None) -> SlackStandIn:
    stand_in = SlackStandIn.demo(BOT_TOKEN)
    stand_in.server = SimServer(gate.wrap(stand_in.handle) if gate else stand_in.handle, name="slack").start()
    return stand_in


def to_digest(request: Request) -> bool:
    return request.path.endswith("chat.postMessage") and CHANNEL.encode() in request.body


def set_up(url: str, fire: datetime = FIRE) -> object:
    engine = migrated(url)
    seed_demo_people(engine)
    subscribe(engine, hour=local(fire).hour, minute=local(fire).minute, days="mon-sun")
    return engine


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_three_bot_processes_sharing_one_database_post_the_digest_exactly_once(
    kind: str, tmp_path: Path, wo_server: SimServer, request: pytest.FixtureRequest
) -> None:
    url = database(kind, tmp_path, request)
    slack = slack_with()
    wo_server.faults.latency = 0.2  # the winner holds its claim while the others arrive
    with time_machine.travel(FIRE - timedelta(hours=1), tick=True) as traveller:
        engine = set_up(url)
        bots = [
            launch(run_bot_args(), process_env(slack, wo_server, url, tmp_path), tmp_path, f"bot{i}") for i in range(3)
        ]
        try:
            wait_ready(bots)
            anchor = real_time()
            traveller.move_to(FIRE - timedelta(seconds=2))
            for bot in bots:
                bot.start_at(FIRE - timedelta(seconds=2), anchor)  # one clock: all three fire at the same instant
            slack.wait_for(lambda: posts(slack), timeout=30)
            wait_until(
                lambda: all("posted:" in b.log or "not posted by this process" in b.log for b in bots),
                timeout=20,
                what="every process to decide",
            )
        finally:
            for bot in bots:
                bot.stop()
            slack.stop()
    assert len(posts(slack)) == 1
    assert sorted("posted:" in b.log for b in bots) == [False, False, True]
    assert sum("not posted by this process" in b.log for b in bots) == 2
    [run] = runs(engine)
    assert run.status == "sent" and run.message_ts


def test_a_crash_after_the_post_reached_slack_but_before_it_was_recorded_never_posts_twice(
    tmp_path: Path, wo_server: SimServer
) -> None:
    url = f"sqlite:///{tmp_path / 'timebot.db'}"
    gate = Gate(to_digest)
    slack = slack_with(gate)
    with time_machine.travel(FIRE - timedelta(hours=1), tick=True) as traveller:
        engine = set_up(url)
        crashing = launch(run_bot_args(), process_env(slack, wo_server, url, tmp_path), tmp_path, "crashing")
        try:
            wait_ready([crashing])
            traveller.move_to(FIRE - timedelta(seconds=2))
            crashing.start_at(FIRE - timedelta(seconds=2))
            assert gate.seen.wait(30), crashing.log
            assert [r.status for r in runs(engine)] == ["posting"]
        finally:
            crashing.kill()
            gate.release.set()
        traveller.move_to(FIRE + timedelta(minutes=15))  # restart, same local day, claim now stale
        bot = start_digest_bot(tmp_path, slack, wo_server, database_url=url)
        try:
            alert = slack.wait_for(
                lambda: [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ADMIN], timeout=15
            )[0]
        finally:
            bot.close()
            slack.stop()
    assert len(posts(slack)) == 1
    assert [r.status for r in runs(engine)] == ["unknown"]
    assert "may or may not" in alert.args["text"] or "stopped before recording" in alert.args["text"]
    assert f"timebot digest send --channel {CHANNEL} --date 2026-03-09 --force" in alert.args["text"]


def test_a_crash_after_claiming_but_before_posting_posts_once_late_after_restart(
    tmp_path: Path, wo_sim: WhosOffSim
) -> None:
    url = f"sqlite:///{tmp_path / 'timebot.db'}"
    gate = Gate(lambda r: r.path.endswith("whosoff/retrieve"))
    slack = slack_with()
    with (
        SimServer(gate.wrap(wo_sim.handle), name="whosoff") as wo_server,
        time_machine.travel(FIRE - timedelta(hours=1), tick=True) as traveller,
    ):
        engine = set_up(url)
        crashing = launch(run_bot_args(), process_env(slack, wo_server, url, tmp_path), tmp_path, "crashing")
        try:
            wait_ready([crashing])
            traveller.move_to(FIRE - timedelta(seconds=2))
            crashing.start_at(FIRE - timedelta(seconds=2))
            assert gate.seen.wait(30), crashing.log  # building: claimed, nothing posted
            assert [r.status for r in runs(engine)] == ["claimed"]
        finally:
            crashing.kill()
            gate.release.set()
        traveller.move_to(FIRE + timedelta(minutes=15))
        bot = start_digest_bot(tmp_path, slack, wo_server, database_url=url)
        try:
            slack.wait_for(lambda: posts(slack), timeout=15)
            wait_until(lambda: [r for r in runs(engine) if r.status == "sent"], what="the run marked sent")
        finally:
            bot.close()
            slack.stop()
    assert len(posts(slack)) == 1
    assert "Posted late: this digest was due at 09:00 EDT" in all_text([posts(slack)[0].args])
    [run] = runs(engine)
    assert (run.status, run.attempts, run.late) == ("sent", 2, True)


def test_timebot_digest_send_posts_once_and_refuses_a_second_time(tmp_path: Path, wo_server: SimServer) -> None:
    url = f"sqlite:///{tmp_path / 'timebot.db'}"
    slack = slack_with()
    set_up(url)
    env = process_env(slack, wo_server, url, tmp_path)
    argv = ["digest", "send", "--channel", CHANNEL]
    try:
        first, second = (launch(argv, env, tmp_path, name) for name in ("send1", "send2"))
        wait_ready([first, second])
        first.start_at(None)
        assert first.proc.wait(30) == 0, first.log
        second.start_at(None)
        assert second.proc.wait(30) == 1, second.log
        out_first, out_second = first.proc.stdout.read(), second.proc.stdout.read()  # type: ignore[union-attr]
    finally:
        slack.stop()
    assert "posted 1 message(s) to C0DIGEST" in out_first
    assert "is sent" in out_second and "--force" in out_second
    assert len(posts(slack)) == 1


# --- the claim itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_only_one_of_many_concurrent_claims_for_a_channel_and_day_wins(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = DigestStore(migrated(database(kind, tmp_path, request)))
    start = threading.Barrier(8)
    results: list[bool] = []

    def claim(n: int) -> None:
        start.wait()
        won = store.claim_run(
            TEAM,
            CHANNEL,
            FIRE.date(),
            owner=f"p{n}",
            now=datetime.now(UTC),
            trigger="test",
            late=False,
            policy=ClaimPolicy(),
        ).won
        results.append(won)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False] * 7 + [True]


def test_a_fresh_claim_held_by_another_process_is_left_alone(tmp_path: Path) -> None:
    store = DigestStore(migrated(f"sqlite:///{tmp_path / 'timebot.db'}"))
    now = datetime.now(UTC)
    first = store.claim_run(
        TEAM, CHANNEL, FIRE.date(), owner="a", now=now, trigger="test", late=False, policy=ClaimPolicy()
    )
    later = store.claim_run(
        TEAM,
        CHANNEL,
        FIRE.date(),
        owner="b",
        now=now + timedelta(minutes=9),
        trigger="test",
        late=False,
        policy=ClaimPolicy(),
    )
    assert first.won and not later.won and later.reason == "held"


def test_a_stale_claim_taken_over_can_no_longer_post_from_its_old_holder(tmp_path: Path) -> None:
    store = DigestStore(migrated(f"sqlite:///{tmp_path / 'timebot.db'}"))
    now = datetime.now(UTC)
    slow = store.claim_run(
        TEAM, CHANNEL, FIRE.date(), owner="slow", now=now, trigger="test", late=False, policy=ClaimPolicy()
    )
    takeover = store.claim_run(
        TEAM,
        CHANNEL,
        FIRE.date(),
        owner="new",
        now=now + timedelta(minutes=11),
        trigger="test",
        late=False,
        policy=ClaimPolicy(),
    )
    assert slow.run is not None and takeover.run is not None and takeover.reason == "taken-over"
    assert not store.mark_posting(slow.run, now + timedelta(minutes=12))
    assert store.mark_posting(takeover.run, now + timedelta(minutes=12))


def test_an_admin_can_resend_a_days_digest_only_by_forcing_it(tmp_path: Path, wo_server: SimServer) -> None:
    slack = slack_with()
    bot = start_digest_bot(tmp_path, slack, wo_server, TIMEBOT_SCHEDULER=False)
    try:
        seed_demo_people(bot.runtime.engine)
        subscribe(bot.runtime.engine)
        service = bot.runtime.digests
        outcomes = [
            service.send(CHANNEL).outcome,
            service.send(CHANNEL).outcome,
            service.send(CHANNEL, force=True).outcome,
        ]
    finally:
        bot.close()
        slack.stop()
    assert outcomes == ["sent", "skipped", "sent"]
    assert len(posts(slack)) == 2


def test_a_day_missed_while_the_bot_was_down_can_be_sent_by_hand(tmp_path: Path, wo_server: SimServer) -> None:
    slack = slack_with()
    bot = start_digest_bot(tmp_path, slack, wo_server, TIMEBOT_SCHEDULER=False)
    try:
        subscribe(bot.runtime.engine)
        store = DigestStore(bot.runtime.engine)
        assert store.mark_missed(TEAM, CHANNEL, FIRE.date(), owner="x", now=datetime.now(UTC), detail="down")
        result = bot.runtime.digests.send(CHANNEL, day=FIRE.date())
    finally:
        bot.close()
        slack.stop()
    assert result.outcome == "sent"
    assert posts(slack)[0].args["blocks"][0]["text"]["text"] == "Who's off today · Mon 9 Mar"


def test_a_post_whose_answer_is_lost_is_not_retried_and_is_flagged_unknown(
    tmp_path: Path, wo_server: SimServer
) -> None:
    slack = slack_with()
    bot = start_digest_bot(tmp_path, slack, wo_server, TIMEBOT_SCHEDULER=False)
    try:
        subscribe(bot.runtime.engine)
        assert slack.server is not None
        slack.server.faults.only_methods = frozenset({"POST"})
        slack.server.faults.script.append("drop")  # Slack takes the post, then the connection dies
        result = bot.runtime.digests.send(CHANNEL, day=FIRE.date())
        alert = slack.wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ADMIN])[0]
    finally:
        bot.close()
        slack.stop()
    assert result.outcome == "unknown"
    assert len(posts(slack)) == 1  # slack-sdk's connection retry would have posted it twice
    assert [r.status for r in runs(bot.runtime.engine)] == ["unknown"]
    assert "--force" in alert.args["text"]
