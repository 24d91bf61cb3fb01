"""Leave in the Slack status: consents (user tokens), OAuth states, and the exactly-once claims.

As with the digests, the database decides who acts: a claim is an INSERT that one process wins
(unique constraint), each later step a conditional UPDATE whose rowcount says whether we still
hold it, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from storage.models import AwayStatusEntry, OAuthState, SlackUserToken
from storage.store import SqlStore

OPEN = ("claimed", "set")  # a status of ours may be showing


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class AwayStatusStore(SqlStore):
    # --- consents ------------------------------------------------------------------------------

    def save_token(self, team_id: str, user_id: str, token_enc: str, scopes: str, now: datetime) -> None:
        with self.session() as s:
            row = s.get(SlackUserToken, (team_id, user_id))
            if row is None:
                row = SlackUserToken(team_id=team_id, slack_user_id=user_id, token_enc=token_enc, created_at=now)
            row.token_enc, row.scopes, row.enabled, row.revoked_told, row.updated_at = (
                token_enc,
                scopes,
                True,
                False,
                now,
            )
            s.add(row)
            s.commit()

    def token(self, team_id: str, user_id: str) -> SlackUserToken | None:
        with self.session() as s:
            return s.get(SlackUserToken, (team_id, user_id))

    def consents(self) -> list[SlackUserToken]:
        with self.session() as s:
            return list(s.exec(select(SlackUserToken).where(col(SlackUserToken.enabled).is_(True))))

    def forget_token(self, team_id: str, user_id: str) -> bool:
        with self.session() as s:
            result = s.exec(
                delete(SlackUserToken).where(
                    col(SlackUserToken.team_id) == team_id, col(SlackUserToken.slack_user_id) == user_id
                )
            )
            s.commit()
            return bool(result.rowcount)

    def revoke(self, team_id: str, user_ids: list[str] | None, now: datetime) -> list[str]:
        """Turn the feature off (the token is gone, so is its ciphertext); returns whom to tell:
        those not told yet. The conditional UPDATE makes "told once" hold across processes."""
        told: list[str] = []
        with self.session() as s:
            stmt = select(SlackUserToken).where(
                col(SlackUserToken.team_id) == team_id, col(SlackUserToken.revoked_told).is_(False)
            )
            if user_ids is not None:
                stmt = stmt.where(col(SlackUserToken.slack_user_id).in_(user_ids))
            candidates = [r.slack_user_id for r in s.exec(stmt)]
        for user_id in candidates:
            with self.session() as s:
                result = s.exec(
                    update(SlackUserToken)
                    .where(
                        col(SlackUserToken.team_id) == team_id,
                        col(SlackUserToken.slack_user_id) == user_id,
                        col(SlackUserToken.revoked_told).is_(False),
                    )
                    .values(enabled=False, revoked_told=True, token_enc="", updated_at=now)
                )
                s.commit()
                if result.rowcount == 1:
                    told.append(user_id)
        return told

    # --- OAuth states ------------------------------------------------------------------------

    def use_state(self, nonce: str, expires_at: datetime, now: datetime, limit: int) -> bool:
        """Record a signed state's nonce as used: True only for its first use. Expired nonces are
        purged first, and past ``limit`` live ones nothing is recorded (and the use refused)."""
        with self.session() as s:
            s.exec(delete(OAuthState).where(col(OAuthState.expires_at) < now))
            s.commit()
            live = s.exec(select(func.count()).select_from(OAuthState)).one()
            if live >= limit:
                return False
            s.add(OAuthState(state=nonce, expires_at=expires_at))
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
            return True

    # --- status claims -----------------------------------------------------------------------

    def claim(self, row: AwayStatusEntry) -> AwayStatusEntry | None:
        """INSERT the leave's row: the one process that wins sets the status."""
        with self.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                return None
            s.refresh(row)
            return row

    def entry(self, team_id: str, user_id: str, leave_key: str) -> AwayStatusEntry | None:
        with self.session() as s:
            return s.exec(
                select(AwayStatusEntry).where(
                    AwayStatusEntry.team_id == team_id,
                    AwayStatusEntry.slack_user_id == user_id,
                    AwayStatusEntry.leave_key == leave_key,
                )
            ).first()

    def open_records(self, team_id: str | None = None, user_id: str | None = None) -> list[AwayStatusEntry]:
        with self.session() as s:
            stmt = select(AwayStatusEntry).where(col(AwayStatusEntry.state).in_(OPEN))
            if team_id is not None and user_id is not None:
                stmt = stmt.where(AwayStatusEntry.team_id == team_id, AwayStatusEntry.slack_user_id == user_id)
            return list(s.exec(stmt.order_by(col(AwayStatusEntry.id))))

    def keys_since(self, team_id: str, user_id: str, since: datetime) -> set[str]:
        """The leaves of the person already handled (any state) that end after ``since``."""
        with self.session() as s:
            rows = s.exec(
                select(AwayStatusEntry.leave_key).where(
                    AwayStatusEntry.team_id == team_id,
                    AwayStatusEntry.slack_user_id == user_id,
                    col(AwayStatusEntry.ends_at) > since,
                )
            )
            return set(rows)

    def move(
        self, row: AwayStatusEntry, to: str, now: datetime, *, expect: str, owner: str | None = None, **values: object
    ) -> bool:
        """Conditional step: True when the row was in ``expect`` and is now ``to`` (ours to act on)."""
        changes: dict[str, object] = {"state": to, "updated_at": now, **values}
        if owner is not None:
            changes["owner"] = owner
        with self.session() as s:
            result = s.exec(
                update(AwayStatusEntry)
                .where(col(AwayStatusEntry.id) == row.id, col(AwayStatusEntry.state) == expect)
                .values(**changes)
            )
            s.commit()
            return result.rowcount == 1
