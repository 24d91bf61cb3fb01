"""Socket Mode ack latency through Slack's connection refresh: a burst of N ``/clockin`` envelopes
with a ``refresh_requested`` disconnect sent half-way through it.

The bot is a real ``timebot run`` process in Socket Mode (every person already linked to
TimeClock); the Slack stand-in (Web API + Socket Mode) and the TimeClock simulator run in this
process. Envelopes are spread across the bot's open connections, round robin, as Slack does; the
refreshed connection is closed ``--close-after`` seconds after its disconnect message (Slack: ~10 s).

    .venv/bin/python bench/socket_ack.py                  # N = 200, the bot's default connection count
    .venv/bin/python bench/socket_ack.py --connections 1  # TIMEBOT_SOCKET_CONNECTIONS=1
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import BOT_TOKEN, Latency, command_body, link_all, settings_for, slack_id, timeclock_with_people

APP_TOKEN = "xapp-1-A0TIMEBOT-1-bench"
SLACK_ACK_DEADLINE = 3.0


def prepare_db(slack_api: str, timeclock: str, db: Path, users: int) -> str:
    """Migrate and link every person, as ``/timebot link`` would; returns the secret key."""
    from bot.runtime.app import create_app
    from bot.vendors.timeclock import TimeClock, TimeClockSettings

    settings = settings_for(SimpleNamespace(slack_api=slack_api), db, TIMEBOT_SCHEDULER=False)
    vendor = TimeClock(TimeClockSettings(_env_file=None, base_url=timeclock), settings.http_policy)  # type: ignore[call-arg]
    runtime = create_app(settings, vendors={"timeclock": vendor})
    link_all(runtime, users)
    runtime.close()
    return str(settings.secret_key.get_secret_value())


def run(n: int, connections: int | None, vendor_latency: float, gap: float, close_after: float, probes: int) -> bool:
    from urllib.parse import parse_qs

    from sandbox.slack import SlackStandIn
    from tests.doubles.socket_mode import SocketModeStandIn

    slack = SlackStandIn(BOT_TOKEN, team_id="T0BENCH").start()
    socket = SocketModeStandIn(APP_TOKEN, refresh_close_after=close_after).start()
    slack.enable_socket_mode(socket)
    _, tc = timeclock_with_people(slack, n, vendor_latency)
    workdir = tempfile.TemporaryDirectory(prefix="timebot-socket-bench-")
    db = Path(workdir.name) / "timebot.db"
    key = prepare_db(slack.api_url, tc.base_url, db, n)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{db}",
        "TIMEBOT_SECRET_KEY": key,
        "TIMECLOCK_BASE_URL": tc.base_url,
        "TIMEBOT_SCHEDULER": "false",
    }
    if connections:
        env["TIMEBOT_SOCKET_CONNECTIONS"] = str(connections)
    log = (Path(workdir.name) / "bot.log").open("w")
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "--env-file", "/dev/null", "run"],
        cwd=workdir.name,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        socket.wait_connected(timeout=60, count=connections or 1)
        time.sleep(1.0)  # let every connection the bot wants come up
        steady = len(socket.links())
        ids: list[str] = []
        keys: list[str] = []
        for i in range(1, n + 1):
            body = command_body("/clockin", slack_id(i), slack.response_url(f"bench-{i}"), serial=i)
            fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
            ids.append(socket.send("slash_commands", fields))
            keys.append(f"bench-{i}")
            if i == n // 2:
                socket.disconnect(reason="refresh_requested")
            time.sleep(gap)
        acks, lost = [], 0
        for envelope_id in ids:
            try:
                acks.append(socket.wait_ack(envelope_id, timeout=30).seconds)
            except TimeoutError:
                lost += 1
        finals = wait_finals(slack, keys, timeout=max(120.0, n * 0.5))
        exactly_one = sum(1 for k in keys if finals[k] == 1)
        more = sum(1 for k in keys if finals[k] > 1)
        dup_acks = sum(1 for c in socket.ack_counts.values() if c > 1)
        lat = Latency(acks or [0.0])
        print(
            f"N = {n} over {n * gap:.1f} s, refresh_requested after #{n // 2} "
            f"(closed {close_after:g} s later); bot connections: {steady}; TimeClock answers in {vendor_latency:g} s"
        )
        print(f"  ack p50 {lat.p50 * 1000:7.1f} ms   p99 {lat.p99 * 1000:7.1f} ms   max {lat.max * 1000:7.1f} ms")
        print(
            f"  acks over 1 s: {lat.over(1.0)}   over 3 s: {lat.over(SLACK_ACK_DEADLINE)}   lost (no ack in 30 s): "
            f"{lost}   acked twice: {dup_acks}"
        )
        print(
            f"  exactly one final reply: {exactly_one}/{n}   more than one: {more}   "
            f"connections opened in all: {socket.opened}"
        )
        probe = probes_at_rest(socket, slack, probes, close_after, connections or 1)
        print(
            f"  at rest, one command 0.5 s after each of {probes} refreshes: "
            + ", ".join(f"{s * 1000:.0f}" for s in probe)
            + " ms"
            + f"   (over 1 s: {sum(1 for s in probe if s > 1.0)})"
        )
        ok = lat.over(SLACK_ACK_DEADLINE) == 0 and lost == 0 and exactly_one == n and all(s < 1.0 for s in probe)
        print(
            f"  acceptance (0 acks over 3 s, none lost, one final reply each, every probe under 1 s): "
            f"{'PASS' if ok else 'FAIL'}"
        )
        return ok
    finally:
        bot.terminate()
        bot.wait(30)
        log.close()
        tc.stop()
        slack.stop()
        workdir.cleanup()


def probes_at_rest(socket: object, slack: object, probes: int, close_after: float, steady: int) -> list[float]:
    """The issue's case: the bot at rest, a refresh, and one command half a second later."""
    from tests.doubles.socket_mode import SocketModeStandIn
    from tests.support import Deliveries

    assert isinstance(socket, SocketModeStandIn)
    make = Deliveries(slack)  # type: ignore[arg-type]
    seconds: list[float] = []
    for _ in range(probes):
        time.sleep(close_after + 0.5)  # the previous refreshed connection is gone
        socket.wait_connected(timeout=30, count=steady)
        socket.disconnect(reason="refresh_requested")
        time.sleep(0.5)
        fields, _ = make.command_fields("/whosoff", user="UB000001")
        try:
            seconds.append(socket.deliver("slash_commands", fields, timeout=10).seconds)
        except TimeoutError:
            seconds.append(float("inf"))
    return seconds


