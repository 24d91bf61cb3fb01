"""The vendor simulators as a deployment reaches them (their settings as environment variables),
and what a test reads back from a deployed bot: its database's row counts, a person linked the
way people link (the modal)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.swipeclock import SwipeClockSim
from sandbox.timeclock import TimeClockSim
from sandbox.timetap import TimeTapSim
from sandbox.whosoff import WhosOffSim
from tests.support import BOT_TOKEN, SlackDriver, text_input


@dataclass
class Running:
    """One simulator and its server; ``env`` is what an operator would set for it."""

    sim: Any
    server: SimServer
    env: dict[str, str]

    @property
    def requests(self) -> int:
        return len(self.server.requests)


def timeclock_env(sim: TimeClockSim, server: SimServer) -> dict[str, str]:
    return {"TIMECLOCK_BASE_URL": server.base_url}


def whosoff_env(sim: WhosOffSim, server: SimServer) -> dict[str, str]:
    service = next(u for u in sim.users.values() if u.email_address == "timebot@example.com")
    return {
        "WHOSOFF_BASE_URL": server.base_url,
        "WHOSOFF_APP_ID": sim.app_id,
        "WHOSOFF_CLIENT_SECRET": sim.client_secret,
        "WHOSOFF_USERNAME": service.email_address,
        "WHOSOFF_PASSWORD": str(service.password),
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
    }


def timetap_env(sim: TimeTapSim, server: SimServer) -> dict[str, str]:
    return {
        "TIMETAP_BASE_URL": server.base_url,
        "TIMETAP_ENVIRONMENT": "test",
        "TIMETAP_API_KEY": sim.api_key,
        "TIMETAP_PRIVATE_KEY": sim.private_key,
    }


def swipeclock_env(sim: SwipeClockSim, server: SimServer) -> dict[str, str]:
    return {
        "SWIPECLOCK_AUTH_URL": f"{server.base_url}/AuthenticationService/oauth2/userToken",
        "SWIPECLOCK_API_URL": f"{server.base_url}/api",
        "SWIPECLOCK_SITE_ID": str(sim.site_id),
        "SWIPECLOCK_API_SECRET": sim.site_secret,
    }


ENV = {"timeclock": timeclock_env, "whosoff": whosoff_env, "timetap": timetap_env, "swipeclock": swipeclock_env}


@contextmanager
def running(name: str, sim: Any) -> Iterator[Running]:
    with SimServer(sim.handle, name=name) as server:
        yield Running(sim, server, ENV[name](sim, server))


def one_deployment_per_module(folder: str) -> tuple[Any, Any]:
    """Module-scoped ``tmp_path`` (a fresh folder named ``folder``) and ``slack`` fixtures, for a test
    module that starts one deployment and shares it (a process start is most of each test's time).
    Assign the pair at module level; pytest finds them there by the names they are given here."""

    @pytest.fixture(scope="module", name="tmp_path")
    def module_tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return tmp_path_factory.mktemp(folder)

    @pytest.fixture(scope="module", name="slack")
    def module_slack() -> Iterator[SlackStandIn]:
        stand_in = SlackStandIn.demo(BOT_TOKEN).start()
        yield stand_in
        stand_in.stop()

    return module_tmp_path, module_slack


def row_counts(database_url: str) -> dict[str, int]:
    """Rows in every table of the bot's database (Alembic's own bookkeeping aside)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as db:
            tables = [t for t in sa.inspect(db).get_table_names() if t != "alembic_version"]
            return {t: int(db.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in tables}
    finally:
        engine.dispose()


def link_timeclock(driver: SlackDriver, slack: SlackStandIn, pin: str, user: str = "U0ADA") -> None:
    """``/timebot link`` as a person does it: the modal, their PIN, TimeClock hands over a key."""
    meta = json.dumps({"vendor": "timeclock", "target": None})
    before = len(slack.calls_to("views.update"))
    response = driver.submit_view(ids.LINK_CALLBACK, {"link_pin": text_input(pin)}, user=user, private_metadata=meta)
    assert response.status_code == 200, response.text
    slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update")[before:] if "linked to TimeClock" in json.dumps(c.args)],
        timeout=20,
    )


def command(
    driver: SlackDriver, command: str, text: str = "", *, user: str = "U0ADA", team: str | None = None
) -> tuple[str, str]:
    """A signed slash command (from ``team`` when given); its HTTP answer's text and the
    response_url key its later answers arrive on."""
    extra = {"team_id": team} if team else {}
    body, key = driver.command_body(command, text, user, **extra)
    response = driver.post(body, "application/x-www-form-urlencoded")
    assert response.status_code == 200, response.text
    return response.text, key


def answers(slack: SlackStandIn, key: str) -> list[str]:
    """What reached a command's response_url so far, as text (blocks included)."""
    return [json.dumps(r, ensure_ascii=False) for r in slack.responses[key]]


def wait_answer(slack: SlackStandIn, key: str, needle: str, timeout: float = 20.0) -> str:
    return str(slack.wait_for(lambda: next((a for a in answers(slack, key) if needle in a), None), timeout))
