"""Failures no listener caught, and Slack traffic nothing listens for: the person still hears
what happened, in the place they asked, and never a stack trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient

from bot.runtime.services import Services
from bot.slack.signing import VERIFIED, response_url_allowed
from handlers.render.blocks import message_view
from handlers.turn import Reply, describe, send

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.middleware(only_slack_response_urls)
    app.error(on_error)


def only_slack_response_urls(
    context: BoltContext, client: WebClient, next: Callable[[], BoltResponse]
) -> BoltResponse | None:
    """Listeners never see a response_url that is not Slack's: ``respond`` then has none."""
    if context.response_url and not response_url_allowed(context.response_url, client.base_url):
        log.warning("ignored a response_url outside Slack")
        context["response_url"] = None
        context.pop("respond", None)
    return next()


def on_error(
    error: Exception,
    body: dict[str, Any],
    request: BoltRequest,
    response: BoltResponse | None,
    respond: Respond | None,
    client: WebClient,
    context: BoltContext,
) -> BoltResponse | None:
    """Ephemeral text for a command, a message view for a modal, response_url or a DM otherwise."""
    if not (context.get(VERIFIED) or request.mode == "socket_mode"):
        # Only a request bot.runtime.web verified (or one over the authenticated Socket Mode
        # connection) may be answered: anything else could name any person or URL.
        log.info("did not answer a request that was never verified")
        return BoltResponse(status=401, body="")
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
    text = (
        f"I don't know `{body.get('command', '')}`. Try `/timebot help`."
        if kind == "command"
        else "This form is out of date. Close it and start again from the command."
    )
    return _ack_saying(body, text) or BoltResponse(status=200, body="")
