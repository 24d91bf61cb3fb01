"""The buttons of "your leave": Cancel (Block Kit ``confirm`` asks first) and paging."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain import Actor
from bot.parse import LeaveShortcut
from bot.runtime.services import Services
from handlers.app_home import publish_home
from handlers.modals import open_leave_modal
from handlers.render.leave import cancelled_blocks
from handlers.replies import my_leave_reply
from handlers.turn import Reply, Turn, describe


def _request_id(body: dict[str, Any]) -> str:
    try:
        value = json.loads(body["actions"][0].get("value") or "{}")
    except (ValueError, KeyError, IndexError):
        return ""
    return str(value.get("id") or "")[:128] if isinstance(value, dict) else ""


def leave_cancel(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    ack()
    turn = Turn(services, client, body["team"]["id"], body["user"]["id"], body, respond)
    request_id = _request_id(body)
    in_home = (body.get("container") or {}).get("type") == "view"

    def work(actor: Actor) -> Reply:
        if not request_id:
            return Reply("That button didn't say which request to cancel.")
        done = services.followup.cancel(actor, request_id)
        if in_home:
            publish_home(services, client, actor)
            return Reply(done)
        listed = my_leave_reply(services, actor)
        return Reply(done, cancelled_blocks(done, listed.blocks or []))

    turn.later(work, on_error=lambda exc: Reply(describe(exc)), durable=("cancel", {"request_id": request_id}))


def leave_undo(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    """Undo, under leave just sent from typed text: the same cancel as the list's Cancel button."""
    ack()
    turn = Turn(services, client, body["team"]["id"], body["user"]["id"], body, respond)
    request_id = _request_id(body)

    def work(actor: Actor) -> Reply:
        if not request_id:
            return Reply("That button didn't say which request to undo.")
        return Reply(services.followup.cancel(actor, request_id))

    turn.later(work, on_error=lambda exc: Reply(describe(exc)), durable=("cancel", {"request_id": request_id}))


def leave_page(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    ack()
    turn = Turn(services, client, body["team"]["id"], body["user"]["id"], body, respond)
    try:
        page = max(0, int(body["actions"][0].get("value") or 0))
    except (ValueError, KeyError, IndexError):
        page = 0
    turn.later(lambda actor: my_leave_reply(services, actor, page))


def open_typed_form(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    """The "Open the form" button: the leave form filled in as the text was read."""
    ack()
    turn = Turn(services, client, body["team"]["id"], body["user"]["id"], body, respond)
    try:
        value = json.loads(body["actions"][0].get("value") or "{}")
        shortcut = LeaveShortcut(
            date.fromisoformat(value["start"]),
            date.fromisoformat(value["end"]),
            bool(value.get("half_start")),
            bool(value.get("half_end")),
            str(value.get("kind") or "")[:60],
            "Pick the type of leave.",
        )
    except (ValueError, KeyError, IndexError, TypeError):
        shortcut = None
    channel = (body.get("channel") or {}).get("id")
    open_leave_modal(turn, body["trigger_id"], channel, shortcut)
