"""Shared set-up for the digest tests (no tests here): a WhosOff company on the simulator, the bot
wired to it over HTTP, real ``timebot`` processes, and a check of what Slack would accept."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlmodel import Session

from bot.digests.poster import Digests
from bot.runtime.app import create_app
from bot.runtime.web import HttpServer, SlackWsgi
from bot.vendors.http import HttpPolicy
from bot.vendors.whosoff import WhosOff, WhosOffSettings
from sandbox.people import DEMO_PEOPLE
from sandbox.server import Request, SimServer
from sandbox.slack import Call, SlackStandIn
from sandbox.whosoff import SUPER_USER, WhosOffSim
from storage.db import make_engine, upgrade
from storage.digests import DigestStore
from storage.models import DigestRun, DigestSubscription, Person
from tests.conftest import SECRET_KEY, BotUnderTest, make_settings
from tests.deploy.harness import postgres_database
from tests.support import BOT_TOKEN, SIGNING_SECRET, TEAM, SlackDriver

CHANNEL = "C0DIGEST"
APP_ID, CLIENT_SECRET = "digest-app", "digest-client-secret"
SERVICE_EMAIL, SERVICE_PASSWORD = "timebot@example.com", "service-password"
ADMIN = "U0GRACE"  # in TIMEBOT_ADMINS (tests/conftest.py); Slack zone America/New_York
NY = "America/New_York"
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())


# --- the vendor ---------------------------------------------------------------------------------


def company(clock: Callable[[], float] = time.time) -> WhosOffSim:
    """The demo people (same emails as the Slack stand-in) and a service account for the bot."""
    sim = WhosOffSim(app_id=APP_ID, client_secret=CLIENT_SECRET, clock=clock)
    sim.add_user(
        "Timebot Service", SERVICE_EMAIL, user_type_id=SUPER_USER, password=SERVICE_PASSWORD, department="Operations"
    )
    for person in DEMO_PEOPLE:
        sim.add_user(person.name, person.email)
    sim.add_leave_type("Annual Leave", code="AL")
    sim.add_leave_type("Sickness", code="SIC")
    return sim


def user_id(sim: WhosOffSim, email: str) -> int:
    return next(u.user_id for u in sim.users.values() if u.email_address == email)


def whosoff_settings(server: SimServer) -> WhosOffSettings:
    return WhosOffSettings(
        _env_file=None,
        base_url=server.base_url,
        app_id=APP_ID,  # type: ignore[call-arg]
        client_secret=CLIENT_SECRET,
        username=SERVICE_EMAIL,
        password=SERVICE_PASSWORD,
        ip_address="127.0.0.1",
    )


def whosoff_vendor(server: SimServer) -> WhosOff:
    return WhosOff(whosoff_settings(server), HttpPolicy())


def vendor_calls(server: SimServer, route: str = "") -> list[Request]:
    return [r for r in list(server.requests) if r.path.endswith(route)]


# --- the bot ------------------------------------------------------------------------------------


def start_digest_bot(
    tmp_path: Path,
    slack: SlackStandIn,
    wo_server: SimServer,
    *,
    clock: Callable[[], float] = time.time,
    database_url: str | None = None,
    **overrides: object,
) -> BotUnderTest:
    if CHANNEL not in slack.channels:  # a public channel everyone (and the bot) is in
        slack.add_channel(CHANNEL, "digest", [p.slack_id for p in DEMO_PEOPLE])
    values: dict[str, object] = {"TIMEBOT_WHOSOFF_VENDOR": "whosoff", **overrides}
    if database_url:
        values["DATABASE_URL"] = database_url
    settings = make_settings(tmp_path, slack, **values)
    runtime = create_app(settings, vendors={"whosoff": whosoff_vendor(wo_server)}, clock=clock)
    server = HttpServer(
        SlackWsgi(runtime.app, runtime.engine, signing_secret=SIGNING_SECRET), "127.0.0.1", 0, threads=8
    ).start()
    bot = BotUnderTest(runtime, server, SlackDriver(f"http://127.0.0.1:{server.port}", slack))
    digests(bot).gate.interval = 0.0  # tests that care about spacing set it back
    return bot


def digests(bot: BotUnderTest) -> Digests:
    return bot.runtime.digests  # type: ignore[no-any-return]


def seed_people(engine: Any, people: Iterable[tuple[str, str, str | None]], tz: str = NY) -> None:
    """Person rows as ``timebot users sync`` or earlier commands leave them: (slack id, name, email)."""
    now = datetime.now(UTC)
    with Session(engine) as s:
        s.add_all(
            Person(team_id=TEAM, slack_user_id=uid, name=name, email=email, tz=tz, updated_at=now)
            for uid, name, email in people
        )
        s.commit()


def seed_demo_people(engine: Any) -> None:
    seed_people(engine, [(p.slack_id, p.name, p.email) for p in DEMO_PEOPLE])


def subscribe(
    engine: Any,
    *,
    hour: int = 9,
    minute: int = 0,
    tz: str = NY,
    days: str = "mon-sun",
    skip_empty: bool = False,
    days_ahead: int = 3,
    since: datetime | None = None,
    channel: str = CHANNEL,
    **options: Any,
) -> DigestSubscription:
    """A subscription as another process (or an earlier run) left it in the table; ``options``:
    scope, cadence, show_kind, mentions."""
    sub = DigestSubscription(
        team_id=TEAM,
        channel_id=channel,
        hour=hour,
        minute=minute,
        tz=tz,
        days=days,
        skip_empty=skip_empty,
        days_ahead=days_ahead,
        created_by=ADMIN,
        **options,
    )
    saved, _ = DigestStore(engine).save_subscription(sub, since or datetime.now(UTC))
    return saved


def posts(slack: SlackStandIn, channel: str = CHANNEL) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def runs(engine: Any, channel: str = CHANNEL) -> list[DigestRun]:
    return DigestStore(engine).runs(channel)


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll real state (files, tables) that has no notification; never used to move time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- what Slack would accept ----------------------------------------------------------------------


def texts_of(block: dict[str, Any]) -> list[str]:
    """Every text field of a block (section text, context elements, header)."""
    found = []
    if isinstance(block.get("text"), dict):
        found.append(block["text"]["text"])
    for element in block.get("elements") or []:
        if isinstance(element, dict) and "text" in element:
            found.append(element["text"] if isinstance(element["text"], str) else element["text"]["text"])
    for f in block.get("fields") or []:
        found.append(f["text"])
    return found


def assert_slack_accepts(message: dict[str, Any]) -> None:
    """chat.postMessage limits: ≤ 50 blocks, ≤ 3,000 characters per text field, header ≤ 150."""
    blocks = message["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    assert 0 < len(blocks) <= 50, f"{len(blocks)} blocks"
    for block in blocks:
        limit = 150 if block["type"] == "header" else 3000
        for t in texts_of(block):
            assert 0 < len(t) <= limit, f"{block['type']} text of {len(t)} characters"
    assert 0 < len(message["text"]) <= 3000


def all_text(messages: Iterable[dict[str, Any]]) -> str:
    return "\n".join(t for m in messages for b in m["blocks"] for t in texts_of(b))


# --- PostgreSQL -----------------------------------------------------------------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the server .ci/postgres started, dropped afterwards."""
    with postgres_database() as url:
        yield url


