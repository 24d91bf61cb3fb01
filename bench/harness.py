"""Shared plumbing for the benchmarks: simulators, the bot under test and a load client,
each in its own process so that only the bot's own work lands in the bot's process.

The bot runs in the benchmark's main process exactly as ``timebot run`` builds it in HTTP mode
(``create_app`` + ``bot.runtime.web.HttpServer``). The Slack stand-in and the TimeClock simulator run in
a child process (a real vendor is not in our process either), and the load client in another,
so neither the simulators' threads nor the client's event loop compete with the bot for its GIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BOT_TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-signing-secret"
TEAM = "T0BENCH"
MP = mp.get_context("spawn")  # no inherited threads or sockets in the children


def slack_id(i: int) -> str:
    return f"UB{i:06d}"


def api_key(i: int) -> str:
    return f"bench-key-{i:06d}-{hashlib.sha1(str(i).encode()).hexdigest()[:8]}"  # noqa: S324 - a test fixture


# --- simulators (child process) ------------------------------------------------------------------


def timeclock_with_people(slack: Any, users: int, latency: float) -> tuple[Any, Any]:
    """TimeClock's simulator and its started server answering in ``latency`` s, with ``users`` people
    Slack knows too."""
    from sandbox.server import SimServer
    from sandbox.timeclock import TimeClockSim

    sim = TimeClockSim()
    for i in range(1, users + 1):
        sim.add_user(i, f"Person {i}", f"p{i}@example.com", api_key=api_key(i), pin=f"{i % 1000:03d}")
        slack.add_user(slack_id(i), f"Person {i}", f"p{i}@example.com", "UTC")
    tc = SimServer(sim.handle, name="timeclock").start()
    tc.faults.latency = latency
    return sim, tc


def _sims_main(conn: Connection, users: int, latency: float) -> None:
    """Slack stand-in + TimeClock simulator; answers ``stats`` requests until told to stop."""
    import logging

    logging.disable(logging.CRITICAL)
    from sandbox.slack import SlackStandIn

    slack = SlackStandIn(BOT_TOKEN, team_id=TEAM).start()
    assert slack.server is not None
    sim, tc = timeclock_with_people(slack, users, latency)
    conn.send({"slack_api": slack.api_url, "timeclock": tc.base_url})
    while True:
        message = conn.recv()
        if message == "stop":
            break
        if isinstance(message, tuple) and message[0] == "response_url":
            conn.send(slack.response_url(message[1]))  # issued now, as Slack issues one per request
            continue
        if message == "stats":
            with slack._lock:
                replies = {k: list(v) for k, v in slack.responses.items()}
                dms = [c for c in slack.calls if c.method == "chat.postMessage"]
            finals = {k: sum("slow to answer" not in r.get("text", "") for r in v) for k, v in replies.items()}
            final = {k for k, count in finals.items() if count}
            clocked = {k for k, v in replies.items() if any("Clocked in" in r.get("text", "") for r in v)}
            with sim._lock:  # the simulator's threads are still booking sessions
                sessions = list(sim.sessions.values())
            writes = sum(1 for r in list(tc.requests) if r.method == "POST" and r.path == "/api/sessions")
            writes_sent = sum(1 for m, p in list(tc.arrived) if m == "POST" and p == "/api/sessions")
            conn.send(
                {
                    "final": len(final),
                    "final_once": sum(1 for c in finals.values() if c == 1),
                    "clocked_in": len(clocked),
                    "dms": len(dms),
                    "vendor_writes": writes,
                    "vendor_writes_sent": writes_sent,
                    "doubled": sum(1 for c in finals.values() if c > 1),
                    "vendor_requests": len(tc.requests),
                    "auth_ok": sim.accepted_auth,
                    "auth_rejected": sim.rejected_auth,
                    "sessions": len(sessions),
                    "running": sum(1 for s in sessions if s["clock_out"] is None),
                    "errors": sorted(
                        {
                            r.get("text", "")[:80]
                            for v in replies.values()
                            for r in v
                            if "slow to answer" not in r.get("text", "") and "Clocked" not in r.get("text", "")
                        }
                    )[:5],
                }
            )
    tc.stop()
    slack.stop()


class Sims:
    """Handle on the simulators' process."""

    def __init__(self, users: int, latency: float) -> None:
        self._conn, child = MP.Pipe()
        self._proc = MP.Process(target=_sims_main, args=(child, users, latency), daemon=True)
        self._proc.start()
        info = self._conn.recv()
        self.slack_api: str = info["slack_api"]
        self.timeclock: str = info["timeclock"]

    def response_url(self, key: str) -> str:
        """A response_url the stand-in issued (it refuses ones it never gave out)."""
        self._conn.send(("response_url", key))
        return self._conn.recv()

    def stats(self) -> dict[str, Any]:
        self._conn.send("stats")
        return self._conn.recv()

    def wait(self, done: Callable[[dict[str, Any]], bool], timeout: float) -> tuple[dict[str, Any], float]:
        """Poll until ``done(stats)``; returns the last stats and the seconds waited."""
        started = time.monotonic()
        while True:
            stats = self.stats()
            waited = time.monotonic() - started
            if done(stats) or waited > timeout:
                return stats, waited
            time.sleep(0.25)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()


# --- signed requests and the load client (child process) ----------------------------------------


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()


def command_body(command: str, user: str, response_url: str, text: str = "", serial: int = 0) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "bench",
            "channel_id": "C0BENCH",
            "channel_name": "bench",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": f"{serial}.{time.time_ns()}.trigger",
            "api_app_id": "A0TIMEBOT",
        }
    )


