"""Benchmark: build and post the daily digest for a 5,000-person WhosOff company.

Runs everything on 127.0.0.1: the WhosOff simulator with 50 ms added to every vendor call
(``SimServer.faults.latency``), the Slack stand-in, and the bot's own digest code on SQLite.
Prints the time to build (vendor fetch + render) and to post, and how many vendor calls it took.
Then the scoped case: a ``members`` digest for a channel of 1,500 (``--members``), with the Slack
calls (the member list costs ceil(1500 / 200) ``conversations.members`` pages) and vendor calls.

    .venv/bin/python bench/digest.py [--people 5000] [--absent 300] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.digests.poster import Digests
from bot.domain import Portion
from bot.runtime.app import create_app
from bot.vendors.http import HttpPolicy
from bot.vendors.whosoff import WhosOff, WhosOffSettings
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import SUPER_USER, WhosOffSim
from storage.models import DigestSubscription, Person

TOKEN = "xoxb-bench"
TEAM = "T0DEMO"
CHANNEL = "C0BENCH"


def company(people: int, absent: int, day: date) -> WhosOffSim:
    sim = WhosOffSim(app_id="bench-app", client_secret="bench-secret")
    sim.add_user("Timebot Service", "svc@bench.example", user_type_id=SUPER_USER, password="pw")
    sim.add_leave_type("Annual Leave")
    sim.add_leave_type("Sickness")
    ids = [sim.add_user(f"Person{n:04d} Surname{n % 97:02d}", f"p{n}@bench.example") for n in range(people)]
    step = max(1, people // absent)
    for i, n in enumerate(range(0, people, step)[:absent]):
        portion = (Portion.FULL, Portion.FULL, Portion.AM, Portion.PM)[i % 4]
        end = day + timedelta(days=i % 5) if portion is Portion.FULL else day
        sim.add_leave(
            ids[n],
            day,
            end,
            start_portion=portion,
            end_portion=portion,
            leave_type=("Annual Leave", "Sickness")[i % 2],
            note="never shown",
        )
    for i, n in enumerate(range(1, people, step * 3)[: absent // 3]):  # the coming days
        sim.add_leave(ids[n], day + timedelta(days=1 + i % 4))
    return sim


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--absent", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every vendor call")
    parser.add_argument("--members", type=int, default=1500, help="members of the scoped digest's channel")
    args = parser.parse_args()

    day = datetime.now(UTC).date()
    sim = company(args.people, args.absent, day)
    slack = SlackStandIn(TOKEN).start()
    with SimServer(sim.handle, name="whosoff") as wo_server, tempfile.TemporaryDirectory() as tmp:
        wo_server.faults.latency = args.latency
        settings = Settings(
            _env_file=None,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_API_URL=slack.api_url,  # type: ignore[call-arg]
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}",
            TIMEBOT_SECRET_KEY=Fernet.generate_key().decode(),
            TIMEBOT_SCHEDULER=False,
            TIMEBOT_WHOSOFF_VENDOR="whosoff",
        )
        vendor = WhosOff(
            WhosOffSettings(
                _env_file=None,
                base_url=wo_server.base_url,
                app_id="bench-app",  # type: ignore[call-arg]
                client_secret="bench-secret",
                username="svc@bench.example",
                password="pw",
                ip_address="127.0.0.1",
            ),
            HttpPolicy(),
        )
        runtime = create_app(settings, vendors={"whosoff": vendor})
        try:
            now = datetime.now(UTC)
            with Session(runtime.engine) as s:  # 80 % of the company is known in Slack (linked by email)
                s.add_all(
                    Person(
                        team_id=TEAM,
                        slack_user_id=f"U{n:08d}",
                        name=f"Person{n:04d}",
                        email=f"p{n}@bench.example",
                        tz="UTC",
                        updated_at=now,
                    )
                    for n in range(args.people * 4 // 5)
                )
                s.commit()
            digests: Digests = runtime.digests
            sub, _ = digests.store.save_subscription(
                DigestSubscription(team_id=TEAM, channel_id=CHANNEL, hour=9, minute=0, tz="UTC", created_by="U0BENCH"),
                now,
            )

            started = time.perf_counter()
            messages = digests.builder.messages(sub, day)  # vendor fetch + names + render (cold: includes sign-in)
            built = time.perf_counter() - started
            vendor_calls = Counter(r.path for r in wo_server.requests)
            slack_before = len(slack.calls)

            started = time.perf_counter()
            result = digests.post(sub, day, trigger="bench")  # claim, post, record (report reused: same minute)
            posted = time.perf_counter() - started
            calls = slack.calls[slack_before:]
            scoped = _scoped_case(digests, slack, wo_server, args.members, day, now)
        finally:
            runtime.close()
    slack.stop()

    blocks = [len(m.blocks) for m in messages]
    longest = max(len(t) for m in messages for b in m.blocks for t in _texts(b))
    listed = sum(t.count("\n• ") for m in messages for b in m.blocks for t in _texts(b))
    print(
        f"digest for {args.people:,} people, {args.absent} absent today, +{args.latency * 1000:.0f} ms per vendor call"
    )
    print(f"  build (vendor fetch + names + render): {built:.3f} s")
    print(f"  post ({result.outcome}, {result.messages} message(s), 1 s apart): {posted:.3f} s")
    print(f"  total: {built + posted:.3f} s")
    print(
        f"  vendor calls: {sum(vendor_calls.values())} "
        f"({', '.join(f'{path} x{n}' for path, n in sorted(vendor_calls.items()))})"
    )
    print(
        f"  Slack calls while posting: {len(calls)} "
        f"({', '.join(sorted({c.method for c in calls}))}); users.* calls: "
        f"{sum(c.method.startswith('users.') for c in calls)}"
    )
    print(
        f"  messages: {len(messages)}, blocks per message: {blocks} (limit 50), "
        f"longest text field: {longest} chars (limit 3000), lines listed: {listed}"
    )
    print(scoped)
    return 0


def _scoped_case(
    digests: Digests, slack: SlackStandIn, wo_server: SimServer, members: int, day: date, now: datetime
) -> str:
    """A ``members`` digest for a channel of ``members`` people spread over the company."""
    from bot.usecases.scope import MEMBERS_PAGE

    slack.add_channel("C0SCOPED", "scoped", [f"U{n:08d}" for n in range(0, members * 2, 2)])
    sub, _ = digests.store.save_subscription(
        DigestSubscription(
            team_id=TEAM,
            channel_id="C0SCOPED",
            hour=9,
            minute=0,
            tz="UTC",
            created_by="U0BENCH",
            scope="members:C0SCOPED",
        ),
        now,
    )
    slack_before, vendor_before = len(slack.calls), len(wo_server.requests)
    started = time.perf_counter()
    result = digests.post(sub, day, trigger="bench")
    took = time.perf_counter() - started
    calls = Counter(c.method for c in slack.calls[slack_before:])
    vendor = Counter(r.path for r in list(wo_server.requests)[vendor_before:])
    pages = calls["conversations.members"]
    return (
        f"scoped digest: channel of {members:,} members ({result.outcome}, {result.messages} message(s))\n"
        f"  build + post: {took:.3f} s\n"
        f"  Slack calls: {sum(calls.values())} ({', '.join(f'{m} x{n}' for m, n in sorted(calls.items()))}); "
        f"member list: {pages} call(s), at most ceil({members}/{MEMBERS_PAGE}) = {-(-members // MEMBERS_PAGE)}\n"
        f"  vendor calls: {sum(vendor.values())} ({', '.join(f'{p} x{n}' for p, n in sorted(vendor.items()))})"
    )


def _texts(block: dict) -> list[str]:
    found = [block["text"]["text"]] if isinstance(block.get("text"), dict) else []
    found += [e["text"] for e in block.get("elements") or [] if isinstance(e.get("text"), str)]
    return found


if __name__ == "__main__":
    raise SystemExit(main())