def wait_finals(slack: object, keys: list[str], timeout: float) -> dict[str, int]:
    """Final replies per command (the "still working" notice is not one), once all are in or at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        with slack._lock:  # type: ignore[attr-defined]
            finals = {
                k: sum(1 for r in slack.responses.get(k, []) if "slow to answer" not in r.get("text", ""))  # type: ignore[attr-defined]
                for k in keys
            }
        if all(finals.values()) or time.monotonic() > deadline:
            time.sleep(1.0 if all(finals.values()) else 0)  # a late duplicate would show up here
            with slack._lock:  # type: ignore[attr-defined]
                return {
                    k: sum(1 for r in slack.responses.get(k, []) if "slow to answer" not in r.get("text", ""))  # type: ignore[attr-defined]
                    for k in keys
                }
        time.sleep(0.25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200, help="commands in the burst")
    parser.add_argument("--connections", type=int, default=None, help="TIMEBOT_SOCKET_CONNECTIONS (default: the bot's)")
    parser.add_argument("--vendor-latency", type=float, default=2.0, help="seconds TimeClock takes per request")
    parser.add_argument("--gap", type=float, default=0.01, help="seconds between two commands of the burst")
    parser.add_argument("--close-after", type=float, default=2.0, help="seconds from disconnect message to close")
    parser.add_argument("--probes", type=int, default=10, help="refreshes at rest, each followed by one command")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return 0 if run(args.n, args.connections, args.vendor_latency, args.gap, args.close_after, args.probes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
