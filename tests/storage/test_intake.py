"""The intake's table: a group written at once is each request's claim, a stale heartbeat lets one
other owner take the work, and only the owner marks it done."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy.engine import Engine

from storage.intake import IntakeStore, NewAction
from storage.models import utcnow


def action(key: str, kind: str = "clockin") -> NewAction:
    return NewAction(key, kind, "T1", "U1", "{}", "https://hooks.slack.com/x", utcnow())


def test_a_group_is_written_at_once_and_a_repeated_key_is_left_out(engine: Engine) -> None:
    store = IntakeStore(engine)
    first = store.accept([action("cmd:a"), action("cmd:b")], "owner-1")
    assert sorted(first) == ["cmd:a", "cmd:b"]
    again = store.accept([action("cmd:b"), action("cmd:c")], "owner-2")
    assert list(again) == ["cmd:c"]
    assert store.get("cmd:b").owner == "owner-1"  # type: ignore[union-attr]


def test_work_whose_heartbeat_is_stale_is_taken_by_one_owner_only(engine: Engine) -> None:
    store = IntakeStore(engine)
    store.accept([action("cmd:a")], "dead")
    assert store.take_stale("alive", utcnow() - timedelta(seconds=30)) == []  # its heartbeat is fresh
    time.sleep(0.01)
    cutoff = utcnow()  # "older than the takeover window" from here on
    [taken] = store.take_stale("alive", cutoff)
    assert (taken.key, taken.previous_owner, taken.attempts) == ("cmd:a", "dead", 2)
    assert store.take_stale("other", cutoff) == []  # renewed by the taker just now


def test_a_renewed_heartbeat_keeps_the_work_with_its_owner(engine: Engine) -> None:
    store = IntakeStore(engine)
    store.accept([action("cmd:a")], "owner-1")
    time.sleep(0.01)
    cutoff = utcnow()
    time.sleep(0.01)
    assert store.heartbeat("owner-1") == 1
    assert store.take_stale("owner-2", cutoff) == []


def test_only_the_owner_marks_work_done_and_done_work_is_never_taken(engine: Engine) -> None:
    store = IntakeStore(engine)
    ids = store.accept([action("cmd:a")], "owner-1")
    assert store.finish([(ids["cmd:a"], "told")], "owner-2") == 0
    assert store.finish([(ids["cmd:a"], "told")], "owner-1") == 1
    assert store.get("cmd:a").outcome == "told"  # type: ignore[union-attr]
    assert store.take_stale("owner-2", utcnow() + timedelta(days=1)) == []


def test_work_handed_back_is_taken_at_once(engine: Engine) -> None:
    store = IntakeStore(engine)
    store.accept([action("cmd:a")], "stopping")
    assert store.hand_back("stopping") == 1
    [taken] = store.take_stale("replica", utcnow() - timedelta(seconds=30))
    assert taken.previous_owner == ""


def test_a_persons_unfinished_actions_are_listed_oldest_first(engine: Engine) -> None:
    store = IntakeStore(engine)
    ids = store.accept([action("cmd:a"), action("cmd:b", "clockout"), action("cmd:c", "timeoff")], "o")
    store.finish([(ids["cmd:a"], "told")], "o")
    assert [r.key for r in store.running_for("T1", "U1", ("clockin", "clockout"))] == ["cmd:b"]
