"""Vendor authentications per 1,000 actions, counted by each vendor's simulator.

Each vendor gets its own simulator on 127.0.0.1 and a fresh bot built by ``create_app``; 1,000
actions (the use cases a slash command, a modal or App Home runs) go through the real bot, its
connector and real HTTP from 8 threads at once. The simulator counts what it saw: API calls,
and authentications (TimeTap session tokens, SwipeClock token exchanges, WhosOff sign-ins).
TimeClock has no token at all: every request carries its own signature, so it shows 0 exchanges
and the number of signed requests it verified. A second run has the simulator expire every token
after action 500, to show that the whole bot renews each token once.

    .venv/bin/python bench/auth.py [--people 50] [--actions 1000] [--threads 8]
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet

from bench.harness import BOT_TOKEN, SIGNING_SECRET, TEAM, api_key, link_all, slack_id
from bot.config import Settings
from bot.domain import LeaveRequest
from bot.parse import parse_period
from bot.runtime.app import Runtime, create_app
from bot.runtime.services import Services
from bot.vendors.base import Vendor
from bot.vendors.http import HttpPolicy
from bot.vendors.swipeclock import SwipeClock, SwipeClockSettings
from bot.vendors.timeclock import TimeClock, TimeClockSettings
from bot.vendors.timetap import TimeTap, TimeTapSettings
from bot.vendors.whosoff import WhosOff, WhosOffSettings
from sandbox.server import Request, Response, SimServer
from sandbox.slack import SlackStandIn
from sandbox.swipeclock import AUTH_PATH, SwipeClockSim
from sandbox.timeclock import TimeClockSim
from sandbox.timetap import TimeTapSim
from sandbox.whosoff import SUPER_USER, WhosOffSim

# One person's actions, repeated: what they do with each vendor's capabilities.
CLOCK_CYCLE = (
    "clockin",
    "clockout",
    "home",
    "clockin",
    "clockout",
    "timeoff",
    "submit",
    "clockin",
    "clockout",
    "whosoff",
)
LEAVE_CYCLE = ("home", "timeoff", "submit", "whosoff", "home")
SWIPE_CYCLE = (
    "clockin",
    "clockout",
    "home",
    "clockin",
    "clockout",
    "whosoff",
    "clockin",
    "clockout",
    "clockin",
    "clockout",
)


class Tally:
    """Wraps a simulator's handler to sort each request into authentication or API call, and to
    count API calls refused for a stale token (each costs the connector one renewal and a retry)."""

    def __init__(
        self,
        handler: Callable[[Request], Response],
        is_auth: Callable[[Request], bool],
        stale: Callable[[Response], bool],
    ) -> None:
        self._handler, self._is_auth, self._stale = handler, is_auth, stale
        self._lock = threading.Lock()  # the simulator's server answers on many threads at once
        self.auth_requests: list[Request] = []
        self.api_calls = 0
        self.refused = 0

    def __call__(self, request: Request) -> Response:
        response = self._handler(request)
        with self._lock:
            if self._is_auth(request):
                self.auth_requests.append(request)
            else:
                self.api_calls += 1
                self.refused += int(self._stale(response))
        return response


@dataclass
class Rig:
    """One vendor's simulator, served over HTTP, and a connector pointed at it."""

    name: str
    label: str
    tally: Tally
    server: SimServer
    vendor: Vendor
    cycle: tuple[str, ...]
    leave_type: str = ""
    auth_count: Callable[[], int] = lambda: 0  # the simulator's own count of successful authentications
    expire: Callable[[], None] | None = None
    self_linked: bool = False  # people link their own key (TimeClock): identities stored up front
    what: str = "authentications"
    token_key: Callable[[Request], str] | None = None  # which token an exchange was for

    def close(self) -> None:
        self.server.stop()


def serve(
    name: str,
    handler: Callable[[Request], Response],
    is_auth: Callable[[Request], bool],
    stale: Callable[[Response], bool],
) -> tuple[Tally, SimServer]:
    tally = Tally(handler, is_auth, stale)
    return tally, SimServer(tally, name=name).start()


def person(i: int) -> tuple[str, str, str]:
    return f"Person{i:04d}", f"Surname{i % 97:02d}", f"p{i}@bench.example"


def timeclock_rig(people: int) -> Rig:
    sim = TimeClockSim()
    for i in range(1, people + 1):
        first, last, email = person(i)
        sim.add_user(i, f"{first} {last}", email, api_key=api_key(i), pin=f"{i % 1000:03d}")
    tally, server = serve(
        "timeclock", sim.handle, lambda r: r.path.rstrip("/") == "/api/key", lambda resp: resp.status in (401, 403)
    )
    vendor = TimeClock(TimeClockSettings(_env_file=None, base_url=server.base_url), HttpPolicy())  # type: ignore[call-arg]
    return Rig(
        "timeclock",
        "TimeClock",
        tally,
        server,
        vendor,
        CLOCK_CYCLE,
        leave_type="1",
        auth_count=lambda: len(tally.auth_requests),
        self_linked=True,
        what="PIN-for-key exchanges",
    )


