"""Ack latency under a burst: N people type /clockin at once while TimeClock takes 2 s to answer.

Each size runs twice in one go: against a bare Bolt app that acks and does nothing (same waitress
server class, same signing) and against the real bot, so the ratio of their p99s shows what
Timebot adds to the ack path. The real-bot run then waits until every person has a result,
counts the writes TimeClock saw, and prints how long the whole rush took next to the vendor's own
limit (its latency x the calls a clock-in makes) and the bot's CPU per action (getrusage of this
process, where the bot runs; the simulators and the load client are child processes).

    .venv/bin/python bench/ack.py              # N = 50, 200, 1000
    .venv/bin/python bench/ack.py -n 1000      # one size
    .venv/bin/python bench/ack.py -n 1000 --workers 256 --concurrency 100   # other pool / vendor cap
    .venv/bin/python bench/ack.py -n 1000 --new-people    # everyone's first contact (users.info each)
    .venv/bin/python bench/ack.py -n 1000 --intake-before-ack   # the intake written before each ack

People are linked and their Slack profile is as yesterday's clock-in left it (a morning rush);
``--new-people`` leaves the profiles out, so every action first asks Slack who the person is.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Latency, Sims, command_body, latency, slack_id, start_bare, start_bot
from bench.harness import burst as send_burst

SLACK_ACK_DEADLINE = 3.0
CALLS_PER_CLOCK_IN = 2  # is a session running? then the write: one after the other, never in parallel
RUSH_LIMITS = 3.75  # all done within 15 s when the limit is 4 s (the morning rush: 1,000 clock-ins, 2 s per call)
RUSH_CPU = 0.012  # seconds of the bot's CPU per action, whatever the concurrency
RUSH_RATIO = 1.2  # the ack p99 next to bare Bolt's in the morning rush; N = 50's p99 is one request, so it varies most


def cpu_seconds() -> tuple[float, float]:
    """User and system CPU of this process, where the bot runs (simulators and client are children)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def row(label: str, lat: Latency) -> str:
    return (
        f"  {label:<9} p50 {lat.p50 * 1000:7.1f} ms   p99 {lat.p99 * 1000:7.1f} ms   max {lat.max * 1000:7.1f} ms"
        f"   over 3 s: {lat.over(SLACK_ACK_DEADLINE)}   non-200: {lat.not_ok}"
    )


