"""Fixtures: a Slack stand-in, a TimeClock simulator and the bot in HTTP mode, all on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import Settings
from bot.runtime.app import Runtime, create_app
from bot.runtime.web import HttpServer, SlackWsgi
from bot.vendors.http import HttpPolicy
from bot.vendors.timeclock import TimeClock, TimeClockSettings
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from sandbox.whosoff import WhosOffSim
from tests.support import BOT_TOKEN, SIGNING_SECRET, SlackDriver

SECRET_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real settings come from the environment; tests must not pick up a developer's."""
    import os

    for name in list(os.environ):
        if (
            name.startswith(("SLACK_", "TIMEBOT_", "TIMECLOCK_", "TIMETAP_", "SWIPECLOCK_", "WHOSOFF_"))
            or name == "DATABASE_URL"
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no stray .env from the repo root


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn.demo(BOT_TOKEN).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def tc_sim() -> TimeClockSim:
    return TimeClockSim.demo()


@pytest.fixture
def tc_server(tc_sim: TimeClockSim) -> Iterator[SimServer]:
    server = SimServer(tc_sim.handle, name="timeclock").start()
    yield server
    server.stop()


def make_settings(tmp_path: Path, slack: SlackStandIn, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timebot.db'}",
        "TIMEBOT_SECRET_KEY": SECRET_KEY,
        "TIMEBOT_ADMINS": "U0GRACE",
        "TIMEBOT_HTTP_READ_TIMEOUT": 10,
        "TIMEBOT_SLOW_NOTICE_SECONDS": 2.5,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def timeclock_vendor(base_url: str, policy: HttpPolicy | None = None) -> TimeClock:
    return TimeClock(TimeClockSettings(_env_file=None, base_url=base_url), policy or HttpPolicy())  # type: ignore[call-arg]


class BotUnderTest:
    def __init__(self, runtime: Runtime, server: HttpServer, driver: SlackDriver) -> None:
        self.runtime = runtime
        self.server = server
        self.driver = driver

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def close(self) -> None:
        self.driver.close()
        self.server.stop()
        self.runtime.close()


def start_bot(
    settings: Settings, slack: SlackStandIn, vendors: dict, clock: Callable[[], float] = time.time
) -> BotUnderTest:
    runtime = create_app(settings, vendors=vendors, clock=clock)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    server = HttpServer(
        SlackWsgi(
            runtime.app, runtime.engine, signing_secret=secret, webhooks=runtime.webhooks, calendar=runtime.calendar
        ),
        "127.0.0.1",
        0,
        threads=16,
    ).start()
    return BotUnderTest(runtime, server, SlackDriver(f"http://127.0.0.1:{server.port}", slack))


@pytest.fixture
def wo_sim() -> WhosOffSim:
    """WhosOff with the demo company (the digests' vendor)."""
    from tests.bot.digests.support import company  # it imports this module

    return company()


@pytest.fixture
def wo_server(wo_sim: WhosOffSim) -> Iterator[SimServer]:
    with SimServer(wo_sim.handle, name="whosoff") as server:
        yield server


@pytest.fixture
def bot(tmp_path: Path, slack: SlackStandIn, tc_server: SimServer) -> Iterator[BotUnderTest]:
    settings = make_settings(tmp_path, slack)
    under_test = start_bot(settings, slack, {"timeclock": timeclock_vendor(tc_server.base_url)})
    yield under_test
    under_test.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say in one line why the PostgreSQL tests were skipped (a bare "12 skipped" hides it)."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "TIMEBOT_TEST_POSTGRES_URL" in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} PostgreSQL tests skipped: TIMEBOT_TEST_POSTGRES_URL is not set "
            "(`source .ci/postgres` starts PostgreSQL and sets it; `bash .ci/run` runs everything)."
        )
