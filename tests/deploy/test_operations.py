"""What an operator runs against ``timebot run`` as deployed: ``/metrics``, JSON logs, ``/healthz``
and ``/readyz``. Each test starts the real process configured by environment variables only."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, make_url, text

from handlers import ids
from sandbox.server import Response, SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.bot.digests.support import postgres_url  # noqa: F401 - a fixture
from tests.deploy.harness import Deployed, slack_env, start
from tests.support import BOT_TOKEN, SIGNING_SECRET, TEAM, text_input

ADA = "U0ADA"
SLACK_ID = re.compile(r"^[UWCGDT][A-Z0-9]{5,}$")  # a Slack user, channel, group, DM or team id


@pytest.fixture
def tc_sim() -> TimeClockSim:
    return TimeClockSim.demo()


@pytest.fixture
def timeclock(tc_sim: TimeClockSim) -> Iterator[SimServer]:
    server = SimServer(tc_sim.handle, name="timeclock").start()
    yield server
    server.stop()


def bot_env(slack: SlackStandIn, tmp_path: Path, secret_key: str, timeclock: SimServer, **extra: str) -> dict[str, str]:
    return {**slack_env(slack, tmp_path, secret_key), "TIMECLOCK_BASE_URL": timeclock.base_url, **extra}


@contextmanager
def serving(env: dict[str, str], tmp_path: Path) -> Iterator[Deployed]:
    """``timebot run`` for the length of the block, stopped with SIGTERM after it however it ends."""
    bot = start(env, tmp_path)
    try:
        yield bot
    finally:
        bot.terminate()


def scrape(bot: Deployed) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """``/metrics`` read with prometheus_client's own parser: sample name -> labels -> value."""
    response = httpx.get(f"{bot.url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def total(samples: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str, **labels: str) -> float:
    """The sum of ``name``'s series whose labels include ``labels``."""
    return sum(value for key, value in samples.get(name, {}).items() if set(labels.items()) <= set(key))


def link_ada(bot: Deployed, slack: SlackStandIn, tc_sim: TimeClockSim) -> None:
    meta = json.dumps({"vendor": "timeclock", "target": None})
    bot.driver(slack).submit_view(
        ids.LINK_CALLBACK, {"link_pin": text_input(f"1{tc_sim.users[1].pin}")}, private_metadata=meta, user=ADA
    )
    slack.wait_for(lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)])


def command(bot: Deployed, slack: SlackStandIn, name: str, expect: str) -> str:
    """A slash command; waits for its final answer (containing ``expect``) and returns it."""
    _, key = bot.driver(slack).command(name, user=ADA)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        texts = [r.get("text", "") for r in slack.wait_response(key, timeout=20)]
        if any(expect in t for t in texts):
            return next(t for t in texts if expect in t)
        time.sleep(0.05)
    raise AssertionError(f"{name}: no answer with {expect!r}: {texts}")


def digest_due_before_start(url: str, channel: str = "C0TEAM") -> None:
    """A digest whose time today passed ten minutes ago, set up yesterday: the bot posts it at start
    (catch-up), as after a night with no process running."""
    from bot.digests.poster import Digests  # noqa: F401 - the same tables the bot reads
    from storage.db import make_engine, upgrade
    from storage.digests import DigestStore
    from storage.models import DigestSubscription

    now = datetime.now(UTC)
    zone = next(
        z
        for z in ("UTC", "Etc/GMT+12", "Etc/GMT-12")
        if 1 <= (now.astimezone(__import__("zoneinfo").ZoneInfo(z))).hour <= 22
    )
    local = now.astimezone(__import__("zoneinfo").ZoneInfo(zone)) - timedelta(minutes=10)
    engine = make_engine(url)
    upgrade(engine)
    DigestStore(engine).save_subscription(
        DigestSubscription(
            team_id=TEAM,
            channel_id=channel,
            hour=local.hour,
            minute=local.minute,
            tz=zone,
            days="mon-sun",
            created_by=ADA,
        ),
        now - timedelta(days=1),
    )
    engine.dispose()


# --- /metrics ---------------------------------------------------------------------------------


