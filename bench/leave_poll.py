"""Benchmark: one leave-status poll for a 5,000-person WhosOff company with one pending request
each, of which ``--changed`` have just been approved.

Counts the vendor calls the poll makes (sign-in aside): WhosOff lists everyone's requests
company-wide, so the poll costs a fixed number of calls (two status filters per 365-day window;
the API documents no paging), not one per person. Also prints the DMs sent and the time taken.

    .venv/bin/python bench/leave_poll.py [--people 5000] [--changed 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.runtime.app import create_app
from bot.vendors.http import HttpPolicy
from bot.vendors.whosoff import WhosOff, WhosOffSettings
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import SUPER_USER, WhosOffSim
from storage.models import LeaveTrack

TOKEN = "xoxb-bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--changed", type=int, default=200)
    args = parser.parse_args()

    sim = WhosOffSim(app_id="bench", client_secret="bench-secret")
    sim.add_user("Timebot Service", "svc@example.com", user_type_id=SUPER_USER, password="pw")
    leave_type = sim.add_leave_type("Annual Leave", requires_approval=True)
    start = date.today() + timedelta(days=14)
    ids = []
    for i in range(args.people):
        uid = sim.add_user(f"Person {i}", f"p{i}@example.com")
        ids.append((uid, sim.add_leave(uid, start + timedelta(days=i % 60), leave_type=leave_type, status="pending")))
    slack = SlackStandIn(TOKEN).start()
    with SimServer(sim.handle, name="whosoff") as server, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_API_URL=slack.api_url,  # type: ignore[call-arg]
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}",
            TIMEBOT_SECRET_KEY=Fernet.generate_key().decode(),
            TIMEBOT_SCHEDULER=False,
        )
        vendor = WhosOff(
            WhosOffSettings(
                _env_file=None,
                base_url=server.base_url,
                app_id="bench",  # type: ignore[call-arg]
                client_secret="bench-secret",
                username="svc@example.com",
                password="pw",
                ip_address="127.0.0.1",
            ),
            HttpPolicy(),
        )
        runtime = create_app(settings, vendors={"whosoff": vendor})
        followup = runtime.services.followup
        assert followup is not None
        for n, (uid, leave_id) in enumerate(ids):
            day = start + timedelta(days=n % 60)
            followup.store.track(
                LeaveTrack(
                    team_id="T0DEMO",
                    slack_user_id=f"U{n:07d}",
                    vendor="whosoff",
                    request_id=str(leave_id),
                    vendor_user_id=str(uid),
                    start_day=day,
                    end_day=day,
                    kind="Annual Leave",
                    status="pending",
                    created_at=datetime.now(UTC),
                )
            )
        for _, leave_id in ids[: args.changed]:
            sim.decide(leave_id, "approved")
        vendor.people()  # sign in first, so the count below is the poll's alone
        before = len(server.requests)
        began = time.perf_counter()
        announced = followup.poll()
        took = time.perf_counter() - began
        calls = len(server.requests) - before
        runtime.close()
    slack.stop()
    print(f"people with a pending request: {args.people}")
    print(f"vendor calls for one poll: {calls} (not one per person)")
    print(f"changes announced: {announced}; DMs sent: {len(slack.calls_to('chat.postMessage'))}")
    print(f"poll took {took:.2f} s")


if __name__ == "__main__":
    main()