def timetap_rig(people: int) -> Rig:
    sim = TimeTapSim(private_key="bench-private-key")
    sim.add_reason("Consultation", "SERVICE")
    vacation = sim.add_reason("Vacation", "PERSONAL")
    for i in range(1, people + 1):
        first, last, email = person(i)
        sim.add_staff(first, last, email)
    tally, server = serve(
        "timetap", sim.handle, lambda r: r.path.endswith("/sessionToken"), lambda resp: resp.status == 401
    )
    vendor = TimeTap(
        TimeTapSettings(
            _env_file=None,
            base_url=server.base_url,
            environment="test",  # type: ignore[call-arg]
            api_key=sim.api_key,
            private_key=sim.private_key,
        ),
        HttpPolicy(),
    )
    return Rig(
        "timetap",
        "TimeTap",
        tally,
        server,
        vendor,
        LEAVE_CYCLE,
        leave_type=str(vacation["reasonId"]),
        auth_count=lambda: sim.auth_count,
        expire=sim.expire_tokens,
        what="session tokens",
    )


def _swipe_token_key(request: Request) -> str:
    """The token an exchange was for, read from the originating JWT's claims (not verified)."""
    payload = request.headers.get("authorization", "").split()[-1].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{claims.get('product')}:{(claims.get('user') or {}).get('id', 'site')}"


def swipeclock_rig(people: int, act_as_employee: bool = True) -> Rig:
    sim = SwipeClockSim(site_secret="bench-site-secret-" + "x" * 40)
    for i in range(1, people + 1):
        first, last, email = person(i)
        sim.add_employee(f"E{i:04d}", first, last, email)
    tally, server = serve(
        "swipeclock", sim.handle, lambda r: r.path.rstrip("/").lower() == AUTH_PATH, lambda resp: resp.status == 401
    )
    settings = SwipeClockSettings(
        _env_file=None,
        auth_url=f"{server.base_url}/AuthenticationService/oauth2/userToken",  # type: ignore[call-arg]
        api_url=f"{server.base_url}/api",
        site_id=sim.site_id,
        api_secret=sim.site_secret,
        act_as_employee=act_as_employee,
    )
    label = "SwipeClock" if act_as_employee else "SwipeClock*"
    return Rig(
        "swipeclock",
        label,
        tally,
        server,
        SwipeClock(settings, HttpPolicy()),
        SWIPE_CYCLE,
        auth_count=lambda: sim.auth_count,
        expire=sim.expire_tokens,
        what="token exchanges",
        token_key=_swipe_token_key,
    )


def whosoff_rig(people: int) -> Rig:
    sim = WhosOffSim(app_id="bench-app", client_secret="bench-client-secret")
    sim.add_user("Timebot Service", "svc@bench.example", user_type_id=SUPER_USER, password="bench-pw")
    annual = sim.add_leave_type("Annual Leave")
    for i in range(1, people + 1):
        first, last, email = person(i)
        sim.add_user(f"{first} {last}", email)
    tally, server = serve(
        "whosoff",
        sim.handle,
        lambda r: "/authenticate/" in r.path,
        lambda resp: resp.status == 401 or (resp.status == 400 and b"TOK004" in resp.body),
    )
    vendor = WhosOff(
        WhosOffSettings(
            _env_file=None,
            base_url=server.base_url,
            app_id=sim.app_id,  # type: ignore[call-arg]
            client_secret=sim.client_secret,
            username="svc@bench.example",
            password="bench-pw",
            ip_address="127.0.0.1",
        ),
        HttpPolicy(),
    )
    return Rig(
        "whosoff",
        "WhosOff",
        tally,
        server,
        vendor,
        LEAVE_CYCLE,
        leave_type=str(annual),
        auth_count=lambda: sim.auth_count,
        expire=sim.expire_tokens,
        what="sign-ins",
    )


# --- the bot and the actions ----------------------------------------------------------------------


def start_bot(rig: Rig, slack: SlackStandIn, workdir: Path, people: int) -> Runtime:
    """The real bot, its only vendor the rig's; TimeClock people already linked (keys encrypted)."""
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,  # type: ignore[call-arg]
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=f"sqlite:///{workdir / 'timebot.db'}",
        TIMEBOT_SECRET_KEY=Fernet.generate_key().decode(),
        TIMEBOT_SCHEDULER=False,
    )
    runtime = create_app(settings, vendors={rig.name: rig.vendor})
    if rig.self_linked:
        link_all(runtime, people)
    return runtime


