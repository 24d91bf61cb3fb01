"""One reminder, never two: two real ``timebot reminders check`` processes on one database,
started at the same instant, both sweep and both try to claim the same due session."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.crypto import SecretBox
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from storage.store import Store
from tests.bot.digests.support import database, migrated, postgres_url, run_together  # noqa: F401
from tests.conftest import SECRET_KEY
from tests.support import BOT_TOKEN, SIGNING_SECRET, TEAM


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_two_bot_processes_send_one_reminder_never_two(
    kind: str, tmp_path: Path, slack: SlackStandIn, request: pytest.FixtureRequest
) -> None:
    url = database(kind, tmp_path, request)
    sim = TimeClockSim.demo()
    sim.add_session(1, time.time() - (10 * 3600 + 5 * 60))
    with SimServer(sim.handle, name="timeclock") as server:
        server.faults.latency = 0.2  # the winner holds its claim while the other arrives
        engine = migrated(url)
        store = Store(engine)
        store.save_person(TEAM, "U0ADA", name="Ada Lovelace", email="ada@example.com", tz="Europe/London")
        store.save_identity(
            TEAM,
            "U0ADA",
            "timeclock",
            "1",
            secret_enc=SecretBox(SECRET_KEY).encrypt(sim.users[1].api_key or ""),
            email="ada@example.com",
            linked_by="self",
        )
        engine.dispose()
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PYTHONPATH": str(Path(__file__).parents[3]),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": url,
            "TIMEBOT_SECRET_KEY": SECRET_KEY,
            "TIMECLOCK_BASE_URL": server.base_url,
            "TIMEBOT_QUIET_HOURS": "off",
        }
        run_together(["reminders", "check"], env, tmp_path)
    dms = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "U0ADA"]
    assert len(dms) == 1
    assert "Still working?" in dms[0].args["text"]
