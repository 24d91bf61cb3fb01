"""The Slack directory read into person rows: before a scope holding someone the bot hasn't met
is resolved, once per gap when Slack doesn't know them either, never when everyone is known."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.slack.client import SlackClient
from bot.usecases.directory import Directory
from sandbox.slack import SlackStandIn
from storage.db import make_engine, upgrade
from storage.store import Store
from tests.support import BOT_TOKEN

TEAM = "T0DEMO"


class Clock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(f"sqlite:///{tmp_path / 'directory.db'}")
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def directory(store: Store, slack: SlackStandIn, clock: Clock) -> Directory:
    return Directory(store, SlackClient(WebClient(token=BOT_TOKEN, base_url=slack.api_url)), min_gap=300, clock=clock)


def reads(slack: SlackStandIn) -> int:
    return len(slack.calls_to("users.list"))


def test_meeting_someone_unknown_reads_the_directory(directory: Directory, store: Store, slack: SlackStandIn) -> None:
    directory.meet(TEAM, {"U0ALAN"})
    assert reads(slack) == 1
    assert {p.slack_user_id: p.email for p in store.people(TEAM)}["U0ALAN"] == "alan@example.com"


def test_a_scope_of_known_people_reads_nothing(directory: Directory, slack: SlackStandIn, clock: Clock) -> None:
    directory.refresh()
    clock.at += 3600
    directory.meet(TEAM, {"U0ADA", "U0ALAN"})
    assert reads(slack) == 1


def test_someone_slack_has_no_row_for_costs_one_read_per_gap(
    directory: Directory, slack: SlackStandIn, clock: Clock
) -> None:
    directory.meet(TEAM, {"UBOT"})  # a bot in the channel: users.list leaves bots out
    directory.meet(TEAM, {"UBOT"})
    assert reads(slack) == 1
    clock.at += 301
    directory.meet(TEAM, {"UBOT"})
    assert reads(slack) == 2