def database(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres`` (skipped with a reason when no server is configured)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'timebot.db'}"
    return str(request.getfixturevalue("postgres_url"))


def migrated(url: str) -> Any:
    engine = make_engine(url)
    upgrade(engine)
    return engine


# --- real timebot processes ---------------------------------------------------------------------

_LAUNCHER = r"""
import sys
from datetime import datetime
import time
from datetime import timedelta
import time_machine
import bot.runtime.app, bot.cli.main, bot.digests.poster, handlers.render.whos_off, bot.vendors.whosoff  # slow imports
print("ready", flush=True)
line = sys.stdin.readline().split()
argv = sys.argv[1:]
if line and line[0] == "at":  # "at <instant> <real epoch it stands for>": clocks agree across processes
    moment = datetime.fromisoformat(line[1]) + timedelta(seconds=time.time() - float(line[2]))
    with time_machine.travel(moment, tick=True):
        sys.exit(bot.cli.main.main(argv))
sys.exit(bot.cli.main.main(argv))
"""


def real_time() -> float:
    """The host's clock, even while this process is time-travelling."""
    return time_machine.escape_hatch.time.time() if time_machine.escape_hatch.is_travelling() else time.time()


def process_env(slack: SlackStandIn, wo_server: SimServer, database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "TIMEBOT_SECRET_KEY": SECRET_KEY,
        "TIMEBOT_ADMINS": ADMIN,
        "TIMEBOT_WHOSOFF_VENDOR": "whosoff",
        "WHOSOFF_BASE_URL": wo_server.base_url,
        "WHOSOFF_APP_ID": APP_ID,
        "WHOSOFF_CLIENT_SECRET": CLIENT_SECRET,
        "WHOSOFF_USERNAME": SERVICE_EMAIL,
        "WHOSOFF_PASSWORD": SERVICE_PASSWORD,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
    }


