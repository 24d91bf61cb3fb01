"""Two real processes on one database run the status job at the same moments: each status change
reaches Slack once (the claims in ``away_status``), on PostgreSQL as on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.runtime.app import create_app
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn, UserToken
from sandbox.timeclock import TimeClockSim
from tests.bot.digests.support import ROOT, database, postgres_url  # noqa: F401 - fixture
from tests.bot.usecases.away_status_support import ADA, MONDAY, book_leave_in, london, status_sets
from tests.conftest import SECRET_KEY, make_settings, timeclock_vendor
from tests.support import BOT_TOKEN

WORKER = r"""
import sys, time
from datetime import datetime
from pathlib import Path
from bot.runtime.app import create_app
from bot.config import load_settings
runtime = create_app(load_settings(None), env_file=None)
print("ready", flush=True)
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.005)
for moment in sys.argv[2:]:
    runtime.away_status.run(datetime.fromisoformat(moment))
runtime.close()
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_two_processes_send_each_status_change_once(
    kind: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    slack: SlackStandIn,
    tc_sim: TimeClockSim,
    tc_server: SimServer,
) -> None:
    url = database(kind, tmp_path, request)
    slack.user_side.set_status(ADA, "Working from home", ":house:")
    slack.user_side.tokens["xoxp-ada"] = UserToken(ADA, {"users.profile:read", "users.profile:write", "dnd:write"})
    seed = create_app(
        make_settings(tmp_path, slack, DATABASE_URL=url, TIMEBOT_SCHEDULER="false"),
        vendors={"timeclock": timeclock_vendor(tc_server.base_url)},
    )
    people = seed.services.people
    people.link(people.actor("T0DEMO", ADA), "timeclock", {"pin": f"1{tc_sim.users[1].pin}"})
    assert seed.away_status is not None
    seed.away_status.connect("T0DEMO", ADA, "xoxp-ada", "users.profile:read,users.profile:write")
    seed.close()
    book_leave_in(tc_sim, MONDAY, MONDAY + timedelta(days=1))

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": url,
        "TIMEBOT_SECRET_KEY": SECRET_KEY,
        "TIMEBOT_SCHEDULER": "false",
        "TIMECLOCK_BASE_URL": tc_server.base_url,
    }
    go = tmp_path / "go"
    moments = [
        london(MONDAY).isoformat(),
        london(MONDAY, 0, 1).isoformat(),
        london(MONDAY + timedelta(days=2)).isoformat(),
    ]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(go), *moments],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for w in workers:
            assert w.stdout is not None
            while (line := w.stdout.readline()) and line.strip() != "ready":
                pass  # Bolt's start-up warnings
            assert line, "the worker never got ready"
        go.touch()
        for w in workers:
            assert w.wait(timeout=60) == 0, w.stdout.read() if w.stdout else ""
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    sets = status_sets(slack)
    assert [s["status_text"] for s in sets] == ["On leave · back Wed 9 Dec", "Working from home"]
    assert len(slack.calls_to("users.profile.get")) >= 2
