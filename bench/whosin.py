"""Benchmark: ``/whosin`` for 1,000 people on a company-wide clock vendor (SwipeClock), leave
from WhosOff; counts every vendor call and times the use case plus the rendering.

Checks the bound the use case promises: at most ceil(people / page size) + 1 vendor calls (sign-ins
included). ``--whosoff-vendor swipeclock`` shows the same with SwipeClock serving who's off too.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.runtime.app import create_app
from bot.vendors.http import HttpPolicy
from bot.vendors.swipeclock import SwipeClock, SwipeClockSettings
from bot.vendors.whosoff import WhosOff, WhosOffSettings
from handlers.render.hours import whos_in_blocks
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.swipeclock import PunchLine, SwipeClockSim
from sandbox.whosoff import SUPER_USER, WhosOffSim

TOKEN = "xoxb-bench"
TEAM = "T0DEMO"
SITE_SECRET = "bench-site-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PARTNER_SECRET = "bench-partner-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def swipeclock(people: int, clocked_in: int, today: date) -> SwipeClockSim:
    sim = SwipeClockSim(site_id=5543, site_secret=SITE_SECRET, partner_id=1234, partner_secret=PARTNER_SECRET)
    for n in range(people):
        sim.add_employee(f"E{n:05d}", f"Person{n:04d}", "Surname", f"p{n}@bench.example")
    for n in range(clocked_in):
        start = datetime.combine(today, datetime.min.time()) + timedelta(hours=7, minutes=n % 120)
        sim.punches.append(PunchLine(f"E{n:05d}", start))
    return sim


def whosoff(people: int, absent: int, today: date) -> WhosOffSim:
    sim = WhosOffSim(app_id="bench-app", client_secret="bench-secret")
    sim.add_user("Timebot Service", "svc@bench.example", user_type_id=SUPER_USER, password="pw")
    sim.add_leave_type("Annual Leave")
    ids = [sim.add_user(f"Person{n:04d} Surname", f"p{n}@bench.example") for n in range(people)]
    for n in range(people - absent, people):
        sim.add_leave(ids[n], today, today)
    return sim


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--clocked-in", type=int, default=600)
    parser.add_argument("--absent", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every vendor call")
    parser.add_argument("--whosoff-vendor", choices=["whosoff", "swipeclock"], default="whosoff")
    args = parser.parse_args()

    today = datetime.now(UTC).date()
    sc_sim, wo_sim = swipeclock(args.people, args.clocked_in, today), whosoff(args.people, args.absent, today)
    slack = SlackStandIn(TOKEN).start()
    with (
        SimServer(sc_sim.handle, name="swipeclock") as sc,
        SimServer(wo_sim.handle, name="whosoff") as wo,
        tempfile.TemporaryDirectory() as tmp,
    ):
        sc.faults.latency = wo.faults.latency = args.latency
        auth_url = f"{sc.base_url}/AuthenticationService/oauth2/userToken"
        sc_settings = SwipeClockSettings(
            _env_file=None,
            auth_url=auth_url,  # type: ignore[call-arg]
            api_url=f"{sc.base_url}/api",
            site_id=5543,
            api_secret=SITE_SECRET,
        )
        wo_settings = WhosOffSettings(
            _env_file=None,
            base_url=wo.base_url,
            app_id="bench-app",  # type: ignore[call-arg]
            client_secret="bench-secret",
            username="svc@bench.example",
            password="pw",
            ip_address="127.0.0.1",
        )
        settings = Settings(
            _env_file=None,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_API_URL=slack.api_url,  # type: ignore[call-arg]
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}",
            TIMEBOT_SECRET_KEY=Fernet.generate_key().decode(),
            TIMEBOT_SCHEDULER=False,
            TIMEBOT_CLOCK_VENDOR="swipeclock",
            TIMEBOT_WHOSOFF_VENDOR=args.whosoff_vendor,
        )
        vendors = {"swipeclock": SwipeClock(sc_settings, HttpPolicy()), "whosoff": WhosOff(wo_settings, HttpPolicy())}
        runtime = create_app(settings, vendors=vendors)
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
            sc.requests.clear()
            wo.requests.clear()
            started = time.perf_counter()
            report = runtime.services.whos_in.whos_in(TEAM, "U00000000")
            blocks = whos_in_blocks(report, ZoneInfo("UTC"))
            took = time.perf_counter() - started
        finally:
            runtime.close()
    slack.stop()
    calls = Counter(
        f"{name} {r.method} {r.path.split('?')[0].rsplit('/', 1)[-1]}"
        for name, server in (("swipeclock", sc), ("whosoff", wo))
        for r in server.requests
    )
    total = sum(calls.values())
    bound = math.ceil(args.people / sc_settings.page_size) + 1
    print(
        f"/whosin for {args.people:,} people ({args.clocked_in} clocked in, {args.absent} on leave), "
        f"who's off from {args.whosoff_vendor}, +{args.latency * 1000:.0f} ms per vendor call"
    )
    print(f"  listed: {len(report.entries)} clocked in, {len(report.on_leave)} on leave; {len(blocks)} blocks")
    print(f"  time (vendor reads + names + render, cold: sign-ins included): {took:.3f} s")
    print(
        f"  vendor calls: {total} (bound ceil({args.people}/{sc_settings.page_size}) + 1 = {bound}): "
        + ", ".join(f"{k} x{n}" for k, n in sorted(calls.items()))
    )
    ok = total <= bound and len(report.entries) == args.clocked_in
    print("  within the bound" if ok else "  OVER THE BOUND or wrong count")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
