"""What metrics add to one clock-in, measured alone: the hooks a clock-in runs, in a tight loop.

A clock-in runs one ack observation, two vendor requests (a read, then the write: route
templating, a counter and a histogram each) and one action counter. ``bench/ack.py --metrics``
measures the same in the rush, where the machine's noise is larger than the difference.

    .venv/bin/python bench/metrics_cost.py [-n 200000] [--threads 8]
"""

from __future__ import annotations

import argparse
import threading
import time

from bot.telemetry import metrics

BODY = {"command": "/clockin", "team_id": "T0DEMO", "trigger_id": "1.2.3"}


def one_clock_in() -> None:
    metrics.ack(BODY, 0.012)
    metrics.vendor_request("TimeClock", "/api/users/17/sessions?active=1", 200, 0.8)
    metrics.vendor_request("TimeClock", "/api/sessions", 201, 1.1)
    metrics.action("clock_in", "ok")


def cpu_per_action(n: int, threads: int) -> float:
    per_thread = n // threads
    workers = [threading.Thread(target=lambda: [one_clock_in() for _ in range(per_thread)]) for _ in range(threads)]
    started = time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return (time.process_time() - started) / (per_thread * threads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200_000, help="clock-ins to simulate")
    parser.add_argument("--threads", type=int, default=8, help="threads running them at once")
    args = parser.parse_args()
    off = cpu_per_action(args.n, args.threads)
    metrics.enable()
    cpu_per_action(args.n // 10, args.threads)  # warm: the series exist before the timed run
    on = cpu_per_action(args.n, args.threads)
    print(
        f"{args.n} clock-ins on {args.threads} threads: hooks off {off * 1e6:.2f} us, on {on * 1e6:.2f} us "
        f"per clock-in (CPU); metrics add {(on - off) * 1e6:.1f} us = {(on - off) * 1000:.3f} ms per clock-in"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
