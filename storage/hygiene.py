"""Watched sessions (forgotten clock-outs) and clock-in reminder preferences.

Like the digest runs (storage/digests.py), every move of a watch is a conditional UPDATE whose
rowcount says whether this process won it: the database, not the scheduler, decides who sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.ledger import EndWatches, WatchRow
from storage.models import ClockInReminder, SessionWatch, utcnow
from storage.store import SqlStore

LIVE = ("open", "reminding", "reminded")  # the session may still be running


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _fix(row: SessionWatch) -> SessionWatch:
    row.started_at = aware(row.started_at)
    row.reminded_at = aware(row.reminded_at) if row.reminded_at else None
    return row


class HygieneStore(SqlStore):
    # --- watched sessions --------------------------------------------------------------------

    def watch(self, team_id: str, slack_user_id: str, vendor: str, session_id: str, started_at: datetime) -> None:
        """Remember a running session (idempotent: several processes find the same one)."""
        self.record(WatchRow(team_id, slack_user_id, vendor, session_id, started_at))

    def watches(self, vendor: str, statuses: Iterable[str] = LIVE) -> list[SessionWatch]:
        with self.session() as s:
            rows = s.exec(
                select(SessionWatch).where(SessionWatch.vendor == vendor, col(SessionWatch.status).in_(list(statuses)))
            )
            return [_fix(r) for r in rows]

    def watched(self, watch_id: int) -> SessionWatch | None:
        with self.session() as s:
            row = s.get(SessionWatch, watch_id)
            return _fix(row) if row else None

    def move(self, watch_id: int, from_: Iterable[str], to: str, **values: object) -> bool:
        """Move a watch from one of ``from_`` to ``to``; False when another process got there first."""
        with self.session() as s:
            result = s.exec(
                update(SessionWatch)
                .where(col(SessionWatch.id) == watch_id, col(SessionWatch.status).in_(list(from_)))
                .values(status=to, updated_at=utcnow(), **values)
            )
            s.commit()
            return bool(result.rowcount)

    def end_watches(self, team_id: str, slack_user_id: str, vendor: str, to: str = "gone") -> int:
        """The person's sessions ended (clocked out through Timebot): nothing more to remind."""
        return self.record(EndWatches(team_id, slack_user_id, vendor, to))

    def clock_in_reminder(self, team_id: str, slack_user_id: str) -> ClockInReminder | None:
        with self.session() as s:
            return s.get(ClockInReminder, (team_id, slack_user_id))

    def clock_in_reminders(self) -> list[ClockInReminder]:
        with self.session() as s:
            return list(s.exec(select(ClockInReminder).where(col(ClockInReminder.enabled).is_(True))))

    def set_clock_in_reminder(
        self, team_id: str, slack_user_id: str, hour: int, minute: int, enabled: bool
    ) -> ClockInReminder:
        for _ in range(2):
            with self.session() as s:
                row = s.get(ClockInReminder, (team_id, slack_user_id)) or ClockInReminder(
                    team_id=team_id, slack_user_id=slack_user_id, hour=hour, minute=minute
                )
                row.hour, row.minute, row.enabled, row.updated_at = hour, minute, enabled, utcnow()
                s.add(row)
                try:
                    s.commit()
                except IntegrityError:  # set twice at once: the second pass updates the first's row
                    s.rollback()
                    continue
                s.refresh(row)
                return row
        raise RuntimeError("could not save the clock-in reminder")
