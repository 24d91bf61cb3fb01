"""An action's bookkeeping rows are written with its lease's release, in one transaction, and a
row that can't be written loses neither the lease's release nor the other rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.hygiene import HygieneStore
from storage.ledger import AuditRow, EndWatches, WatchRow
from storage.models import utcnow
from storage.store import Store

TTL = timedelta(minutes=2)


def test_releasing_a_lease_writes_the_actions_audit_and_watch_rows(engine: Engine) -> None:
    store, hygiene = Store(engine), HygieneStore(engine)
    lease = store.claim_lock("inflight:T1:U1:clock", TTL)
    assert lease is not None
    started = utcnow()
    store.release_lock(
        "inflight:T1:U1:clock",
        lease,
        [
            AuditRow("T1", "U1", "timeclock", "clock_in", "ok", "session 7"),
            WatchRow("T1", "U1", "timeclock", "7", started),
        ],
    )
    assert store.claim_lock("inflight:T1:U1:clock", TTL) is not None
    assert [(a.action, a.outcome, a.detail) for a in store.audit_log()] == [("clock_in", "ok", "session 7")]
    assert [(w.session_id, w.status) for w in hygiene.watches("timeclock")] == [("7", "open")]


def test_a_watch_the_database_already_has_changes_nothing_and_spoils_nothing_else(engine: Engine) -> None:
    store, hygiene = Store(engine), HygieneStore(engine)
    started = utcnow()
    hygiene.watch("T1", "U1", "timeclock", "7", started)  # found by another process's sweep first
    lease = store.claim_lock("inflight:T1:U1:clock", TTL)
    assert lease is not None
    store.release_lock(
        "inflight:T1:U1:clock",
        lease,
        [
            WatchRow("T1", "U1", "timeclock", "7", started),
            AuditRow("T1", "U1", "timeclock", "clock_in", "ok"),
        ],
    )
    assert len(hygiene.watches("timeclock")) == 1
    assert [a.action for a in store.audit_log()] == ["clock_in"]  # the same transaction went through


def test_a_row_that_cannot_be_written_still_releases_the_lease_and_writes_the_others(engine: Engine) -> None:
    store, hygiene = Store(engine), HygieneStore(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_log"))
    lease = store.claim_lock("inflight:T1:U1:clock", TTL)
    assert lease is not None
    store.release_lock(
        "inflight:T1:U1:clock",
        lease,
        [
            AuditRow("T1", "U1", "timeclock", "clock_in", "ok"),
            WatchRow("T1", "U1", "timeclock", "7", utcnow()),
        ],
    )
    assert store.claim_lock("inflight:T1:U1:clock", TTL) is not None
    assert [w.session_id for w in hygiene.watches("timeclock")] == ["7"]


def test_ending_watches_moves_only_the_persons_open_ones(engine: Engine) -> None:
    hygiene = HygieneStore(engine)
    hygiene.watch("T1", "U1", "timeclock", "7", utcnow())
    hygiene.watch("T1", "U2", "timeclock", "8", utcnow())
    lease = Store(engine).claim_lock("inflight:T1:U1:clock", TTL)
    assert lease is not None
    Store(engine).release_lock("inflight:T1:U1:clock", lease, [EndWatches("T1", "U1", "timeclock")])
    statuses = {w.session_id: w.status for w in hygiene.watches("timeclock", ["open", "gone"])}
    assert statuses == {"7": "gone", "8": "open"}
