"""Failures no listener caught, and Slack traffic nothing listens for: the person still hears
what happened, in the place they asked, and never a stack trace."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse, Respond
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient

from bot.services import Services
from handlers.render.blocks import message_view
from handlers.turn import Reply, describe, send

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.error(on_error)


def on_error(error: Exception, body: dict[str, Any], response: BoltResponse | None, respond: Respond | None,
             client: WebClient, context: BoltContext) -> BoltResponse | None:
    """Ephemeral text for a command, a message view for a modal, response_url or a DM otherwise."""
    if isinstance(error, BoltUnhandledRequestError):
        return _unhandled(body)
    services: Services | None = context.get("services")
    text = describe(error)
    user_id = context.user_id

    def tell() -> None:
        if user_id:
            send(client, user_id, Reply(text), respond)

    if response is None:  # the ack has gone already
        if services is not None:
            services.pool.submit(tell)
        return None
    answered = _ack_saying(body, text)
    if answered is None and services is not None:
        services.pool.submit(tell)
    return answered or BoltResponse(status=200, body="")


def _ack_saying(body: dict[str, Any], text: str) -> BoltResponse | None:
    """An ack that shows ``text`` where the person is looking: the form they submitted, or the
    channel they typed the command in; None for anything else (buttons, events)."""
    if body.get("type") == "view_submission":
        payload: dict[str, Any] = {"response_action": "update", "view": message_view("Timebot", text)}
    elif body.get("command"):
        payload = {"response_type": "ephemeral", "text": text}
    else:
        return None
    return BoltResponse(status=200, body=json.dumps(payload), headers={"Content-Type": "application/json"})


def _unhandled(body: dict[str, Any]) -> BoltResponse:
    """Slack traffic nothing listens for (a button or form from an older version, an event we
    never asked for): a 200, so Slack neither warns the person nor retries, and a plain word
    where the person is looking at a form."""
    kind = body.get("type") or ("command" if body.get("command") else "event")
    log.info("nothing handles this %s; acknowledged", kind)
    text = (f"I don't know `{body.get('command', '')}`. Try `/timebot help`." if kind == "command" else
            "This form is out of date. Close it and start again from the command.")
    return _ack_saying(body, text) or BoltResponse(status=200, body="")
