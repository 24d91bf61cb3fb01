"""The durable intake's table: accepted actions written a group at a time, claimed by an owner
that keeps a heartbeat, taken over once that heartbeat is stale, and marked done with their outcome.

Every statement is Core and every write serves a whole group in one transaction: a write per
action in the ack path made the ack p99 twice bare Bolt's under SQLite's writer lock (bench/ack.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import col

from storage.models import IntakeAction, table_of, utcnow

# A handed-back row's heartbeat: older than any takeover window, so the next recovery takes it.
HANDED_BACK = datetime(1970, 1, 1, tzinfo=UTC)

_T = table_of(IntakeAction)


@dataclass(frozen=True)
class NewAction:
    key: str
    kind: str
    team_id: str
    slack_user_id: str
    payload: str
    response_url: str
    accepted_at: datetime


@dataclass(frozen=True)
class Taken(NewAction):
    """A running action this process now owns (a takeover), with what is needed to finish it: the
    action as it was accepted, its row, the try this is, and the owner it was taken from."""

    id: int
    attempts: int
    previous_owner: str


class IntakeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def accept(self, actions: Sequence[NewAction], owner: str) -> dict[str, int]:
        """Insert a group in one transaction, owned by ``owner``; the keys inserted here, with their
        row ids. A key already there (a repeat of a request) is left alone and left out."""
        if not actions:
            return {}
        now = utcnow()
        rows = [
            {
                "key": a.key[:255],
                "kind": a.kind,
                "team_id": a.team_id,
                "slack_user_id": a.slack_user_id,
                "payload": a.payload,
                "response_url": a.response_url[:1024],
                "accepted_at": a.accepted_at,
                "state": "running",
                "owner": owner,
                "heartbeat_at": now,
                "attempts": 1,
                "outcome": "",
                "updated_at": now,
            }
            for a in actions
        ]
        dialect = postgresql if self.postgres else sqlite
        stmt = dialect.insert(_T).values(rows).on_conflict_do_nothing().returning(_T.c.key, _T.c.id)
        with self.engine.begin() as conn:
            return {key: row_id for key, row_id in conn.execute(stmt)}

    def finish(self, done: Sequence[tuple[int, str]], owner: str) -> int:
        """Mark actions done with the outcome told, in one transaction; only rows ``owner`` still
        holds (one taken over meanwhile is the new owner's to finish)."""
        if not done:
            return 0
        stmt = (
            update(_T)
            .where(_T.c.id == bindparam("row_id"), _T.c.owner == owner, _T.c.state == "running")
            .values(state="done", outcome=bindparam("told"), updated_at=utcnow())
        )
        with self.engine.begin() as conn:
            result = conn.execute(stmt, [{"row_id": i, "told": o[:32]} for i, o in done])
        return int(result.rowcount or 0)

    def heartbeat(self, owner: str) -> int:
        """Renew every running action ``owner`` holds: one UPDATE however many there are."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(_T).where(_T.c.owner == owner, _T.c.state == "running").values(heartbeat_at=utcnow())
            )
        return int(result.rowcount or 0)

    def hand_back(self, owner: str, row_id: int | None = None) -> int:
        """Give running actions back (all of ``owner``'s, or one): the next recovery, here or in
        another process, takes them at once instead of after the takeover window."""
        stmt = update(_T).where(_T.c.owner == owner, _T.c.state == "running")
        if row_id is not None:
            stmt = stmt.where(_T.c.id == row_id)
        with self.engine.begin() as conn:
            result = conn.execute(stmt.values(owner="", heartbeat_at=HANDED_BACK))
        return int(result.rowcount or 0)

    def take_stale(self, owner: str, stale_before: datetime, limit: int = 100) -> list[Taken]:
        """Claim up to ``limit`` running actions whose heartbeat is older than ``stale_before``.

        PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, so replicas recovering at once split the rows
        instead of queueing on each other. SQLite has no row locks (one writer at a time): each row
        is taken by a conditional UPDATE that only the first process to get there wins."""
        wanted = (
            select(_T).where(_T.c.state == "running", _T.c.heartbeat_at < stale_before).order_by(_T.c.id).limit(limit)
        )
        now = utcnow()
        taken: list[Taken] = []
        with self.engine.begin() as conn:
            if self.postgres:
                rows = list(conn.execute(wanted.with_for_update(skip_locked=True)))
                if rows:
                    conn.execute(
                        update(_T)
                        .where(_T.c.id.in_([r.id for r in rows]))
                        .values(owner=owner, heartbeat_at=now, attempts=_T.c.attempts + 1, updated_at=now)
                    )
                taken = [_taken(r) for r in rows]
            else:
                for r in conn.execute(wanted).all():
                    won = conn.execute(
                        update(_T)
                        .where(
                            _T.c.id == r.id,
                            _T.c.state == "running",
                            _T.c.owner == r.owner,
                            _T.c.heartbeat_at < stale_before,  # renewed meanwhile: its owner lives
                        )
                        .values(owner=owner, heartbeat_at=now, attempts=_T.c.attempts + 1, updated_at=now)
                    )
                    if won.rowcount:
                        taken.append(_taken(r))
        return taken

    def running_for(self, team_id: str, slack_user_id: str, kinds: Sequence[str]) -> list[IntakeAction]:
        """The person's actions not finished yet (oldest first): what a new request may be waiting on."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_T)
                .where(
                    _T.c.team_id == team_id,
                    _T.c.slack_user_id == slack_user_id,
                    _T.c.state == "running",
                    col(IntakeAction.kind).in_(list(kinds)),
                )
                .order_by(_T.c.id)
            ).all()
        return [IntakeAction(**r._mapping) for r in rows]

    def get(self, key: str) -> IntakeAction | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_T).where(_T.c.key == key[:255])).first()
        return IntakeAction(**row._mapping) if row is not None else None

    def seen(self, key: str) -> bool:
        return self.get(key) is not None

    def forget_done_before(self, cutoff: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(delete(_T).where(_T.c.state == "done", _T.c.updated_at < cutoff))
        return int(result.rowcount or 0)

    def insert_raw(self, **values: Any) -> None:
        """One row as given (tests and benchmarks set up what a dead process left behind)."""
        with self.engine.begin() as conn:
            conn.execute(insert(_T).values(**values))


def _taken(r: Any) -> Taken:
    return Taken(
        key=r.key,
        kind=r.kind,
        team_id=r.team_id,
        slack_user_id=r.slack_user_id,
        payload=r.payload,
        response_url=r.response_url,
        accepted_at=_aware(r.accepted_at),
        id=r.id,
        attempts=r.attempts + 1,
        previous_owner=r.owner,
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
