"""Storage on SQLite and, when CI provides one, PostgreSQL: same code, same behaviour."""

from __future__ import annotations

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
from storage.store import AccountTaken, Store
from tests.storage.conftest import PG, pg_schema


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
    lease = store.claim_lock("inflight:a", ttl=timedelta(minutes=2))
    assert lease is not None
    assert store.claim_lock("inflight:a", ttl=timedelta(minutes=2)) is None
    store.release_lock("inflight:a", lease)
    assert store.claim_lock("inflight:a", ttl=timedelta(minutes=2)) is not None
    assert store.claim_lock("inflight:a", ttl=timedelta(seconds=-1)) is not None  # the holder is presumed dead


def test_a_holder_whose_lease_went_stale_cannot_release_the_next_holders_lease(engine: Engine) -> None:
    store = Store(engine)
    slow = store.claim_lock("inflight:b", ttl=timedelta(minutes=2))
    assert slow is not None
    nxt = store.claim_lock("inflight:b", ttl=timedelta(seconds=-1))  # the slow holder is presumed dead
    assert nxt is not None
    store.release_lock("inflight:b", slow)  # the slow one finishes at last
    assert store.claim_lock("inflight:b", ttl=timedelta(minutes=2)) is None  # the next holder still holds it


def test_saving_an_identity_twice_replaces_it(engine: Engine) -> None:
    store = Store(engine)
    store.save_identity("T1", "U1", "timeclock", "7", secret_enc="x", email=None, linked_by="self")
    store.save_identity("T1", "U1", "timeclock", "8", secret_enc="y", email=None, linked_by="self")
    rows = store.identities_of("T1", "U1")
    assert [(r.vendor_user_id, r.secret_enc) for r in rows] == [("8", "y")]


def test_rotating_a_secret_never_overwrites_a_key_linked_meanwhile(engine: Engine) -> None:
    store = Store(engine)
    row = store.save_identity("T1", "U1", "timeclock", "1", secret_enc="old-cipher", email=None, linked_by="self")
    assert row.id is not None
    store.save_identity("T1", "U1", "timeclock", "1", secret_enc="relinked-cipher", email=None, linked_by="self")
    assert not store.replace_secret(row.id, "old-cipher", "rotated-cipher")
    identity = store.identity("T1", "U1", "timeclock")
    assert identity is not None and identity.secret_enc == "relinked-cipher"
    assert store.replace_secret(row.id, "relinked-cipher", "rotated-cipher")


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


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """An empty database nobody has migrated: its URL and connect arguments."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}", {}
        return
    with pg_schema() as connect_args:
        yield PG, connect_args


def test_several_processes_starting_on_a_fresh_database_migrate_it_once_without_failing(
    fresh_database: tuple[str, dict[str, str]],
) -> None:
    import threading

    url, connect_args = fresh_database
    failures: list[BaseException] = []
    engines = [make_engine(url, connect_args=connect_args) if connect_args else make_engine(url) for _ in range(6)]
    start = threading.Barrier(len(engines))

    def boot(engine: Engine) -> None:
        start.wait()
        try:
            upgrade(engine)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=boot, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert failures == []
        with engines[0].connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() is not None
    finally:
        for e in engines:
            e.dispose()


def test_the_account_rule_migration_keeps_the_most_recent_of_two_links_to_one_account(
    fresh_database: tuple[str, dict[str, str]],
) -> None:
    url, connect_args = fresh_database
    engine = make_engine(url, connect_args=connect_args) if connect_args else make_engine(url)
    try:
        upgrade(engine, "0003")
        with engine.begin() as conn:
            for user, when in (
                ("U0ADA", "2026-01-01 09:00:00"),
                ("U0ALAN", "2026-01-02 09:00:00"),
                ("U0GRACE", "2026-01-01 09:00:00"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO identity (team_id, slack_user_id, vendor, vendor_user_id, linked_by, created_at, "
                        "updated_at) VALUES ('T1', :user, 'timeclock', :account, 'self', :when, :when)"
                    ),
                    {"user": user, "when": when, "account": "7" if user != "U0GRACE" else "8"},
                )
        upgrade(engine)
        store = Store(engine)
        assert [i.slack_user_id for i in store.identity_holders("timeclock", "7")] == ["U0ALAN"]
        assert [i.slack_user_id for i in store.identity_holders("timeclock", "8")] == ["U0GRACE"]
        assert any(a.action == "unlink" and a.slack_user_id == "U0ADA" for a in store.audit_log())
        with pytest.raises(AccountTaken):
            store.save_identity("T1", "U0ADA", "timeclock", "7", secret_enc=None, email=None, linked_by="self")
    finally:
        engine.dispose()
