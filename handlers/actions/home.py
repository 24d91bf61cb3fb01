"""The App Home buttons: clock in or out (then the tab is refreshed), request leave, link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.domain import Actor
from bot.runtime.services import Services
from handlers.app_home import publish_home
from handlers.modals import open_leave_modal, open_link_modal
from handlers.render.clock import clock_message
from handlers.replies import clock_out_reply
from handlers.turn import Reply, Turn


def _then_refresh(turn: Turn, work: Callable[[Actor], Reply | None], durable: str | None = None) -> None:
    def run(actor: Actor) -> Reply | None:
        reply = work(actor)
        publish_home(turn.services, turn.client, actor)
        return reply

    turn.later(run, durable=(durable, {}) if durable else None)


def _turn(body: dict[str, Any], client: WebClient, services: Services) -> Turn:
    return Turn(services, client, body["team"]["id"], body["user"]["id"], body)


def home_clock_in(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    _then_refresh(
        _turn(body, client, services),
        lambda actor: Reply(clock_message(services.clock.clock_in(actor), services.now())),
        "clockin",
    )


def home_clock_out(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    _then_refresh(_turn(body, client, services), lambda actor: clock_out_reply(services, actor), "clockout")


def home_request_leave(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    open_leave_modal(_turn(body, client, services), body["trigger_id"], None)


def home_link(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    open_link_modal(_turn(body, client, services), body["trigger_id"], None)
