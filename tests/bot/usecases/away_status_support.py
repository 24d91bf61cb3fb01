"""Leave-status harness: the bot in HTTP mode with the consent routes, a TimeClock with Ada linked,
the Slack stand-in's user side, and one clock shared by the bot and Slack (status expiry)."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bot.runtime.web import HttpServer, SlackWsgi
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import BotUnderTest, make_settings, timeclock_vendor
from tests.support import SIGNING_SECRET, SlackDriver, eventually

CLIENT_ID = "111.222"
CLIENT_SECRET = "oauth-client-secret"
ADA = "U0ADA"
MONDAY = date(2026, 12, 7)  # Ada (Europe/London) is off Mon 7 and Tue 8 Dec 2026


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()

    def set(self, at: datetime) -> datetime:
        self.at = at
        return at


def london(day: date, hour: int = 0, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class StatusWorld:
    bot: BotUnderTest
    slack: SlackStandIn
    sim: TimeClockSim
    sim_server: SimServer
    clock: Clock
    browser: httpx.Client

    @property
    def status(self) -> Any:
        assert self.bot.runtime.away_status is not None
        return self.bot.runtime.away_status

    def close(self) -> None:
        self.browser.close()
        self.bot.close()


def start_world(
    tmp_path: Path, slack: SlackStandIn, sim: TimeClockSim, sim_server: SimServer, **overrides: object
) -> StatusWorld:
    from bot.runtime.app import create_app

    clock = Clock(london(date(2026, 12, 1), 9))
    slack.clock = clock
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    slack.user_side.register_app(CLIENT_ID, CLIENT_SECRET, [public + "/slack/oauth_redirect"])
    values: dict[str, object] = {
        "TIMEBOT_PUBLIC_URL": public,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "TIMEBOT_SCHEDULER": "false",
        **overrides,
    }
    settings = make_settings(tmp_path, slack, **values)
    runtime = create_app(settings, vendors={"timeclock": timeclock_vendor(sim_server.base_url)}, clock=clock)
    server = HttpServer(
        SlackWsgi(runtime.app, runtime.engine, signing_secret=SIGNING_SECRET, oauth=runtime.away_status_oauth),
        "127.0.0.1",
        port,
        threads=8,
    ).start()
    bot = BotUnderTest(runtime, server, SlackDriver(public, slack))
    services = runtime.services
    services.people.link(services.people.actor("T0DEMO", ADA), "timeclock", {"pin": f"1{sim.users[1].pin}"})
    return StatusWorld(bot, slack, sim, sim_server, clock, httpx.Client(timeout=10))


def home_connect_url(world: StatusWorld, user: str = ADA) -> str | None:
    before = len(world.slack.calls_to("views.publish"))
    world.bot.driver.event({"type": "app_home_opened", "user": user, "tab": "home"})
    view = world.slack.wait_call("views.publish", before + 1)[-1].args["view"]
    for block in view["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == "status_connect":
                return str(element["url"])
    return None


def consent(world: StatusWorld, user: str = ADA) -> httpx.Response:
    """Ada clicks Home's toggle, approves on Slack's page, and her browser comes back; returns once
    the bot's work after it (the first look at her leave, on the work pool) is done, so that look
    reads the consent's moment and cannot race the test's own job runs on the moved clock."""
    url = home_connect_url(world, user)
    assert url is not None
    world.slack.user_side.approver = user
    start = world.browser.get(url)
    assert start.status_code == 302
    slack_page = world.browser.get(start.headers["location"])
    assert slack_page.status_code == 302
    back = world.browser.get(slack_page.headers["location"], headers=cookie_from(start))
    eventually(lambda: world.bot.runtime.services.pool.pending == 0)
    return back


def cookie_from(start: httpx.Response) -> dict[str, str]:
    """The state cookie Bolt set. It is ``Secure`` (the public URL is https in real use), so
    httpx keeps it off our plain-http loopback: sent by hand, as the browser would over https."""
    first = start.headers["set-cookie"].split(";", 1)[0]
    assert "Secure" in start.headers["set-cookie"]
    return {"Cookie": first}


def state_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["state"][0]


def book_leave(world: StatusWorld, start: date, end: date, *, type_: int = 1) -> int:
    return book_leave_in(world.sim, start, end, type_=type_)


def book_leave_in(sim: TimeClockSim, start: date, end: date, *, type_: int = 1) -> int:
    """Ada's approved leave in TimeClock (approval happens in its web UI, so it's set here)."""
    row = sim.add_off_time(1, start, end, type_=type_)
    row["approved"] = 1
    return int(row["id"])


def status_sets(slack: SlackStandIn) -> list[dict[str, Any]]:
    import json

    out = []
    for call in slack.calls_to("users.profile.set"):
        profile = call.args.get("profile")
        out.append(json.loads(profile) if isinstance(profile, str) else profile)
    return out


def dms_to(slack: SlackStandIn, user: str, pattern: str) -> list[str]:
    return [
        c.args.get("text", "")
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user and re.search(pattern, c.args.get("text", ""))
    ]


def at(world: StatusWorld, moment: datetime, then: Callable[[], None] | None = None) -> None:
    """Move the shared clock and run the status job once, as its scheduler would."""
    world.clock.set(moment)
    world.status.run()
    if then:
        then()