def test_metrics_count_clock_ins_vendor_errors_a_digest_and_a_slack_429(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, timeclock: SimServer, secret_key: str
) -> None:
    env = bot_env(slack, tmp_path, secret_key, timeclock, TIMEBOT_METRICS="true")
    digest_due_before_start(env["DATABASE_URL"])
    with serving(env, tmp_path) as bot:
        slack.wait_for(lambda: slack.calls_to("chat.postMessage"), timeout=20)  # the digest, caught up at start
        slack.rate_limit("views.update")  # Slack says 429 once while the link form is updated
        link_ada(bot, slack, tc_sim)
        for _ in range(20):
            command(bot, slack, "/clockin", "Clocked in")
            command(bot, slack, "/clockout", "Clocked out")
        timeclock.faults.only_methods = frozenset({"POST"})  # the clock-in itself, twice: sent, then once more
        timeclock.faults.script.extend([Response.json({"error": "boom"}, 500), Response.json({"error": "boom"}, 500)])
        command(bot, slack, "/clockin", "didn't go through")
        samples = scrape(bot)
    assert total(samples, "timebot_actions_total", kind="clock_in", outcome="ok") == 20
    assert total(samples, "timebot_actions_total", kind="clock_out", outcome="ok") == 20
    assert total(samples, "timebot_actions_total", kind="clock_in", outcome="unavailable") == 1
    assert total(samples, "timebot_vendor_requests_total", vendor="timeclock", status="500") == 2
    assert (
        total(samples, "timebot_vendor_requests_total", vendor="timeclock", route="/api/sessions", status="201")
        + total(samples, "timebot_vendor_requests_total", vendor="timeclock", route="/api/sessions", status="200")
        >= 20
    )
    assert total(samples, "timebot_digests_posted_total") == 1
    assert total(samples, "timebot_slack_rate_limited_total", method="views.update") == 1
    assert total(samples, "timebot_slack_ack_seconds_count", surface="command") == 41
    assert total(samples, "timebot_vendor_breaker_state", vendor="timeclock") == 0
    assert total(samples, "timebot_vendor_concurrency_limit", vendor="timeclock") == 500


def test_an_action_that_fails_before_its_write_counts_as_unavailable(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, timeclock: SimServer, secret_key: str
) -> None:
    with serving(bot_env(slack, tmp_path, secret_key, timeclock, TIMEBOT_METRICS="true"), tmp_path) as bot:
        link_ada(bot, slack, tc_sim)
        timeclock.faults.only_methods = frozenset({"GET"})  # "is a session running?", each try of it
        timeclock.faults.script.extend([Response.json({"error": "down"}, 503)] * 3)
        command(bot, slack, "/clockin", "isn't answering")
        samples = scrape(bot)
    assert total(samples, "timebot_actions_total", kind="clock_in", outcome="unavailable") == 1
    assert total(samples, "timebot_actions_total", kind="clock_in", outcome="ok") == 0
    assert total(samples, "timebot_vendor_requests_total", vendor="timeclock", status="503") == 3


def test_no_metric_label_holds_a_slack_user_or_channel_id(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, timeclock: SimServer, secret_key: str
) -> None:
    env = bot_env(slack, tmp_path, secret_key, timeclock, TIMEBOT_METRICS="true")
    digest_due_before_start(env["DATABASE_URL"])
    with serving(env, tmp_path) as bot:
        slack.wait_for(lambda: slack.calls_to("chat.postMessage"), timeout=20)
        link_ada(bot, slack, tc_sim)
        command(bot, slack, "/clockin", "Clocked in")
        command(bot, slack, "/whosoff", "off")
        samples = scrape(bot)
    ids = {ADA, TEAM, "C0TEAM", *(u for u in slack.users)} if hasattr(slack, "users") else {ADA, TEAM, "C0TEAM"}
    labels = {value for series in samples.values() for key in series for _, value in key}
    assert len(samples) > 20 and labels  # the run made series to look at
    offending = {v for v in labels if v in ids or SLACK_ID.match(v) or any(i in v for i in ids)}
    assert not offending, offending


def test_metrics_are_off_unless_asked_for(
    tmp_path: Path, slack: SlackStandIn, timeclock: SimServer, secret_key: str
) -> None:
    with serving(bot_env(slack, tmp_path, secret_key, timeclock), tmp_path) as bot:
        response = httpx.get(f"{bot.url}/metrics", timeout=10)
    assert response.status_code == 404


# --- JSON logs --------------------------------------------------------------------------------


