"""Every query the bot makes, through bound parameters only (SQLModel/SQLAlchemy expressions)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from storage.ledger import AuditRow, Row, write
from storage.models import AuditLog, Identity, Person, ProcessedRequest, table_of, utcnow

T = TypeVar("T")

_IDENTITY = table_of(Identity)  # read through Core: see Store.identity

log = logging.getLogger(__name__)


class AccountTaken(Exception):
    """Someone else in the workspace holds that vendor account (uq_identity_account)."""


class SqlStore:
    """One engine, short sessions whose rows stay readable after commit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s:
            yield s

    def insert_or_found(self, row: T, found: Callable[[], T | None]) -> T:
        """Insert ``row``; when a unique key says it is there already (a double click, another
        process first), the stored row that ``found`` reads back."""
        with self.session() as s:
            s.add(row)
            try:
                s.commit()
                return row
            except IntegrityError:
                s.rollback()
        stored = found()
        assert stored is not None
        return stored

    def record(self, row: Row) -> int:
        """Write one bookkeeping row in its own transaction; rows affected."""
        with self.engine.begin() as conn:
            return write(conn, row)


class Store(SqlStore):
    # --- identities ------------------------------------------------------------------------

    def identity(self, team_id: str, slack_user_id: str, vendor: str) -> Identity | None:
        """Core, not an ORM session: every vendor action reads this first (bench/ack.py)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                _IDENTITY.select().where(
                    col(Identity.team_id) == team_id,
                    col(Identity.slack_user_id) == slack_user_id,
                    col(Identity.vendor) == vendor,
                )
            ).first()
        return Identity(**row._mapping) if row is not None else None

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
            return list(s.exec(select(Identity).where(Identity.team_id == team_id, Identity.vendor == vendor)))

    def identity_holders(self, vendor: str, vendor_user_id: str) -> list[Identity]:
        """Everyone linked to this vendor account, in any workspace (one deployment serves one
        company's vendor accounts; an Enterprise Grid user keeps one user id across workspaces)."""
        with self.session() as s:
            return list(
                s.exec(select(Identity).where(Identity.vendor == vendor, Identity.vendor_user_id == vendor_user_id))
            )

    def sample_secrets(self, limit: int) -> list[str]:
        """Up to ``limit`` stored encrypted secrets, newest links first (the start-up key check)."""
        with self.session() as s:
            rows = s.exec(
                select(Identity.secret_enc)
                .where(col(Identity.secret_enc).is_not(None))
                .order_by(col(Identity.updated_at).desc())
                .limit(limit)
            )
            return [r for r in rows if r]

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
        """Insert or replace the person's identity in ``vendor``; AccountTaken when someone else in the
        workspace holds ``vendor_user_id`` (the database decides a race the read-then-write check can't)."""
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

        taken = select(Identity.id).where(
            Identity.team_id == team_id,
            Identity.vendor == vendor,
            Identity.vendor_user_id == vendor_user_id,
            Identity.slack_user_id != slack_user_id,
        )
        with self.session() as s:
            row = s.exec(query).first() or Identity(
                team_id=team_id, slack_user_id=slack_user_id, vendor=vendor, vendor_user_id=""
            )
            s.add(fill(row))
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                if s.exec(taken).first() is not None:  # two people linking one account at once
                    raise AccountTaken(vendor_user_id) from None
                row = fill(s.exec(query).one())  # two first uses at once (email match): replace theirs
                s.add(row)
                try:
                    s.commit()
                except IntegrityError:
                    s.rollback()
                    raise AccountTaken(vendor_user_id) from None
            s.refresh(row)
            return row

    def replace_secret(self, identity_id: int, old_enc: str, new_enc: str) -> bool:
        """Swap one encrypted secret for another, only if the row still holds ``old_enc``: a
        person who re-linked meanwhile keeps their new key (rotation runs beside the bot)."""
        with self.session() as s:
            result = s.exec(
                update(Identity)
                .where(col(Identity.id) == identity_id, col(Identity.secret_enc) == old_enc)
                .values(secret_enc=new_enc)
            )
            s.commit()
            return bool(result.rowcount)

    def delete_identity(self, team_id: str, slack_user_id: str, vendor: str | None = None) -> int:
        with self.session() as s:
            stmt = delete(Identity).where(
                col(Identity.team_id) == team_id, col(Identity.slack_user_id) == slack_user_id
            )
            if vendor is not None:
                stmt = stmt.where(col(Identity.vendor) == vendor)
            result = s.exec(stmt)
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
        self,
        team_id: str,
        slack_user_id: str,
        *,
        name: str | None,
        email: str | None,
        tz: str | None,
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
            return row  # every column was set here: no read back

    # --- audit -----------------------------------------------------------------------------

    def audit(self, team_id: str, slack_user_id: str, vendor: str, action: str, outcome: str, detail: str = "") -> None:
        self.record(AuditRow(team_id, slack_user_id, vendor, action, outcome, detail))

    def audit_log(self, limit: int = 100) -> list[AuditLog]:
        with self.session() as s:
            return list(s.exec(select(AuditLog).order_by(col(AuditLog.id).desc()).limit(limit)))

    # --- request de-duplication -------------------------------------------------------------

    def claim_request(self, key: str) -> bool:
        """True the first time ``key`` is seen, False for every repeat (retry, double click)."""
        return self._insert_key(key) is not None

    def _insert_key(self, key: str) -> datetime | None:
        """The row's time when we inserted ``key``; None when it was there already."""
        at = utcnow()
        try:
            with self.engine.begin() as conn:  # Core: one of the few writes every action makes
                conn.execute(insert(ProcessedRequest).values(key=key[:255], at=at))
        except IntegrityError:
            return None
        return at

    def request_seen(self, key: str) -> bool:
        with self.session() as s:
            return s.get(ProcessedRequest, key[:255]) is not None

    def forget_requests_before(self, cutoff: datetime | None = None) -> int:
        cutoff = cutoff or utcnow() - timedelta(days=2)
        with self.session() as s:
            result = s.exec(delete(ProcessedRequest).where(col(ProcessedRequest.at) < cutoff))
            s.commit()
            return int(result.rowcount or 0)

    # --- short leases (one action per person at a time, across processes) --------------------

    def claim_lock(self, key: str, ttl: timedelta) -> datetime | None:
        """Take ``key`` unless someone holds it; a holder older than ``ttl`` is presumed dead.
        Returns the lease (its start), which ``release_lock`` needs: None when it is taken."""
        taken = self._insert_key(key)
        if taken is not None:
            return taken
        with self.session() as s:
            result = s.exec(
                delete(ProcessedRequest).where(
                    col(ProcessedRequest.key) == key, col(ProcessedRequest.at) < utcnow() - ttl
                )
            )
            s.commit()
            if not result.rowcount:
                return None
        return self._insert_key(key)

    def renew_lock(self, key: str, lease: datetime) -> datetime | None:
        """Move a held lease's start to now (only if ``lease`` still holds ``key``): the new lease."""
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(ProcessedRequest)
                .where(col(ProcessedRequest.key) == key, col(ProcessedRequest.at) == lease)
                .values(at=now)
            )
        return now if result.rowcount else None

    def release_lock(self, key: str, lease: datetime, rows: Sequence[Row] = ()) -> None:
        """Give the lease back, unless it went stale and someone else holds ``key`` now, and
        write the action's bookkeeping ``rows`` in the same transaction.

        A row that can't be written is logged, never raised: the action it records has happened
        (often at a vendor), and "something went wrong" would be untrue. The lease is still given back."""
        release = delete(ProcessedRequest).where(col(ProcessedRequest.key) == key, col(ProcessedRequest.at) == lease)
        try:
            with self.engine.begin() as conn:
                conn.execute(release)
                for row in rows:
                    write(conn, row)
            return
        except Exception as exc:
            if not rows:
                raise
            log.error(
                "could not write an action's bookkeeping with its lease (%s); one at a time now", type(exc).__name__
            )
        with self.engine.begin() as conn:
            conn.execute(release)
        for row in rows:
            try:
                self.record(row)
            except Exception as exc:
                log.error(
                    "could not write the %s row for %s: %s", type(row).__name__, row.slack_user_id, type(exc).__name__
                )
