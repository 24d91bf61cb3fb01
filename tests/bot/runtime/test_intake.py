"""The durable intake's takeover window, on a real SQLite database: a dead owner's action is taken
over only once a write it may have sent just before dying can no longer land."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.runtime.intake import Intake
from storage.db import make_engine, upgrade
from storage.intake import IntakeStore, NewAction
from storage.models import utcnow


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IntakeStore]:
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    upgrade(engine)
    yield IntakeStore(engine)
    engine.dispose()


def left_by_a_dead_process(store: IntakeStore) -> None:
    """One accepted clock-in whose owner stopped beating just now."""
    action = NewAction("key-1", "command", "T1", "U1", "{}", "", utcnow())
    store.accept([action], owner="dead-process")


def later(seconds: float) -> Callable[[], datetime]:
    start = utcnow()
    return lambda: start + timedelta(seconds=seconds)


def taken_at(store: IntakeStore, seconds: float, *, takeover: float, settle: float) -> int:
    intake = Intake(store, takeover=takeover, resume_within=900, settle=settle, now=later(seconds))
    try:
        return intake.recover(lambda job: None)
    finally:
        intake.close()


def test_a_takeover_window_longer_than_the_vendor_timeouts_is_kept(store: IntakeStore) -> None:
    left_by_a_dead_process(store)
    assert taken_at(store, 20.0, takeover=30, settle=13) == 0  # 30 - 7.5 = 22.5 s of silence first
    assert taken_at(store, 23.0, takeover=30, settle=13) == 1


def test_a_short_takeover_window_waits_out_a_vendor_write_still_in_flight(store: IntakeStore) -> None:
    left_by_a_dead_process(store)
    # takeover 2 s alone would take it after 1.5 s; a write sent just before the death can land
    # up to 0.5 s (a beat) + 5 s (connect + read) after the last heartbeat
    assert taken_at(store, 3.0, takeover=2, settle=5) == 0
    assert taken_at(store, 5.6, takeover=2, settle=5) == 1
