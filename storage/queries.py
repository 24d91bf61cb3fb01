"""Every query the bot makes, through bound parameters only (SQLModel/SQLAlchemy expressions)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, select

from storage.models import AuditLog, Identity, Person, ProcessedRequest, utcnow


class SqlStore:
    """One engine, short sessions whose rows stay readable after commit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            yield s


class Store(SqlStore):
    # --- identities ------------------------------------------------------------------------

    def identity(self, team_id: str, slack_user_id: str, vendor: str) -> Identity | None:
        with self.session() as s:
            return s.exec(
                select(Identity).where(
                    Identity.team_id == team_id, Identity.slack_user_id == slack_user_id, Identity.vendor == vendor
                )
            ).first()

    def identities_of(self, team_id: str, slack_user_id: str) -> list[Identity]:
        with self.session() as s:
            return list(
                s.exec(
                    select(Identity)
                    .where(Identity.team_id == team_id, Identity.slack_user_id == slack_user_id)
                    .order_by(Identity.vendor)
                )
            )

    def identities_for_vendor(self, team_id: str, vendor: str) -> list[Identity]:
        with self.session() as s:
            return list(
                s.exec(select(Identity).where(Identity.team_id == team_id, Identity.vendor == vendor))
            )

    def identity_holders(self, vendor: str, vendor_user_id: str) -> list[Identity]:
        """Everyone linked to this vendor account, in any workspace (one deployment serves one
        company's vendor accounts; an Enterprise Grid user keeps one user id across workspaces)."""
        with self.session() as s:
            return list(s.exec(select(Identity).where(Identity.vendor == vendor,
                                                      Identity.vendor_user_id == vendor_user_id)))

    def all_identities(self) -> list[Identity]:
        with self.session() as s:
            return list(s.exec(select(Identity)))

    def save_identity(
        self,
        team_id: str,
        slack_user_id: str,
        vendor: str,
        vendor_user_id: str,
        *,
        secret_enc: str | None,
        email: str | None,
        linked_by: str,
    ) -> Identity:
        """Insert or replace the person's identity in ``vendor``."""
        query = select(Identity).where(
            Identity.team_id == team_id, Identity.slack_user_id == slack_user_id, Identity.vendor == vendor
        )

        def fill(row: Identity) -> Identity:
            row.vendor_user_id = vendor_user_id
            row.secret_enc = secret_enc
            row.email = email
            row.linked_by = linked_by
            row.updated_at = utcnow()
            return row

        with self.session() as s:
            row = s.exec(query).first() or Identity(
                team_id=team_id, slack_user_id=slack_user_id, vendor=vendor, vendor_user_id=""
            )
            s.add(fill(row))
            try:
                s.commit()
            except IntegrityError:  # two first uses at once (email match): the other inserted; replace it
                s.rollback()
                row = fill(s.exec(query).one())
                s.add(row)
                s.commit()
            s.refresh(row)
            return row

    def update_secret(self, identity_id: int, secret_enc: str) -> None:
        with self.session() as s:
            row = s.get(Identity, identity_id)
            if row is not None:
                row.secret_enc = secret_enc
                s.add(row)
                s.commit()

    def delete_identity(self, team_id: str, slack_user_id: str, vendor: str | None = None) -> int:
        with self.session() as s:
            stmt = delete(Identity).where(Identity.team_id == team_id, Identity.slack_user_id == slack_user_id)
            if vendor is not None:
                stmt = stmt.where(Identity.vendor == vendor)
            result = s.exec(stmt)  # type: ignore[call-overload]
            s.commit()
            return int(result.rowcount or 0)

    # --- people ----------------------------------------------------------------------------

    def person(self, team_id: str, slack_user_id: str) -> Person | None:
        with self.session() as s:
            return s.get(Person, (team_id, slack_user_id))

    def people(self, team_id: str) -> list[Person]:
        with self.session() as s:
            return list(s.exec(select(Person).where(Person.team_id == team_id)))

    def save_person(
        self, team_id: str, slack_user_id: str, *, name: str | None, email: str | None, tz: str | None,
        is_admin: bool = False,
    ) -> Person:
        with self.session() as s:
            row = s.get(Person, (team_id, slack_user_id)) or Person(team_id=team_id, slack_user_id=slack_user_id)
            row.name, row.email, row.tz, row.is_admin = name, email, tz, is_admin
            row.updated_at = utcnow()
            s.add(row)
            try:
                s.commit()
            except IntegrityError:  # another thread saved the same person first: theirs is as fresh
                s.rollback()
                return s.get(Person, (team_id, slack_user_id)) or row
            s.refresh(row)
            return row

    # --- audit -----------------------------------------------------------------------------

    def audit(self, team_id: str, slack_user_id: str, vendor: str, action: str, outcome: str, detail: str = "") -> None:
        with self.session() as s:
            s.add(
                AuditLog(
                    team_id=team_id, slack_user_id=slack_user_id, vendor=vendor, action=action,
                    outcome=outcome, detail=detail[:2000],
                )
            )
            s.commit()

    def audit_log(self, limit: int = 100) -> list[AuditLog]:
        with self.session() as s:
            return list(s.exec(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)))  # type: ignore[union-attr]

    # --- request de-duplication -------------------------------------------------------------

    def claim_request(self, key: str) -> bool:
        """True the first time ``key`` is seen, False for every repeat (retry, double click)."""
        with self.session() as s:
            s.add(ProcessedRequest(key=key[:255]))
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
            return True

    def request_seen(self, key: str) -> bool:
        with self.session() as s:
            return s.get(ProcessedRequest, key[:255]) is not None

    def forget_requests_before(self, cutoff: datetime | None = None) -> int:
        cutoff = cutoff or utcnow() - timedelta(days=2)
        with self.session() as s:
            result = s.exec(delete(ProcessedRequest).where(ProcessedRequest.at < cutoff))  # type: ignore[call-overload]
            s.commit()
            return int(result.rowcount or 0)

    # --- short leases (one action per person at a time, across processes) --------------------

    def claim_lock(self, key: str, ttl: timedelta) -> bool:
        """Take ``key`` unless someone holds it; a holder older than ``ttl`` is presumed dead."""
        if self.claim_request(key):
            return True
        with self.session() as s:
            result = s.exec(  # type: ignore[call-overload]
                delete(ProcessedRequest).where(ProcessedRequest.key == key, ProcessedRequest.at < utcnow() - ttl)
            )
            s.commit()
            if not result.rowcount:
                return False
        return self.claim_request(key)

    def release_lock(self, key: str) -> None:
        with self.session() as s:
            s.exec(delete(ProcessedRequest).where(ProcessedRequest.key == key))  # type: ignore[call-overload]
            s.commit()
