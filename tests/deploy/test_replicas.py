"""Two ``timebot run`` replicas on one PostgreSQL database; the one that took a rush of clock-ins
is killed with SIGKILL halfway through. The survivor finishes or reports every accepted action,
with one answer each and no second TimeClock write. (tests/deploy/test_container.py runs the same
scenario on compose.yaml's two containers.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.harness import postgres_database, start
from tests.deploy.killed_replica import a_rush, the_survivor_finishes_every_clock_in


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def test_the_surviving_replica_finishes_every_clock_in_of_a_replica_killed_mid_rush(
    tmp_path: Path,
    secret_key: str,
    database_url: str,
) -> None:
    with a_rush(secret_key) as rush:
        rush.seed(database_url)
        env = {**rush.env, "DATABASE_URL": database_url}
        first = start(env, tmp_path, name="replica-a")
        try:
            survivor = start(env, tmp_path, name="replica-b")
        except BaseException:
            first.kill()
            raise
        the_survivor_finishes_every_clock_in(rush, first, survivor)