def test_json_logs_are_one_object_per_line_and_an_actions_lines_share_its_id(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, timeclock: SimServer, secret_key: str
) -> None:
    env = bot_env(slack, tmp_path, secret_key, timeclock, TIMEBOT_LOG_FORMAT="json")
    with serving(env, tmp_path) as bot:
        link_ada(bot, slack, tc_sim)
        timeclock.faults.only_methods = frozenset({"POST"})
        timeclock.faults.script.extend([Response.json({"error": "boom"}, 500), Response.json({"error": "boom"}, 500)])
        driver = bot.driver(slack)
        fields, key = driver.make.command_fields("/clockin", "", ADA)
        driver.post(urlencode(fields), "application/x-www-form-urlencoded")
        slack.wait_response(key, timeout=20)
    lines = [line for line in bot.log.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    action_id = f"cmd:{TEAM}:{fields['trigger_id']}"
    mine = [r for r in records if r.get("action_id") == action_id]
    # the vendor's two errors and the second try, logged on the work pool's thread, all carry the id
    assert len(mine) >= 3, [r["message"] for r in records]
    assert any("TimeClock" in r["message"] and "/api/sessions" in r["message"] for r in mine)
    assert any("sending it once more" in r["message"] for r in mine)
    for secret in (tc_sim.users[1].api_key, f"1{tc_sim.users[1].pin}", secret_key, BOT_TOKEN, SIGNING_SECRET):
        assert secret not in bot.log


# --- /healthz and /readyz ---------------------------------------------------------------------


def readyz(bot: Deployed) -> tuple[int, dict]:
    response = httpx.get(f"{bot.url}/readyz", timeout=20)
    return response.status_code, response.json()


def test_readyz_is_503_while_slack_refuses_the_token_and_200_once_it_accepts_it(
    tmp_path: Path, slack: SlackStandIn, timeclock: SimServer, secret_key: str
) -> None:
    env = bot_env(slack, tmp_path, secret_key, timeclock, TIMEBOT_READYZ_SLACK_SECONDS="0")
    with serving(env, tmp_path) as bot:
        ready = readyz(bot)
        token, slack.bot_token = slack.bot_token, "xoxb-another-token"  # revoked, say
        refused = readyz(bot)
        alive = httpx.get(f"{bot.url}/healthz", timeout=10).status_code
        slack.bot_token = token
        back = readyz(bot)
    assert ready[0] == 200 and ready[1]["ok"] is True
    assert ready[1]["vendors"] == {"timeclock": "closed"}
    assert refused[0] == 503
    assert refused[1]["slack"] == "auth.test failed: invalid_auth"
    assert refused[1]["reasons"] == ["slack: auth.test failed: invalid_auth"]
    assert alive == 200
    assert back[0] == 200


def test_readyz_is_503_while_the_postgresql_database_is_read_only_and_200_after(
    tmp_path: Path,
    slack: SlackStandIn,
    timeclock: SimServer,
    secret_key: str,
    postgres_url: str,  # noqa: F811
) -> None:
    env = {**bot_env(slack, tmp_path, secret_key, timeclock), "DATABASE_URL": postgres_url}
    name = make_url(postgres_url).database
    admin = create_engine(make_url(postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT")

    def read_only(on: bool) -> None:
        """As a failover to a read-only standby looks to the bot: its connections drop, new ones are read-only."""
        with admin.connect() as conn:
            setting = "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
            conn.execute(text(f'ALTER DATABASE "{name}" {setting}'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                    "AND usename = current_user"
                ),
                {"n": name},
            )

    try:
        with serving(env, tmp_path) as bot:
            ready = readyz(bot)
            read_only(True)
            refused = readyz(bot)
            alive = httpx.get(f"{bot.url}/healthz", timeout=10).status_code
            read_only(False)
            back = readyz(bot)
    finally:
        admin.dispose()
    assert ready[0] == 200
    assert (refused[0], refused[1]["database"]) == (503, "read-only"), refused
    assert refused[1]["migrations"] == "head"
    assert alive == 200
    assert back[0] == 200, back


def test_every_metric_the_grafana_dashboard_uses_is_in_metrics_after_a_short_run(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, timeclock: SimServer, secret_key: str
) -> None:
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {m for e in exprs for m in re.findall(r"\b((?:timebot|process|python)_[a-z_]+)\b", e)}
    with serving(bot_env(slack, tmp_path, secret_key, timeclock, TIMEBOT_METRICS="true"), tmp_path) as bot:
        link_ada(bot, slack, tc_sim)
        command(bot, slack, "/clockin", "Clocked in")
        response = httpx.get(f"{bot.url}/metrics", timeout=10)
    exposed: set[str] = set()
    for family in text_string_to_metric_families(response.text):
        # a family with no series yet (no 429 so far) still declares its names
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [""])
        exposed |= {family.name + s for s in suffixes} | {s.name for s in family.samples}
    assert len(used) >= 15
    assert used <= exposed, used - exposed


def test_socket_mode_serves_metrics_and_probes_on_its_port(
    tmp_path: Path, slack: SlackStandIn, timeclock: SimServer, secret_key: str
) -> None:
    from tests.doubles.socket_mode import SocketModeStandIn
    from tests.support import SocketDriver

    app_token = "xapp-1-A0TIMEBOT-1-socketmode"
    socket = SocketModeStandIn(app_token).start()
    slack.enable_socket_mode(socket)
    env = bot_env(slack, tmp_path, secret_key, timeclock, SLACK_APP_TOKEN=app_token, TIMEBOT_METRICS="true")
    try:
        with serving(env, tmp_path) as bot:
            socket.wait_connected(timeout=30, count=2)
            SocketDriver(slack, socket).command("/timebot", "help")
            samples = scrape(bot)
            alive, ready = httpx.get(f"{bot.url}/healthz", timeout=10), readyz(bot)
    finally:
        socket.stop()
    assert "Socket Mode" in bot.log
    assert total(samples, "timebot_slack_ack_seconds_count", surface="command") == 1
    assert alive.status_code == 200
    assert ready[0] == 200, ready
