"""A crash in the middle of a rush: N people type /clockin at once (TimeClock takes 2 s per call),
the bot (a real ``timebot run`` process) is killed with SIGKILL while the clock-ins are in flight,
then started again on the same database. Prints the time from the restart until the last person
heard, how many actions were lost (no answer) or doubled (two answers, or a second TimeClock
write), and the ack p99 of the burst with the intake on, next to a bare Bolt app's.

    .venv/bin/python bench/crash.py                  # N = 200, SQLite, TIMEBOT_TAKEOVER_SECONDS=30
    .venv/bin/python bench/crash.py -n 200 --takeover 5 --postgres postgresql+psycopg://…/db
    .venv/bin/python bench/crash.py --kill-after-answers 100   # killed while answers are going out
    .venv/bin/python bench/crash.py --replica --postgres …     # two replicas, one killed mid-rush

Exit status 0 only when nothing was lost or doubled.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    Sims,
    api_key,
    burst,
    command_body,
    latency,
    slack_id,
    start_bare,
)
from tests.deploy.harness import link_people, start


def run(
    n: int, vendor_latency: float, takeover: float, database_url: str | None, kill_after: int = 0, replica: bool = False
) -> bool:
    from cryptography.fernet import Fernet

    sims = Sims(n, vendor_latency)
    workdir = Path(tempfile.mkdtemp(prefix="timebot-crash-"))
    url = database_url or f"sqlite:///{workdir / 'timebot.db'}"
    secret = Fernet.generate_key().decode()
    link_people(url, secret, [(slack_id(i), str(i), api_key(i)) for i in range(1, n + 1)], team_id=TEAM)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": sims.slack_api,
        "DATABASE_URL": url,
        "TIMEBOT_SECRET_KEY": secret,
        "TIMECLOCK_BASE_URL": sims.timeclock,
        "TIMEBOT_TAKEOVER_SECONDS": str(takeover),
        "TIMEBOT_HYGIENE_CHECK_SECONDS": "3600",
    }
    bare = start_bare(sims, 32, 32)
    try:
        bare_lat = latency(
            burst(
                bare.url,
                [
                    command_body("/clockin", slack_id(i), sims.response_url(f"bare-{i}"), serial=i)
                    for i in range(1, n + 1)
                ],
            )
        )
    finally:
        bare.close()
    bot = start(env, workdir, name="first")
    restarted = start(env, workdir, name="replica") if replica else None
    try:
        bodies = [
            command_body("/clockin", slack_id(i), sims.response_url(f"bot-{i}"), serial=i) for i in range(1, n + 1)
        ]
        bot_lat = latency(burst(f"{bot.url}/slack/events", bodies))
        if kill_after:  # answers on their way to Slack at the kill
            sims.wait(lambda s: s["final"] >= kill_after, timeout=120)
        else:  # a quarter of the clock-ins sent to TimeClock, none answered yet
            sims.wait(lambda s: s["vendor_writes_sent"] >= n // 4, timeout=60)
        before = sims.stats()
        bot.kill()
        killed_at = time.monotonic()
        if replica:  # the other replica, running all along, takes the work over
            stats, _ = sims.wait(lambda s: s["final"] >= n, timeout=takeover + 120)
            last_heard = time.monotonic()
        else:
            with ThreadPoolExecutor(1) as starter:  # the clock runs from the restart, not from its log line
                starting = starter.submit(start, env, workdir, name="restarted")
                stats, _ = sims.wait(lambda s: s["final"] >= n, timeout=takeover + 120)
                last_heard = time.monotonic()
                restarted = starting.result()
        time.sleep(takeover + 2)  # a second answer or write would come now
        stats = sims.stats()
    finally:
        bot.kill()
        if restarted is not None:
            restarted.kill()
        sims.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    lost = n - stats["final"]
    doubled_writes = stats["sessions"] - n if stats["sessions"] > n else 0
    print(
        f"N = {n} in flight, TimeClock at {vendor_latency:g} s per call, TIMEBOT_TAKEOVER_SECONDS={takeover:g}, "
        f"{'PostgreSQL' if database_url else 'SQLite'}"
    )
    print(
        f"  at the kill: {before['final']} answered, {before['vendor_writes_sent']} clock-ins sent to TimeClock, "
        f"{before['vendor_writes']} of them answered"
    )
    print(
        f"  {'a second replica ran all along' if replica else 'restart right after the kill'}; the last person "
        f"heard {last_heard - killed_at:.1f} s after the kill (the takeover window is {takeover:g} s)"
    )
    print(
        f"  lost (no answer): {lost}   doubled answers: {stats['doubled']}   doubled TimeClock writes: "
        f"{doubled_writes}   sessions running: {stats['running']}/{n}"
    )
    ratio = bot_lat.p99 / bare_lat.p99 if bare_lat.p99 else float("nan")
    print(
        f"  ack p99 with the intake on: {bot_lat.p99 * 1000:.0f} ms; bare Bolt {bare_lat.p99 * 1000:.0f} ms "
        f"(ratio {ratio:.2f}); acks over 3 s: {bot_lat.over(3.0)}; non-200: {bot_lat.not_ok}"
    )
    return lost == 0 and stats["doubled"] == 0 and doubled_writes == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--latency", type=float, default=2.0, help="TimeClock's seconds per call")
    parser.add_argument("--takeover", type=float, default=30.0, help="TIMEBOT_TAKEOVER_SECONDS")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (an empty database) instead of SQLite")
    parser.add_argument(
        "--kill-after-answers",
        type=int,
        default=0,
        help="kill once this many people were answered (default: once a quarter of the writes "
        "are on their way, before any answer)",
    )
    parser.add_argument(
        "--replica", action="store_true", help="a second replica runs from the start and takes over (no restart)"
    )
    args = parser.parse_args()
    return 0 if run(args.n, args.latency, args.takeover, args.postgres, args.kill_after_answers, args.replica) else 1


if __name__ == "__main__":
    sys.exit(main())