async def _burst(url: str, bodies: Sequence[str], timeout: float) -> list[tuple[float, int]]:
    import httpx

    stamp = int(time.time())
    signed = [
        (
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": str(stamp),
                "X-Slack-Signature": sign(body, stamp),
            },
        )
        for body in bodies
    ]
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:

        async def one(body: str, headers: dict[str, str]) -> tuple[float, int]:
            started = time.perf_counter()
            try:
                response = await client.post(url, content=body.encode(), headers=headers)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            return time.perf_counter() - started, status

        return await asyncio.gather(*(one(b, h) for b, h in signed))


def _client_main(conn: Connection, url: str, bodies: list[str], timeout: float) -> None:
    conn.send(asyncio.run(_burst(url, bodies, timeout)))


def burst(url: str, bodies: list[str], timeout: float = 30.0) -> list[tuple[float, int]]:
    """Send every body at once over its own connection; (seconds to the HTTP answer, status) each."""
    parent, child = MP.Pipe()
    proc = MP.Process(target=_client_main, args=(child, url, bodies, timeout), daemon=True)
    proc.start()
    result = parent.recv()
    proc.join(10)
    return result


@dataclass
class Latency:
    samples: list[float]
    statuses: list[int] = field(default_factory=list)

    def pct(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return self.pct(99)

    @property
    def max(self) -> float:
        return max(self.samples)

    def over(self, seconds: float) -> int:
        return sum(1 for s in self.samples if s > seconds)

    @property
    def not_ok(self) -> int:
        return sum(1 for s in self.statuses if s != 200)


def latency(result: list[tuple[float, int]]) -> Latency:
    return Latency([r[0] for r in result], [r[1] for r in result])


# --- the bot under test (this process) -----------------------------------------------------------


@dataclass
class BotProcess:
    runtime: Any
    server: Any
    workdir: tempfile.TemporaryDirectory[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/slack/events"

    def close(self) -> None:
        self.server.stop()
        self.runtime.close()
        self.workdir.cleanup()


def settings_for(sims: Sims, db_path: Path, **overrides: Any) -> Any:
    from cryptography.fernet import Fernet

    from bot.config import Settings

    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": sims.slack_api,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "TIMEBOT_SECRET_KEY": Fernet.generate_key().decode(),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def start_bot(sims: Sims, users: int, *, profiles: bool = True, **overrides: Any) -> BotProcess:
    """The real bot in HTTP mode, every simulated person already linked (keys encrypted)."""
    from bot.runtime.app import create_app
    from bot.runtime.web import HttpServer, SlackWsgi
    from bot.vendors.timeclock import TimeClock, TimeClockSettings

    workdir = tempfile.TemporaryDirectory(prefix="timebot-bench-")
    settings = settings_for(sims, Path(workdir.name) / "timebot.db", **overrides)
    vendor = TimeClock(TimeClockSettings(_env_file=None, base_url=sims.timeclock), settings.http_policy)  # type: ignore[call-arg]
    runtime = create_app(settings, vendors={"timeclock": vendor})
    link_all(runtime, users, profiles=profiles)
    runtime.services.pool.prestart()  # as ``timebot run`` does
    server = HttpServer(
        SlackWsgi(runtime.app, runtime.engine, signing_secret=SIGNING_SECRET), "127.0.0.1", 0, settings.http_threads
    ).start()
    return BotProcess(runtime, server, workdir)


def link_all(runtime: Any, users: int, *, profiles: bool = True) -> None:
    """What ``/timebot link`` and yesterday's clock-in leave behind for each person: an identity
    with the key encrypted and, with ``profiles``, their Slack profile as read a day ago (without
    it every action is the person's first contact and asks Slack ``users.info``)."""
    from datetime import timedelta

    from sqlmodel import Session

    from storage.models import Identity, Person, utcnow

    box = runtime.services.people.box
    yesterday = utcnow() - timedelta(days=1)
    with Session(runtime.engine) as s:
        for i in range(1, users + 1):
            if profiles:
                s.add(
                    Person(
                        team_id=TEAM,
                        slack_user_id=slack_id(i),
                        name=f"Person {i}",
                        email=f"p{i}@example.com",
                        tz="UTC",
                        updated_at=yesterday,
                    )
                )
            s.add(
                Identity(
                    team_id=TEAM,
                    slack_user_id=slack_id(i),
                    vendor="timeclock",
                    vendor_user_id=str(i),
                    secret_enc=box.encrypt(api_key(i)),
                    email=f"p{i}@example.com",
                    linked_by="self",
                )
            )
        s.commit()


@dataclass
class BareBolt:
    """A Bolt app that acks ``/clockin`` and does nothing, behind the same server class and signing."""

    server: Any
    workdir: tempfile.TemporaryDirectory[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/slack/events"

    def close(self) -> None:
        self.server.stop()
        self.workdir.cleanup()


def start_bare(sims: Sims, http_threads: int, listener_threads: int) -> BareBolt:
    from concurrent.futures import ThreadPoolExecutor

    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    from bot.runtime.web import HttpServer, SlackWsgi
    from storage.db import make_engine

    workdir = tempfile.TemporaryDirectory(prefix="timebot-bare-")
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(token=BOT_TOKEN, base_url=sims.slack_api),
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=listener_threads),
    )

    @app.command("/clockin")
    def clockin(ack: Ack) -> None:
        ack()

    engine = make_engine(f"sqlite:///{Path(workdir.name) / 'health.db'}")  # only /healthz touches it
    server = HttpServer(SlackWsgi(app, engine, signing_secret=SIGNING_SECRET), "127.0.0.1", 0, http_threads).start()
    return BareBolt(server, workdir)


def rss_kib(pid: int | None = None) -> int:
    """Resident set size from /proc (Linux), in KiB."""
    with open(f"/proc/{pid or os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc status")
