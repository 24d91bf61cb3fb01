"""The database every storage test runs on: SQLite, and PostgreSQL when CI provides one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import make_engine, upgrade

PG = os.environ.get("TIMEBOT_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    with pg_schema() as connect_args:
        eng = make_engine(PG, connect_args=connect_args)
        upgrade(eng)
        yield eng
        eng.dispose()


@contextmanager
def pg_schema() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL schema (skips without CI's PostgreSQL): connect arguments that use it."""
    if not PG:
        pytest.skip("TIMEBOT_TEST_POSTGRES_URL is not set (.ci/postgres sets it)")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {"options": f"-csearch_path={schema}"}
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