Action = tuple[str, int, date | None]  # (kind, person number, leave day for "submit")


def plan(cycle: Sequence[str], people: int, actions: int, today: date) -> list[Action]:
    """Round after round, every person takes the next step of their cycle (people interleave,
    as in a real team); each leave request gets its own week so none overlaps the last."""
    out: list[Action] = []
    submits: Counter[int] = Counter()
    step = 0
    while len(out) < actions:
        for i in range(1, people + 1):
            kind = cycle[step % len(cycle)]
            day = None
            if kind == "submit":
                day = today + timedelta(days=14 + 7 * submits[i])
                day += timedelta(days=max(0, 7 - day.weekday()) if day.weekday() >= 5 else 0)
                submits[i] += 1
            out.append((kind, i, day))
            if len(out) == actions:
                break
        step += 1
    return out


def act(bot: Services, rig: Rig, action: Action) -> str:
    """One action as the handler behind it runs it (after the ack); returns its outcome."""
    kind, i, day = action
    try:
        actor = bot.people.actor(TEAM, slack_id(i))
        if kind == "clockin":
            return bot.clock.clock_in(actor).outcome
        if kind == "clockout":
            return bot.clock.clock_out(actor).outcome
        if kind == "home":
            state = bot.home.home(actor)
            return "home" if state.status.clock_error is None and state.leave_error is None else "home_error"
        if kind == "timeoff":
            return "form" if bot.leave.leave_form(actor).types else "form_empty"
        if kind == "submit":
            assert day is not None
            bot.leave.request_leave(actor, LeaveRequest(day, day, rig.leave_type, note="bench"))
            return "requested"
        if kind == "whosoff":
            start, end = parse_period("week", actor.today(bot.now()))
            bot.whos_off.whos_off(TEAM, start, end)
            return "listed"
    except Exception as exc:  # counted and shown: a benchmark that hides failures measures nothing
        return f"error:{type(exc).__name__}:{getattr(exc, 'user_message', None) or getattr(exc, 'message', exc)}"
    raise ValueError(kind)


@dataclass
class Step:
    """An action that starts only once the same person's previous action has finished: one
    person doesn't clock out while their clock-in is still running (a slow first use, such as
    the email match, would otherwise let their next action overtake it)."""

    action: Action
    after: threading.Event | None
    done: threading.Event = field(default_factory=threading.Event)

    def __call__(self, bot: Services, rig: Rig) -> str:
        if self.after is not None:
            self.after.wait()  # submitted earlier, so already running or done: no deadlock
        try:
            return act(bot, rig, self.action)
        finally:
            self.done.set()


def in_order(actions: Sequence[Action]) -> list[Step]:
    last: dict[int, threading.Event] = {}
    steps = []
    for action in actions:
        step = Step(action, last.get(action[1]))
        last[action[1]] = step.done
        steps.append(step)
    return steps


@dataclass
class Result:
    label: str
    actions: int
    api_calls: int
    auths: int
    auths_before: int = 0
    refused: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    keys_after: Counter[str] = field(default_factory=Counter)
    keys_total: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k.startswith("error") or k.endswith("_error"))


def run(rig: Rig, slack: SlackStandIn, people: int, actions: int, threads: int, expire_at: int | None) -> Result:
    """Drive ``actions`` through a fresh bot; with ``expire_at``, the simulator expires every token
    once that many actions have finished (the other threads then meet the stale token together)."""
    todo = plan(rig.cycle, people, actions, datetime.now(UTC).date())
    with tempfile.TemporaryDirectory(prefix="timebot-auth-") as tmp:
        runtime = start_bot(rig, slack, Path(tmp), people)
        bot = runtime.services
        outcomes: Counter[str] = Counter()
        before = seen = 0
        started = time.perf_counter()
        try:
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench") as pool:
                steps = in_order(todo)
                first, rest = (steps, []) if expire_at is None else (steps[:expire_at], steps[expire_at:])
                outcomes.update(pool.map(lambda step: step(bot, rig), first))
                if rest:
                    before, seen = rig.auth_count(), len(rig.tally.auth_requests)
                    assert rig.expire is not None
                    rig.expire()
                    outcomes.update(pool.map(lambda step: step(bot, rig), rest))
            seconds = time.perf_counter() - started
        finally:
            runtime.close()
            rig.close()
    key = rig.token_key
    keys_total = Counter(key(r) for r in rig.tally.auth_requests) if key else Counter()
    keys_after = Counter(key(r) for r in rig.tally.auth_requests[seen:]) if key and expire_at is not None else Counter()
    return Result(
        rig.label,
        len(todo),
        rig.tally.api_calls,
        rig.auth_count(),
        before,
        rig.tally.refused,
        outcomes,
        keys_after,
        keys_total,
        seconds,
    )


