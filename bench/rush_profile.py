"""Where the morning rush's CPU goes: bench/ack.py's burst (N people type /clockin at once,
TimeClock answers in 2 s) with each step of a clock-in timed in the thread that ran it.

A sampling profiler on a bot with 600 threads samples mostly threads waiting for the
interpreter, and a tracing one triples every cost; ``time.thread_time`` around each step is
the CPU that step's own thread spent, waiting excluded. Steps nest (the clock-in includes its
vendor calls and its bookkeeping). Also printed: when jobs left the acks-first gate and when
vendor calls went out, which is what sets "all done".

    .venv/bin/python bench/rush_profile.py            # N = 1000
    .venv/bin/python bench/rush_profile.py -n 200 --workers 256 --concurrency 100

Measurement only: the wrappers are installed on this process's classes, never in the bot.
"""

from __future__ import annotations

import argparse
import collections
import functools
import logging
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Sims, command_body, latency, slack_id, start_bot
from bench.harness import burst as send_burst

CPU: collections.Counter[str] = collections.Counter()
CALLS: collections.Counter[str] = collections.Counter()
WHEN: dict[str, list[float]] = collections.defaultdict(list)
_lock = threading.Lock()


def timed(owner: Any, name: str, label: str) -> None:
    """Add the thread CPU of every call of ``owner.name`` to ``label``."""
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent = time.thread_time() - started
            with _lock:
                CPU[label] += spent
                CALLS[label] += 1

    setattr(owner, name, wrapper)


def stamped(owner: Any, name: str, label: str) -> None:
    """Note the moment each call of ``owner.name`` begins."""
    fn: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        WHEN[label].append(time.monotonic())
        return fn(*args, **kwargs)

    setattr(owner, name, wrapper)


def install() -> None:
    import bot.telemetry.progress
    import handlers.turn
    from bot.runtime.services import Services
    from bot.runtime.web import SlackWsgi
    from bot.usecases.clock import Clock
    from bot.usecases.people import People
    from bot.vendors.http import VendorHttp
    from storage.store import Store

    timed(SlackWsgi, "__call__", "ack path: SlackWsgi (signature, Bolt, the listener's ack)")
    timed(Services, "claim_delivery", "claim the request key (1 write)")
    timed(People, "actor", "who is asking (person row; users.info when stale)")
    timed(People, "identity", "their TimeClock identity (read, decrypt)")
    timed(Store, "claim_lock", "clock lease: claim (1 write)")
    timed(VendorHttp, "request", "TimeClock calls through httpx (2 per clock-in)")
    timed(Store, "release_lock", "clock lease: release + audit + session watch (1 write)")
    timed(Clock, "clock_in", "clock_in use case (identity, lease, TimeClock calls, release)")
    timed(handlers.turn.Turn, "send", "reply through response_url")
    stamped(Services, "claim_delivery", "job started")  # past the acks-first gate and a start lane
    stamped(bot.telemetry.progress, "vendor_call", "vendor call")
    stamped(handlers.turn.Turn, "send", "reply sent")
    import bot.vendors.http

    bot.vendors.http.progress.vendor_call = bot.telemetry.progress.vendor_call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--vendor-latency", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    install()
    n = args.n
    overrides: dict[str, int] = {"TIMEBOT_WORKERS": args.workers} if args.workers else {}
    if args.concurrency:
        overrides["TIMEBOT_TIMECLOCK_CONCURRENCY"] = args.concurrency
    sims = Sims(n, args.vendor_latency)
    bot = start_bot(sims, n, **overrides)
    try:
        bodies = [
            command_body("/clockin", slack_id(i), sims.response_url(f"bot-{i}"), serial=i) for i in range(1, n + 1)
        ]
        CPU.clear(), CALLS.clear(), WHEN.clear()
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        acks = latency(send_burst(bot.url, bodies))
        stats, _ = sims.wait(lambda s: s["final"] >= n, timeout=max(120.0, n * 0.5))
        done = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        bot.close()
        sims.stop()
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / n
    print(
        f"N = {n}: all done {done:.1f} s, {stats['final']}/{n} final replies, ack p99 {acks.p99 * 1000:.0f} ms, "
        f"bot CPU per action {cpu * 1000:.1f} ms (getrusage)"
    )
    print("thread CPU per action, by step:")
    for label, spent in CPU.most_common():
        print(f"  {spent / n * 1000:6.2f} ms  ({CALLS[label]:5d} calls)  {label}")
    print("seconds after the burst began (the load client's own start-up included):")
    for label in ("job started", "vendor call", "reply sent"):
        moments = sorted(t - started for t in WHEN[label])
        if moments:
            at = [moments[min(len(moments) - 1, int(q * len(moments)))] for q in (0.0, 0.1, 0.5, 0.9)]
            print(
                f"  {label:14s} {len(moments):5d}  first {at[0]:5.2f}  p10 {at[1]:5.2f}  p50 {at[2]:5.2f}  "
                f"p90 {at[3]:5.2f}  last {moments[-1]:5.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
