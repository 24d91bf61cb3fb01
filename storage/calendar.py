"""Calendar feeds: the hashed tokens, and each feed's last build shared by every process.

A rebuild is claimed with a conditional UPDATE on ``refreshing_at``, so however many processes
and calendar apps poll a stale feed at once, one of them reads the vendor."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import col, select

from storage.models import CalendarFeed
from storage.store import SqlStore


class CalendarStore(SqlStore):
    def feed(self, team_id: str, slack_user_id: str, scope: str) -> CalendarFeed | None:
        with self.session() as s:
            return s.exec(
                select(CalendarFeed).where(
                    CalendarFeed.team_id == team_id,
                    CalendarFeed.slack_user_id == slack_user_id,
                    CalendarFeed.scope == scope,
                )
            ).first()

    def add(self, row: CalendarFeed) -> CalendarFeed:
        """Insert ``row`` unless the person has that feed already (a double click): the stored one."""
        return self.insert_or_found(row, lambda: self.feed(row.team_id, row.slack_user_id, row.scope))

    def rehash(self, feed_id: int, token_hash: str) -> None:
        """A new secret key makes a new token from the same salt: the old URL stops, the new one works."""
        with self.session() as s:
            s.exec(update(CalendarFeed).where(col(CalendarFeed.id) == feed_id).values(token_hash=token_hash))
            s.commit()

    def by_token_hash(self, token_hash: str) -> CalendarFeed | None:
        with self.session() as s:
            return s.exec(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash)).first()

    def revoke(self, team_id: str, slack_user_id: str) -> int:
        with self.session() as s:
            result = s.exec(
                delete(CalendarFeed).where(
                    col(CalendarFeed.team_id) == team_id, col(CalendarFeed.slack_user_id) == slack_user_id
                )
            )
            s.commit()
            return int(result.rowcount or 0)

    def remove(self, feed_id: int) -> None:
        with self.session() as s:
            s.exec(delete(CalendarFeed).where(col(CalendarFeed.id) == feed_id))
            s.commit()

    def claim_refresh(self, feed_id: int, now: datetime, fresh_for: timedelta, claim_for: timedelta) -> bool:
        """True for the one caller that may rebuild the feed now: its build is older than
        ``fresh_for`` (or missing) and nobody claimed it within ``claim_for``."""
        with self.session() as s:
            result = s.exec(
                update(CalendarFeed)
                .where(
                    col(CalendarFeed.id) == feed_id,
                    or_(col(CalendarFeed.built_at).is_(None), col(CalendarFeed.built_at) < now - fresh_for),
                    or_(col(CalendarFeed.refreshing_at).is_(None), col(CalendarFeed.refreshing_at) < now - claim_for),
                )
                .values(refreshing_at=now)
            )
            s.commit()
            return bool(result.rowcount)

    def store_build(self, feed_id: int, body: str, etag: str, at: datetime) -> None:
        """Keep the new build; Last-Modified moves only when the content did."""
        with self.session() as s:
            row = s.get(CalendarFeed, feed_id)
            if row is None:  # revoked while it was being built
                return
            if row.etag != etag or row.modified_at is None:
                row.modified_at = at
            row.body, row.etag, row.built_at, row.refreshing_at = body, etag, at, None
            s.add(row)
            s.commit()

    def release(self, feed_id: int) -> None:
        """Give up a refresh claim after a failed build, so the next poll tries again."""
        with self.session() as s:
            s.exec(update(CalendarFeed).where(col(CalendarFeed.id) == feed_id).values(refreshing_at=None))
            s.commit()
