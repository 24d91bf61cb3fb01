"""An action's bookkeeping rows (its audit entry, the session watch clock hygiene keeps), as
values a use case collects while it works and storage writes in one transaction with the
release of the action's lease.

Why: each commit through the ORM costs about a millisecond of the interpreter's time when a
thousand clock-ins share it at 9:00 (bench/ack.py); three bookkeeping commits per action were a
quarter of the bot's CPU. Statements are Core, not ORM units of work, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import col

from storage.models import AuditLog, SessionWatch, utcnow


@dataclass(frozen=True)
class AuditRow:
    team_id: str
    slack_user_id: str
    vendor: str
    action: str
    outcome: str
    detail: str = ""


@dataclass(frozen=True)
class WatchRow:
    """A running session to watch; writing one the database already has changes nothing."""

    team_id: str
    slack_user_id: str
    vendor: str
    session_id: str
    started_at: datetime


@dataclass(frozen=True)
class EndWatches:
    """The person's open watches end (they clocked out through Timebot)."""

    team_id: str
    slack_user_id: str
    vendor: str
    to: str = "gone"


Row = AuditRow | WatchRow | EndWatches


def write(conn: Connection, row: Row) -> int:
    """Execute one row's statement on ``conn`` (the caller's transaction); rows affected."""
    if isinstance(row, AuditRow):
        conn.execute(
            insert(AuditLog).values(
                at=utcnow(),
                team_id=row.team_id,
                slack_user_id=row.slack_user_id,
                vendor=row.vendor,
                action=row.action,
                outcome=row.outcome,
                detail=row.detail[:2000],
            )
        )
        return 1
    if isinstance(row, WatchRow):
        now = utcnow()
        result = conn.execute(
            _insert_new(conn, SessionWatch).values(
                team_id=row.team_id,
                slack_user_id=row.slack_user_id,
                vendor=row.vendor,
                session_id=row.session_id[:128],
                started_at=row.started_at,
                status="open",
                owner="",
                channel_id="",
                message_ts="",
                detail="",
                updated_at=now,
            )
        )
        return int(result.rowcount or 0)
    result = conn.execute(
        update(SessionWatch)
        .where(
            col(SessionWatch.team_id) == row.team_id,
            col(SessionWatch.slack_user_id) == row.slack_user_id,
            col(SessionWatch.vendor) == row.vendor,
            col(SessionWatch.status).in_(["open"]),
        )
        .values(status=row.to, updated_at=utcnow())
    )
    return int(result.rowcount or 0)


def _insert_new(conn: Connection, model: Any) -> Any:
    """INSERT that leaves an existing row (same unique key) alone, inside any transaction: a
    unique-key error would abort a PostgreSQL transaction and every row in it."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing()
