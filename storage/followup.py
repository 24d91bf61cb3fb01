"""The requests Timebot follows and the notice claims, through bound parameters only.

A notice is sent by whichever process inserts its claim row first; the primary key makes that
one process on SQLite and PostgreSQL alike, and a restart finds the row and stays quiet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.models import LeaveNotice, LeaveTrack, utcnow
from storage.store import SqlStore


class FollowupStore(SqlStore):
    def track(self, row: LeaveTrack) -> LeaveTrack:
        """Insert ``row`` unless the request is followed already; the stored row either way."""
        return self.insert_or_found(row, lambda: self.tracked(row.vendor, row.request_id))

    def tracked(self, vendor: str, request_id: str) -> LeaveTrack | None:
        with self.session() as s:
            return s.exec(
                select(LeaveTrack).where(LeaveTrack.vendor == vendor, LeaveTrack.request_id == request_id)
            ).first()

    def open_requests(self, vendor: str | None = None) -> list[LeaveTrack]:
        with self.session() as s:
            stmt = select(LeaveTrack).where(LeaveTrack.status == "pending")
            if vendor is not None:
                stmt = stmt.where(LeaveTrack.vendor == vendor)
            return list(s.exec(stmt.order_by(col(LeaveTrack.id))))

    def settle(self, row: LeaveTrack, status: str, decided_by: str | None, at: datetime | None = None) -> bool:
        """Record the new status, once: False when another process recorded it first. ``at``: when
        the vendor says it happened (a webhook's event time), else now."""
        with self.session() as s:
            result = s.exec(
                update(LeaveTrack)
                .where(
                    col(LeaveTrack.id) == row.id,
                    col(LeaveTrack.status) == row.status,
                )
                .values(status=status, decided_by=(decided_by or "")[:256], updated_at=at or utcnow())
            )
            s.commit()
            return bool(result.rowcount)

    def add_approver_dm(self, track_id: int, channel: str, ts: str) -> None:
        with self.session() as s:
            row = s.get(LeaveTrack, track_id)
            if row is None:
                return
            row.approver_dms = ",".join(filter(None, [row.approver_dms, f"{channel}:{ts}"]))[:2000]
            s.add(row)
            s.commit()

    def claim(self, key: str) -> bool:
        """True for the one caller that inserts ``key``; False for every other, ever."""
        with self.session() as s:
            s.add(LeaveNotice(key=key[:255], at=utcnow()))
            try:
                s.commit()
                return True
            except IntegrityError:
                s.rollback()
                return False

    def claimed(self, key: str) -> bool:
        with self.session() as s:
            return s.get(LeaveNotice, key[:255]) is not None

    def unclaim(self, key: str) -> None:
        """Drop a claim whose holder died before acting on it (a resumed cancel takes it again)."""
        with self.engine.begin() as conn:
            conn.execute(delete(LeaveNotice).where(col(LeaveNotice.key) == key[:255]))