# --- report -----------------------------------------------------------------------------------------


def per_1000(n: int, actions: int) -> str:
    return f"{n * 1000 / actions:,.1f}".removesuffix(".0")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50, help="people taking turns (all linked/matched)")
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8, help="actions in flight at once")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    n, people, threads = args.actions, args.people, args.threads
    half = n // 2

    slack = SlackStandIn(BOT_TOKEN, team_id=TEAM).start()
    for i in range(1, people + 1):
        first, last, email = person(i)
        slack.add_user(slack_id(i), f"{first} {last}", email, "UTC")
    builders: list[Callable[[], Rig]] = [
        lambda: timeclock_rig(people),
        lambda: timetap_rig(people),
        lambda: swipeclock_rig(people),
        lambda: swipeclock_rig(people, act_as_employee=False),
        lambda: whosoff_rig(people),
    ]
    ok = True
    try:
        print(
            f"{n:,} actions per vendor: {people} people, {threads} threads; bot use cases -> connector -> "
            "simulator over HTTP on 127.0.0.1"
        )
        print(
            f"  mixes: clock vendors {'/'.join(CLOCK_CYCLE)}; leave vendors {'/'.join(LEAVE_CYCLE)}; "
            f"SwipeClock (no leave requests by default) {'/'.join(SWIPE_CYCLE)}"
        )
        print()
        print(f"{'vendor':<12} {'actions':>7} {'API calls':>9}  {'authentications':<48} {'per 1,000 actions':>17}")
        steady: list[Result] = []
        for build in builders:
            rig = build()
            result = run(rig, slack, people, n, threads, None)
            steady.append(result)
            if rig.name == "timeclock":
                auths = f"0 token exchanges; {result.api_calls:,} signed requests"
                rate = f"0 ({per_1000(result.api_calls, n)} signatures)"
                ok &= result.auths == 0
            else:
                auths = f"{result.auths:,} {rig.what if result.auths != 1 else rig.what.removesuffix('s')}"
                if any(k.startswith("twpemp:") for k in result.keys_total):
                    employees = sum(1 for k in result.keys_total if k.startswith("twpemp:"))
                    auths += f" ({employees} employee + {len(result.keys_total) - employees} site token)"
                rate = per_1000(result.auths, n)
                ok &= max(result.keys_total.values()) == 1 if result.keys_total else result.auths == 1
            print(f"{result.label:<12} {result.actions:>7,} {result.api_calls:>9,}  {auths:<48} {rate:>17}")
            ok &= result.failed == 0 and result.refused == 0
        print(
            "  * SWIPECLOCK_ACT_AS_EMPLOYEE=false: every call on the site token. By default each person's "
            "calls use their own twpemp token, one exchange per person per token lifetime (1 h here)."
        )
        print("  TimeClock has no token: each request is signed with the person's key (Bearer id:timestamp:sha1);")
        print("  people exchange their PIN for that key once, at /timebot link (linked before this run).")
        for r in steady:
            print(f"  {r.label}: {r.seconds:.1f} s, outcomes {dict(sorted(r.outcomes.items()))}")

        print()
        print(f"The simulator expires every token after action {half:,} (the {threads} threads then meet it at once):")
        print(
            f"{'vendor':<12} {'actions':>7} {'API calls':>9} {'auths before':>12} {'re-auths after':>14} "
            f"{'refused calls':>13} {'failed actions':>14}"
        )
        for build in builders[1:]:
            rig = build()
            result = run(rig, slack, people, n, threads, half)
            again = result.auths - result.auths_before
            print(
                f"{result.label:<12} {result.actions:>7,} {result.api_calls:>9,} {result.auths_before:>12,} "
                f"{again:>14,} {result.refused:>13,} {result.failed:>14,}"
            )
            if result.keys_after:
                most = max(result.keys_after.values())
                print(
                    f"{'':<12} by token: {len(result.keys_after)} token(s) in use after the expiry, "
                    f"each renewed {'exactly once' if most == 1 else f'up to {most} times'}"
                )
                ok &= most == 1
            else:
                ok &= again == 1
            ok &= result.failed == 0
            errors = [k for k in result.outcomes if k.startswith("error") or k.endswith("_error")]
            if errors:
                print(f"{'':<12} errors: {errors[:3]}")
        print("TimeClock    n/a: there is no token to expire (every request carries a fresh signature)")
        print(
            f"\nchecks (no failed action, 1 auth per token, 1 re-auth per token after expiry): "
            f"{'PASS' if ok else 'FAIL'}"
        )
    finally:
        slack.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
