"""Benchmark: a monthly hours report for 1,000 people on a company-wide clock vendor (SwipeClock).

Counts every vendor call and every Slack call of ``/timebot report hours last month``'s use case
and upload (the same path as the slash command after its ack): the bound is the vendor's
company-wide pages (one site timecard read per pay period the month touches, sign-in included)
plus one ``files.uploadV2`` (getUploadURLExternal, the upload, completeUploadExternal).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.runtime.app import create_app
from bot.usecases.reports import parse_report_period
from bot.usecases.scope import Scope
from bot.vendors.http import HttpPolicy
from bot.vendors.swipeclock import SwipeClock, SwipeClockSettings
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.swipeclock import PunchLine, SwipeClockSim

TOKEN = "xoxb-bench"
TEAM = "T0DEMO"
SITE_SECRET = "bench-site-secret-0123456789abcdefghijklmnopqrstuvwxyz"
ADMIN = "U0ADMIN"


def swipeclock(people: int, start: date, end: date) -> SwipeClockSim:
    sim = SwipeClockSim(site_id=5543, site_secret=SITE_SECRET, timezone="UTC")
    for n in range(people):
        sim.add_employee(f"E{n:05d}", f"Person{n:04d}", "Surname", f"p{n}@bench.example")
    day = start
    while day <= end:
        if day.weekday() < 5:
            for n in range(people):
                begin = datetime.combine(day, datetime.min.time()) + timedelta(hours=8, minutes=n % 60)
                sim.punches.append(PunchLine(f"E{n:05d}", begin, begin + timedelta(hours=8)))
        day += timedelta(days=1)
    return sim


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every vendor call")
    args = parser.parse_args()

    start, end = parse_report_period("last month", datetime.now(UTC).date())
    sim = swipeclock(args.people, start - timedelta(days=1), end + timedelta(days=1))
    slack = SlackStandIn(TOKEN).start()
    slack.add_user(ADMIN, "Ada Admin", "admin@bench.example", "UTC", is_admin=True)
    with SimServer(sim.handle, name="swipeclock") as sc, tempfile.TemporaryDirectory() as tmp:
        sc.faults.latency = args.latency
        vendor = SwipeClock(
            SwipeClockSettings(  # type: ignore[call-arg]
                _env_file=None,
                auth_url=f"{sc.base_url}/AuthenticationService/oauth2/userToken",
                api_url=f"{sc.base_url}/api",
                site_id=5543,
                api_secret=SITE_SECRET,
                timezone="UTC",
            ),
            HttpPolicy(),
        )
        settings = Settings(
            _env_file=None,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_API_URL=slack.api_url,  # type: ignore[call-arg]
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}",
            TIMEBOT_ADMINS=ADMIN,
            TIMEBOT_SECRET_KEY=Fernet.generate_key().decode(),
            TIMEBOT_SCHEDULER=False,
        )
        runtime = create_app(settings, vendors={"swipeclock": vendor})
        try:
            store = runtime.services.store
            for n in range(args.people):  # everyone known in Slack and matched by email
                store.save_person(TEAM, f"U{n:08d}", name=f"Person{n:04d}", email=f"p{n}@bench.example", tz="UTC")
                store.save_identity(
                    TEAM,
                    f"U{n:08d}",
                    "swipeclock",
                    f"E{n:05d}",
                    secret_enc=None,
                    email=f"p{n}@bench.example",
                    linked_by="email",
                )
            reports = runtime.services.reports
            assert reports is not None
            actor = runtime.services.people.actor(TEAM, ADMIN)
            sc.requests.clear()
            slack.calls.clear()
            started = time.perf_counter()
            report = reports.build(actor, TEAM, "hours", start, end, Scope(), actor.tz)
            built = time.perf_counter() - started
            reports.upload(actor, report)
            took = time.perf_counter() - started
        finally:
            runtime.close()
    slack.stop()
    vendor_calls = Counter(f"{r.method} {r.path.split('?')[0].rsplit('/', 1)[-1]}" for r in sc.requests)
    slack_calls = Counter(c.method for c in slack.calls if c.method.startswith(("files.", "upload")))
    rows = list(csv.reader(io.StringIO(report.csv)))
    periods = math.ceil(((end - start).days + 3) / sim.pay_period_days) + 1  # the month and a day either side
    timecard_reads = sum(n for k, n in vendor_calls.items() if k.endswith("timecards"))
    print(
        f"hours report {start}..{end} for {args.people:,} people on SwipeClock, +{args.latency * 1000:.0f} ms "
        "per vendor call"
    )
    print(f"  CSV: {len(rows) - 1} rows ({report.people} people), {len(report.csv.encode()):,} bytes")
    print(f"  time: {built:.2f} s to build, {took:.2f} s with the upload")
    print("  vendor calls: " + ", ".join(f"{k} x{n}" for k, n in sorted(vendor_calls.items())))
    print(f"  timecard reads: {timecard_reads} (company-wide, one per pay period; bound {periods})")
    print("  Slack calls for the file: " + ", ".join(f"{k} x{n}" for k, n in sorted(slack_calls.items())))
    ok = timecard_reads <= periods and sum(slack_calls.values()) == 3 and report.people == args.people
    print("  within the bound (company-wide pages + one upload)" if ok else "  OVER THE BOUND or wrong count")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
