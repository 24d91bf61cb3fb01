"""Benchmark: what reading ``/timeoff`` typed text costs on the ack path.

The text is read before the ack (the form must open within the trigger's 3 s, and clear text is
sent without one), so its cost is part of every typed ``/timeoff``'s ack. Prints dateparser's
one-off warm-up (done at start-up) and the average reading of each phrasing, ``--rounds`` times.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.usecases.typed_leave import read_typed_leave, warm_up

PHRASES = (
    "sick today",
    "tomorrow pm",
    "pto next thursday",
    "vacation 24 dec to 2 jan",
    "12/07",
    "next week",
    "friday to monday",
    "dec 24-26",
    "the 3rd",
    "monday morning",
    "december 5th",
    "2026-12-24..2026-12-31 half-end vacation",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    warm_up()
    print(f"dateparser warm-up (once, at start-up): {1000 * (time.perf_counter() - started):.1f} ms")
    now, tz = datetime.now(UTC), ZoneInfo("America/Los_Angeles")
    started = time.perf_counter()
    for _ in range(args.rounds):
        for phrase in PHRASES:
            read_typed_leave(phrase, now, tz, "ask")
    count = args.rounds * len(PHRASES)
    print(f"{count} readings: {1000 * (time.perf_counter() - started) / count:.3f} ms each on average")


if __name__ == "__main__":
    main()
