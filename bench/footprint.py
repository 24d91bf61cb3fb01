"""Resident memory of the bot: idle, and after 10,000 slash commands over HTTP.

The bot runs in this process exactly as ``timebot run`` builds it in HTTP mode (``create_app`` +
``HttpServer``), with 500 people linked to TimeClock. The TimeClock simulator and the Slack
stand-in run in a child process and each wave of signed commands is sent from another (the
harness's ``Sims`` and ``burst``), so the VmRSS read from /proc here is the bot's alone.

Waves of 500 commands, one per person, alternate /clockin and /clockout; in each pair of waves
a few people ask /whosoff instead (TimeClock answers that with one call per linked person). A
wave is sent at once and the next waits until every person of this one has their final reply.

    .venv/bin/python bench/footprint.py [--people 500] [--actions 10000] [--whosoff 1]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import MP, BotProcess, Sims, command_body, rss_kib, sign, slack_id, start_bot


async def _send_all(url: str, bodies: list[str], in_flight: int) -> list[int]:
    import httpx

    gate = asyncio.Semaphore(in_flight)
    async with httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=in_flight)) as client:

        async def one(body: str) -> int:
            async with gate:
                stamp = int(time.time())
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": str(stamp),
                    "X-Slack-Signature": sign(body, stamp),
                }
                try:
                    return (await client.post(url, content=body.encode(), headers=headers)).status_code
                except httpx.HTTPError:
                    return 0

        return await asyncio.gather(*(one(b) for b in bodies))


def _client_main(conn: Connection, url: str, in_flight: int) -> None:
    """Sends each batch it is given, ``in_flight`` requests at a time over kept-alive connections."""
    while True:
        bodies = conn.recv()
        if bodies is None:
            return
        conn.send(asyncio.run(_send_all(url, bodies, in_flight)))


class LoadClient:
    """Plays Slack from its own process (one process for the whole run, unlike ``harness.burst``,
    so neither its event loop nor a process start per wave lands in the bot's process or time)."""

    def __init__(self, url: str, in_flight: int) -> None:
        self._conn, child = MP.Pipe()
        self._proc = MP.Process(target=_client_main, args=(child, url, in_flight), daemon=True)
        self._proc.start()

    def send(self, bodies: list[str]) -> list[int]:
        self._conn.send(bodies)
        return self._conn.recv()

    def stop(self) -> None:
        self._conn.send(None)
        self._proc.join(10)


def settle(bot: BotProcess) -> int:
    """RSS once the work pool is idle, after a full collection so garbage awaiting the cycle
    collector isn't counted as growth."""
    pool = bot.runtime.services.pool
    deadline = time.monotonic() + 30
    while pool.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    gc.collect()
    return rss_kib()


def drain(bot: BotProcess, sims: Sims, expected: int, timeout: float = 300.0) -> dict[str, Any]:
    """Wait until the bot's work pool has been idle for a moment, then read the simulators' stats
    until ``expected`` people have a final reply. Stats are read only while the bot is quiet:
    ``harness`` builds them by iterating TimeClock's sessions without the simulator's lock, and
    a clock-in landing meanwhile kills the simulators' process ("dictionary changed size")."""
    pool = bot.runtime.services.pool
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    stats: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if pool.pending:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 0.3:
            stats = sims.stats()
            if stats["final"] >= expected:
                break
        time.sleep(0.02)
    return stats or sims.stats()


def wave(sims: Sims, number: int, people: int, whosoff: int) -> tuple[list[str], int, int]:
    """One command per person: /clockin on even waves, /clockout on odd; the pair's /whosoff
    askers (the same people in both waves) skip clocking. Returns (bodies, clock, whosoff) counts."""
    askers = {(number // 2 * whosoff + k) % people + 1 for k in range(whosoff)}
    clock = "/clockin" if number % 2 == 0 else "/clockout"
    bodies = []
    for i in range(1, people + 1):
        command = "/whosoff" if i in askers else clock
        bodies.append(
            command_body(command, slack_id(i), sims.response_url(f"w{number}-{i}"), serial=number * people + i)
        )
    return bodies, people - len(askers), len(askers)


def kib(n: float) -> str:
    return f"{n / 1024:,.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500, help="linked people; one command each per wave")
    parser.add_argument("--actions", type=int, default=10_000, help="a multiple of --people")
    parser.add_argument("--whosoff", type=int, default=1, help="people asking /whosoff per pair of waves")
    parser.add_argument("--in-flight", type=int, default=32, help="commands the load client keeps in flight")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a wave queues by design
    people, waves = args.people, max(1, args.actions // args.people)

    sims = Sims(people, 0.0)
    bot = start_bot(sims, people)
    client = LoadClient(bot.url, args.in_flight)
    ok = False
    try:
        time.sleep(1.0)  # let every thread the bot starts at boot settle
        idle = settle(bot)
        samples: list[tuple[int, int]] = [(0, idle)]
        counts = {"clock": 0, "clockin": 0, "whosoff": 0}
        not_ok = 0
        started = time.monotonic()
        done = 0
        for number in range(waves):
            bodies, clock, asked = wave(sims, number, people, args.whosoff)
            not_ok += sum(1 for status in client.send(bodies) if status != 200)
            done += len(bodies)
            counts["clock"] += clock
            counts["clockin"] += clock if number % 2 == 0 else 0
            counts["whosoff"] += asked
            stats = drain(bot, sims, done)
            if stats["final"] < done:
                print(f"wave {number}: only {stats['final']} of {done} people had a final reply")
                break
            if done % 1000 == 0 or number == waves - 1:
                samples.append((done, settle(bot)))
        wall = time.monotonic() - started
        stats = sims.stats()
        after = samples[-1][1]
        first = next((rss for n, rss in samples if n >= 1000), after)
        first_n = next((n for n, _ in samples if n >= 1000), done)

        print(
            f"bot process {os.getpid()} (simulators and load client in other processes), "
            f"{people} linked people, TimeClock simulator answering at once"
        )
        print(
            f"  idle (create_app + HttpServer, {bot.runtime.settings.http_threads} HTTP threads, "
            f"{bot.runtime.settings.workers} workers): {kib(idle)}"
        )
        print(
            f"  after {done:,} actions ({counts['clock']:,} /clockin + /clockout, {counts['whosoff']} /whosoff "
            f"of {people} people each): {kib(after)}"
        )
        print(
            f"  growth per 1,000 actions: {kib((after - idle) * 1000 / done)} overall; "
            f"{kib((after - first) * 1000 / max(1, done - first_n))} after the first {first_n:,} "
            f"(warm-up: {kib(first - idle)})"
        )
        print(
            f"  wall time for {done:,} actions: {wall:.1f} s ({done / wall:,.0f} actions/s), {waves} waves of {people}"
        )
        print("  RSS by actions done: " + ", ".join(f"{n:,}: {rss / 1024:.1f}" for n, rss in samples) + " MiB")
        print(
            f"  final replies: {stats['final']:,}/{done:,}; non-200 acks: {not_ok}; TimeClock writes: "
            f"{stats['vendor_writes']:,} sessions opened, {stats['running']} still running; vendor requests: "
            f"{stats['vendor_requests']:,}"
        )
        ok = (
            stats["final"] == done
            and not_ok == 0
            and stats["vendor_writes"] == counts["clockin"]
            and stats["running"] == counts["clockin"] - (counts["clock"] - counts["clockin"])
        )
        print(
            f"  checks (every person answered, every ack 200, every session opened once and closed): "
            f"{'PASS' if ok else 'FAIL'}"
        )
    finally:
        client.stop()
        bot.close()
        sims.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
