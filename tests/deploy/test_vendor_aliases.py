"""The names WhosOff's own documents use for its roots, ``WHOSOFF_ROOT`` and
``WHOSOFF_SANDBOX_ROOT``, configure Timebot as ``WHOSOFF_BASE_URL`` and ``WHOSOFF_SANDBOX_URL`` do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import SUPER_USER, WhosOffSim
from tests.deploy.harness import run_to_end, slack_env


@pytest.fixture
def whosoff() -> Iterator[tuple[WhosOffSim, SimServer]]:
    sim = WhosOffSim.demo()
    server = SimServer(sim.handle, name="whosoff").start()
    yield sim, server
    server.stop()


def credentials(sim: WhosOffSim) -> dict[str, str]:
    service = next(u for u in sim.users.values() if u.user_type_id == SUPER_USER)
    return {
        "WHOSOFF_APP_ID": sim.app_id,
        "WHOSOFF_CLIENT_SECRET": sim.client_secret,
        "WHOSOFF_USERNAME": service.email_address,
        "WHOSOFF_PASSWORD": service.password,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
    }


@pytest.mark.parametrize(
    "roots",
    [
        {"WHOSOFF_ROOT": "{url}"},
        {
            "WHOSOFF_ROOT": "https://whosoff-live.invalid",
            "WHOSOFF_SANDBOX_ROOT": "{url}",
            "WHOSOFF_USE_SANDBOX": "true",
        },
    ],
    ids=["live", "sandbox"],
)
def test_whosoff_is_reached_through_the_contracts_root_names(
    roots: dict[str, str], tmp_path: Path, slack: SlackStandIn, whosoff: tuple[WhosOffSim, SimServer], secret_key: str
) -> None:
    sim, server = whosoff
    env = {
        **slack_env(slack, tmp_path, secret_key),
        **credentials(sim),
        **{name: value.format(url=server.base_url) for name, value in roots.items()},
    }
    result = run_to_end(env, tmp_path, "check")
    assert "WhosOff: ok" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0