def metrics_summary(url: str) -> str:
    """What /metrics counted in the run: acks, clock-ins, vendor requests (it was on, and counting)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(url.replace("/slack/events", "/metrics"), timeout=30).text):
        for sample in family.samples:
            if sample.name in {"timebot_slack_ack_seconds_count", "timebot_vendor_requests_total"} or (
                sample.name == "timebot_actions_total" and sample.labels.get("kind") == "clock_in"
            ):
                totals[sample.name] = totals.get(sample.name, 0) + sample.value
    return ", ".join(f"{name} {value:g}" for name, value in sorted(totals.items()))


def run(
    n: int,
    vendor_latency: float,
    workers: int | None,
    concurrency: int | None,
    settle: float,
    profiles: bool = True,
    metrics: bool = False,
    intake_before_ack: bool = False,
) -> bool:
    sims = Sims(n, vendor_latency)
    overrides: dict[str, int | bool] = {"TIMEBOT_WORKERS": workers} if workers else {}
    if metrics:
        overrides["TIMEBOT_METRICS"] = True
    if concurrency:
        overrides["TIMEBOT_TIMECLOCK_CONCURRENCY"] = concurrency
    bot = start_bot(sims, n, profiles=profiles, **overrides)
    if intake_before_ack:  # the intake's other mode: each /clockin's ack waits for its group's write
        bot.runtime.services.intake.before_ack = True
    settings = bot.runtime.settings
    bare = start_bare(sims, settings.http_threads, settings.listener_threads)
    try:
        bare_bodies = [
            command_body("/clockin", slack_id(i), sims.response_url(f"bare-{i}"), serial=i) for i in range(1, n + 1)
        ]
        bare_cpu = cpu_seconds()
        bare_lat = latency(send_burst(bare.url, bare_bodies))
        bare_cpu_per_ack = sum(after - before for after, before in zip(cpu_seconds(), bare_cpu, strict=True)) / n
        bare.close()
        time.sleep(settle)

        bodies = [
            command_body("/clockin", slack_id(i), sims.response_url(f"bot-{i}"), serial=i) for i in range(1, n + 1)
        ]
        cpu_before = cpu_seconds()
        started = time.monotonic()
        bot_lat = latency(send_burst(bot.url, bodies))
        stats, _ = sims.wait(lambda s: s["final"] >= n, timeout=max(120.0, n * 0.5))
        all_done = time.monotonic() - started
        user, system = (after - before for after, before in zip(cpu_seconds(), cpu_before, strict=True))
        time.sleep(1.0)  # a second answer to anyone would come now: count after it had the chance
        stats = sims.stats()
        cpu_per_action = (user + system) / n
        limit = vendor_latency * CALLS_PER_CLOCK_IN
        cap = settings.in_flight_timeclock
        cap_limit = n * CALLS_PER_CLOCK_IN * vendor_latency / cap
        ratio = bot_lat.p99 / bare_lat.p99
        print(
            f"N = {n}  (TimeClock answers in {vendor_latency:g} s; bot: {settings.http_threads} HTTP threads, "
            f"{settings.listener_threads} listener threads, {settings.workers} workers, "
            f"TimeClock cap {settings.in_flight_timeclock})"
        )
        print(row("bare Bolt", bare_lat))
        print(row("Timebot", bot_lat))
        print(f"  ack p99 ratio Timebot / bare Bolt: {ratio:.2f}")
        print(
            f"  people with a final reply: {stats['final']}/{n}, exactly one: {stats['final_once']}/{n} "
            f"(clocked in: {stats['clocked_in']})"
        )
        print(
            f"  all done {all_done:.1f} s after the burst began; the vendor's own limit {limit:g} s "
            f"({CALLS_PER_CLOCK_IN} calls x {vendor_latency:g} s): {all_done / limit:.1f} x the limit"
        )
        print(
            f"  at the TimeClock cap of {cap}: {n * CALLS_PER_CLOCK_IN} calls x {vendor_latency:g} s / {cap} = "
            f"{cap_limit:.1f} s of vendor time at the least ({all_done / max(limit, cap_limit):.1f} x that)"
        )
        print(
            f"  bot CPU per action: {cpu_per_action * 1000:.1f} ms (user {user / n * 1000:.1f}, "
            f"system {system / n * 1000:.1f}); bare Bolt's CPU per ack: {bare_cpu_per_ack * 1000:.1f} ms"
        )
        if metrics:
            print(f"  metrics on: {metrics_summary(bot.url)}")
        print(
            f"  TimeClock writes (POST /api/sessions): {stats['vendor_writes']}   running sessions: "
            f"{stats['running']}   DMs: {stats['dms']}"
        )
        if stats["errors"]:
            print(f"  other replies: {stats['errors']}")
        ok = (
            bot_lat.over(SLACK_ACK_DEADLINE) == 0
            and bot_lat.not_ok == 0
            and stats["final_once"] == n
            and stats["vendor_writes"] == n
            and ratio <= 1.5
        )
        print(
            f"  acceptance (0 acks over 3 s, {n} people with exactly one result, {n} writes, p99 ratio <= 1.5): "
            f"{'PASS' if ok else 'FAIL'}"
        )
        rush = (
            all_done <= RUSH_LIMITS * limit
            and cpu_per_action <= RUSH_CPU
            and ratio <= RUSH_RATIO
            and bot_lat.over(SLACK_ACK_DEADLINE) == 0
        )
        print(
            f"  rush (all done <= {RUSH_LIMITS:g} x the limit, CPU per action <= {RUSH_CPU * 1000:g} ms, "
            f"p99 ratio <= {RUSH_RATIO:g}, 0 acks over 3 s): {'PASS' if rush else 'FAIL'}"
        )
        return ok and rush
    finally:
        bare.close()
        bot.close()
        sims.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, action="append", help="burst size (repeatable; default 50, 200, 1000)")
    parser.add_argument("--vendor-latency", type=float, default=2.0, help="seconds TimeClock takes per request")
    parser.add_argument("--workers", type=int, default=None, help="TIMEBOT_WORKERS (default: the bot's default)")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="TIMEBOT_TIMECLOCK_CONCURRENCY (default: the bot's default)"
    )
    parser.add_argument("--settle", type=float, default=1.0, help="pause between the bare and the real run")
    parser.add_argument("--metrics", action="store_true", help="TIMEBOT_METRICS=true (what metrics cost)")
    parser.add_argument(
        "--new-people", action="store_true", help="no stored Slack profiles: every action is the person's first contact"
    )
    parser.add_argument(
        "--intake-before-ack",
        action="store_true",
        help="write each /clockin to the intake before its ack (group commit) instead of just after",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is the point here
    results = [
        run(
            n,
            args.vendor_latency,
            args.workers,
            args.concurrency,
            args.settle,
            not args.new_people,
            args.metrics,
            args.intake_before_ack,
        )
        for n in (args.n or [50, 200, 1000])
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
