"""Two replicas on one PostgreSQL database, as a Deployment with ``replicas: 2`` runs them: both
serve Slack's requests, and a claimed job (a digest that is due) is done by exactly one of them.
(tests/deploy/test_container.py runs the same scenario on compose.yaml's two containers.)"""

from __future__ import annotations

from pathlib import Path

from tests.bot.digests.support import postgres_url  # noqa: F401 - fixture
from tests.deploy.due_digest import a_due_digest, both_serve_and_post_the_due_digest_once
from tests.deploy.harness import Deployed, launch, wait_running


def test_two_replicas_on_one_postgresql_database_both_serve_and_post_a_due_digest_once(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
    secret_key: str,
) -> None:
    with a_due_digest(secret_key) as digest:
        digest.seed(postgres_url)
        env = {**digest.env, "DATABASE_URL": postgres_url}
        replicas: list[Deployed] = [launch(env, tmp_path, name=f"replica{i}") for i in range(2)]
        try:
            for replica in replicas:
                wait_running(replica)
            both_serve_and_post_the_due_digest_once(digest, replicas)
        finally:
            for replica in replicas:
                replica.kill()  # only those a failure left running
