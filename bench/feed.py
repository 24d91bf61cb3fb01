"""Benchmark: 100 calendar apps polling one feed within a minute cost at most one vendor read.

One read is one build of the feed: the leave (one company-wide call on WhosOff) and the public
holidays (one call).

A WhosOff company of ``--people`` with leave, the bot as ``timebot run`` builds it in HTTP mode,
one "everyone" feed, and ``--polls`` GETs spread over ``--seconds`` from ``--clients`` threads at
once (the first ones arrive together, before any build exists). Counts the vendor's leave reads
(sign-ins apart) and prints the status codes; passes when the reads are at most 1.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.runtime.app import create_app
from bot.runtime.web import HttpServer, SlackWsgi
from bot.vendors.http import HttpPolicy
from bot.vendors.whosoff import WhosOff, WhosOffSettings
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import SUPER_USER, WhosOffSim

TOKEN = "xoxb-bench"
TEAM = "T0DEMO"


def company(people: int) -> WhosOffSim:
    sim = WhosOffSim(app_id="bench-app", client_secret="bench-secret")
    sim.add_user("Timebot Service", "svc@bench.example", user_type_id=SUPER_USER, password="pw")
    sim.add_leave_type("Annual Leave")
    today = datetime.now(UTC).date()
    for n in range(people):
        uid = sim.add_user(f"Person{n:04d} Surname", f"p{n}@bench.example")
        if n % 5 == 0:
            first = today + timedelta(days=n % 60)
            sim.add_leave(uid, first, first + timedelta(days=n % 4))
    return sim


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--polls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0, help="the polls are spread over this long")
    parser.add_argument("--clients", type=int, default=10, help="threads polling at once")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to every vendor call")
    args = parser.parse_args()

    sim = company(args.people)
    slack = SlackStandIn.demo(TOKEN).start()
    with SimServer(sim.handle, name="whosoff") as wo, tempfile.TemporaryDirectory() as tmp:
        wo.faults.latency = args.latency
        vendor = WhosOff(
            WhosOffSettings(
                _env_file=None,
                base_url=wo.base_url,
                app_id="bench-app",  # type: ignore[call-arg]
                client_secret="bench-secret",
                username="svc@bench.example",
                password="pw",
                ip_address="127.0.0.1",
            ),
            HttpPolicy(),
        )
        settings = Settings(
            _env_file=None,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_API_URL=slack.api_url,  # type: ignore[call-arg]
            SLACK_SIGNING_SECRET="bench",
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}",
            TIMEBOT_SECRET_KEY=Fernet.generate_key().decode(),
            TIMEBOT_SCHEDULER=False,
            TIMEBOT_PUBLIC_URL="https://timebot.example.com",
        )
        runtime = create_app(settings, vendors={"whosoff": vendor})
        server = HttpServer(
            SlackWsgi(runtime.app, runtime.engine, signing_secret="bench", calendar=runtime.calendar),
            "127.0.0.1",
            0,
            threads=16,
        ).start()
        try:
            calendars = runtime.services.calendars
            assert calendars is not None
            actor = runtime.services.people.actor(TEAM, "U0ADA")
            from bot.usecases.scope import Scope

            _, everyone = calendars.links(actor, Scope())
            url = f"http://127.0.0.1:{server.port}{urlsplit(everyone.url).path}"
            wo.requests.clear()
            statuses: Counter[int] = Counter()
            lock = threading.Lock()
            started = time.monotonic()
            # the first `clients` polls land together; the rest at random moments within the window
            moments = sorted(
                [0.0] * args.clients + [random.uniform(0, args.seconds) for _ in range(args.polls - args.clients)]
            )
            queue = list(moments)
            etags: dict[int, str] = {}

            def client(n: int) -> None:
                with httpx.Client(timeout=30) as http:
                    while True:
                        with lock:
                            if not queue:
                                return
                            at = queue.pop(0)
                        time.sleep(max(0.0, started + at - time.monotonic()))
                        headers = {"If-None-Match": etags[n]} if n in etags and n % 2 else {}
                        response = http.get(url, headers=headers)
                        if response.status_code == 200:
                            etags[n] = response.headers["etag"]
                        with lock:
                            statuses[response.status_code] += 1

            threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            took = time.monotonic() - started
        finally:
            server.stop()
            runtime.close()
    slack.stop()
    reads = [r for r in wo.requests if "auth" not in r.path.lower()]
    by_route = Counter(r.path.split("?")[0] for r in reads)
    print(
        f"{args.polls} polls of one 'everyone' feed ({args.people} people) from {args.clients} clients over "
        f"{took:.1f} s, +{args.latency * 1000:.0f} ms per vendor call"
    )
    print("  answers: " + ", ".join(f"{code} x{n}" for code, n in sorted(statuses.items())))
    print(f"  vendor reads: {len(reads)} (" + ", ".join(f"{k} x{n}" for k, n in sorted(by_route.items())) + ")")
    # One build of the feed reads the leave once and the public holidays once.
    ok = max(by_route.values(), default=0) <= 1 and sum(statuses.values()) == args.polls and set(statuses) <= {200, 304}
    print(
        "  one feed build (each vendor route read at most once): yes"
        if ok
        else "  MORE THAN ONE VENDOR READ of a route, or a failed poll"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
