"""Test support: genuinely signed Slack deliveries over real HTTP to the running bot."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.driver import SIGNING_SECRET, TEAM, Deliveries, SlackDriver, signature
from sandbox.slack import SlackStandIn

if TYPE_CHECKING:
    from tests.doubles.socket_mode import Ack, SocketModeStandIn

BOT_TOKEN = "xoxb-test-token"
__all__ = ["BOT_TOKEN", "SIGNING_SECRET", "TEAM", "Deliveries", "FakeClock", "SlackDriver", "SocketDriver", "signature"]


class FakeClock:
    """Seconds since the epoch that move only when a test says so: one clock for the vendor and its
    simulator, so expiry is decided by the test, not by the wall."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SocketDriver:
    """Plays Slack's side over Socket Mode: the same deliveries, sent as envelopes; returns the acks."""

    def __init__(self, slack: SlackStandIn, socket: SocketModeStandIn) -> None:
        self.socket = socket
        self.make = Deliveries(slack)

    def command(self, command: str, text: str = "", user: str = "U0ADA") -> tuple[Ack, str]:
        fields, key = self.make.command_fields(command, text, user)
        return self.socket.deliver("slash_commands", fields), key

    def submit_view(self, callback_id: str, values: dict[str, dict[str, Any]], **kw: Any) -> Ack:
        return self.socket.deliver("interactive", self.make.view_submission(callback_id, values, **kw))

    def click(self, action_id: str, **kw: Any) -> Ack:
        return self.socket.deliver("interactive", self.make.click(action_id, **kw))

    def event(self, event: dict[str, Any], event_id: str | None = None, retry_attempt: int | None = None) -> Ack:
        return self.socket.deliver("events_api", self.make.event_callback(event, event_id), retry_attempt=retry_attempt)


def datepicker(value: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


def select(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}}}


def text_input(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def timepicker(value: str) -> dict[str, Any]:
    return {"type": "timepicker", "selected_time": value}


def next_monday() -> date:
    """Next Monday where the default test person (Ada, Europe/London) lives: her "next week"."""
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Europe/London")).date()
    return today + timedelta(days=7 - today.weekday())


def leave_values(
    start: date,
    end: date,
    *,
    start_portion: str = "full",
    end_portion: str = "full",
    leave_type: str = "1",
    note: str | None = None,
) -> dict[str, dict[str, Any]]:
    return {
        "leave_type": select(leave_type),
        "start": datepicker(start.isoformat()),
        "start_portion": select(start_portion),
        "end": datepicker(end.isoformat()),
        "end_portion": select(end_portion),
        "note": text_input(note),
    }


def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)
