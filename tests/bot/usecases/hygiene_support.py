"""A bot, a TimeClock simulator and the Slack stand-in on one controllable clock: a test makes a
session 10 h 5 min old by moving the clock, never by sleeping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.runtime.app import create_app
from bot.runtime.web import HttpServer, SlackWsgi
from bot.vendors.http import HttpPolicy
from bot.vendors.timeclock import TimeClock, TimeClockSettings
from sandbox.server import SimServer
from sandbox.slack import Call, SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import BotUnderTest, make_settings
from tests.support import TEAM, SlackDriver


class ManualClock:
    """Seconds since the epoch that only move when told to."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.timestamp()


@dataclass
class World:
    bot: BotUnderTest
    sim: TimeClockSim
    server: SimServer
    slack: SlackStandIn
    clock: ManualClock

    @property
    def services(self) -> Any:
        return self.bot.runtime.services

    def link(self, slack_user: str, tc_user: int) -> None:
        people = self.services.people
        people.link(people.actor(TEAM, slack_user), "timeclock", {"pin": f"{tc_user}{self.sim.users[tc_user].pin}"})

    def dms(self, user: str) -> list[Call]:
        return [c for c in self.slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


def start_world(tmp_path: Path, slack: SlackStandIn, at: datetime, **settings: object) -> World:
    clock = ManualClock(at)
    sim = TimeClockSim.demo()
    sim.clock = clock
    server = SimServer(sim.handle, name="timeclock").start()
    vendor = TimeClock(
        TimeClockSettings(_env_file=None, base_url=server.base_url),  # type: ignore[call-arg]
        HttpPolicy(),
        clock=clock,
    )
    values = {"TIMEBOT_SCHEDULER": False, **settings}
    runtime = create_app(make_settings(tmp_path, slack, **values), vendors={"timeclock": vendor}, clock=clock)
    http = HttpServer(
        SlackWsgi(runtime.app, runtime.engine, signing_secret="test-signing-secret"), "127.0.0.1", 0, threads=8
    ).start()
    bot = BotUnderTest(runtime, http, SlackDriver(f"http://127.0.0.1:{http.port}", slack))
    return World(bot, sim, server, slack, clock)


@pytest.fixture
def world_factory(tmp_path: Path, slack: SlackStandIn) -> Iterator[Any]:
    made: list[World] = []

    def make(at: datetime, **settings: object) -> World:
        made.append(start_world(tmp_path, slack, at, **settings))
        return made[-1]

    yield make
    for w in made:
        w.bot.close()
        w.server.stop()


def message_click(
    action_id: str, value: str, *, user: str = "U0ADA", channel: str = "D0ADA", ts: str = "1.000001"
) -> dict[str, Any]:
    """A click on a button of a bot message in the person's DM (block_actions, container: message)."""
    import time

    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "demo"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0TIMEBOT",
        "trigger_id": f"{time.time_ns()}.t",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel},
        "message": {"ts": ts, "type": "message"},
        "actions": [
            {
                "action_id": action_id,
                "block_id": "clockout_reminder",
                "value": value,
                "type": "button",
                "action_ts": str(time.time()),
            }
        ],
    }


def button_value(call: Call, action_id: str) -> str:
    for block in call.args["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {json.dumps(call.args['blocks'])[:300]}")
