"""Storage on SQLite and, when CI provides one, PostgreSQL: same code, same behaviour."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage.db import make_engine, upgrade
from storage.queries import Store

PG = os.environ.get("TIMEBOT_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    if not PG:
        pytest.skip("TIMEBOT_TEST_POSTGRES_URL is not set (.ci/postgres sets it)")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = make_engine(PG, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(eng)
    yield eng
    eng.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_migrations_create_exactly_the_tables_the_models_describe(engine: Engine) -> None:
    import storage.models  # noqa: F401

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_a_request_key_is_claimed_once(engine: Engine) -> None:
    store = Store(engine)
    assert store.claim_request("cmd:T1:trigger-1") is True
    assert store.claim_request("cmd:T1:trigger-1") is False
    assert store.claim_request("cmd:T1:trigger-2") is True


def test_a_lease_is_exclusive_until_released_or_stale(engine: Engine) -> None:
    store = Store(engine)
    assert store.claim_lock("inflight:a", ttl=timedelta(minutes=2))
    assert not store.claim_lock("inflight:a", ttl=timedelta(minutes=2))
    store.release_lock("inflight:a")
    assert store.claim_lock("inflight:a", ttl=timedelta(minutes=2))
    assert store.claim_lock("inflight:a", ttl=timedelta(seconds=-1))  # the holder is presumed dead


def test_saving_an_identity_twice_replaces_it(engine: Engine) -> None:
    store = Store(engine)
    store.save_identity("T1", "U1", "timeclock", "7", secret_enc="x", email=None, linked_by="self")
    store.save_identity("T1", "U1", "timeclock", "8", secret_enc="y", email=None, linked_by="self")
    rows = store.identities_of("T1", "U1")
    assert [(r.vendor_user_id, r.secret_enc) for r in rows] == [("8", "y")]


def test_two_first_saves_of_an_identity_at_once_both_succeed(engine: Engine) -> None:
    """Two first uses of one person at once (email match from /clockin and App Home): the second
    insert meets the first one's row and replaces it instead of failing."""
    from sqlalchemy import event
    from sqlmodel import Session

    store = Store(engine)
    raced: list[bool] = []

    def other_request_saves_first(session: Session, *_: object) -> None:
        if not raced:  # between our look-up and our insert
            raced.append(True)
            store.save_identity("T1", "U9", "swipeclock", "E1", secret_enc=None, email="a@x", linked_by="email")

    event.listen(Session, "before_flush", other_request_saves_first)
    try:
        store.save_identity("T1", "U9", "swipeclock", "E2", secret_enc=None, email="b@x", linked_by="email")
    finally:
        event.remove(Session, "before_flush", other_request_saves_first)
    assert raced
    assert [(r.vendor_user_id, r.email) for r in store.identities_of("T1", "U9")] == [("E2", "b@x")]


def test_sql_looking_text_is_stored_as_text(engine: Engine) -> None:
    store = Store(engine)
    nasty = "Robert'); DROP TABLE identity;--"
    store.save_person("T1", "U1", name=nasty, email=None, tz="UTC")
    store.audit("T1", "U1", "timeclock", "clock_in", "ok", nasty)
    assert store.person("T1", "U1").name == nasty  # type: ignore[union-attr]
    assert store.identities_of("T1", "U1") == []  # the table is still there


def test_times_come_back_as_aware_utc(engine: Engine) -> None:
    store = Store(engine)
    store.audit("T1", "U1", "timeclock", "clock_in", "ok")
    at = store.audit_log(1)[0].at
    assert at.utcoffset() == timedelta(0)


def test_a_percent_encoded_database_url_migrates(tmp_path: Path) -> None:
    """A password such as ``p%40ss`` (or any %-escaped path) must not trip Alembic's config parser."""
    eng = make_engine(f"sqlite:///{tmp_path / 'odd%2Aname.db'}")
    try:
        upgrade(eng)
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        eng.dispose()