@dataclass
class BotProcess:
    """``timebot …`` in its own process; its log goes to a file the test can read."""

    proc: subprocess.Popen[str]
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start_at(self, moment: datetime | None, anchor: float | None = None) -> None:
        """Begin, time-travelled and ticking when ``moment`` is given: ``moment`` is the time at real
        instant ``anchor`` (default: now), so processes started with one anchor share one clock."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"at {moment.isoformat()} {anchor or real_time()}\n" if moment else "now\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        """SIGKILL: no clean-up runs, as in a crash or an OOM kill."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def launch(argv: list[str], env: dict[str, str], tmp_path: Path, name: str) -> BotProcess:
    log_path = tmp_path / f"{name}.log"
    log_file = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, *argv],
        cwd=tmp_path,
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log_file,
    )
    log_file.close()
    return BotProcess(proc, log_path)


def wait_ready(processes: Iterable[BotProcess], timeout: float = 30.0) -> None:
    for p in processes:
        stdout = p.proc.stdout
        assert stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=lambda out=stdout, into=lines: into.append(out.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        assert lines and lines[0].strip() == "ready", f"process did not start: {p.log}"


def run_together(argv: list[str], env: dict[str, str], tmp_path: Path, count: int = 2) -> list[BotProcess]:
    """``count`` processes of ``timebot argv`` released at one instant, run to their end."""
    processes = [launch(argv, env, tmp_path, f"{argv[0]}{i}") for i in range(count)]
    wait_ready(processes)
    for p in processes:
        p.start_at(None)
    codes = [p.proc.wait(60) for p in processes]
    assert codes == [0] * count, [p.log for p in processes]
    return processes


def run_bot_args() -> list[str]:
    return ["--log-level", "INFO", "run", "--host", "127.0.0.1", "--port", "0"]


def next_fire(lead: timedelta = timedelta(seconds=40)) -> datetime:
    """A whole minute at least ``lead`` from now (real time), for processes that travel to just
    before it: the travel stays small, so simulator tokens and logs keep near-real times."""
    soon = datetime.now(UTC) + lead
    return soon.replace(second=0, microsecond=0) + timedelta(minutes=1)


def local(moment: datetime, tz: str = NY) -> datetime:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz))


def mentions(text_: str) -> set[str]:
    return set(re.findall(r"<@([UW][A-Z0-9]+)>", text_))


def a_monday() -> date:
    return date(2026, 3, 9)
