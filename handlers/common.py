"""The one pattern every listener follows: ack at once, run the use case on the work pool,
answer through ``response_url`` (or a DM when there is none or it has expired).

A Slack retry or a double click is dropped on the work pool, where the request key is claimed in
the database before any vendor call: the claim is a write, and writes kept off the ack path are
what keeps acks fast in a 9:00 burst."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import Services
from bot.parse import InputError, esc
from bot.progress import Progress, tracking
from bot.signing import VERIFIED, response_url_allowed
from bot.usecases import Actor, UserError
from bot.vendors.base import VendorError
from handlers.blocks import message_view

log = logging.getLogger(__name__)


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def send(client: WebClient, user_id: str, reply: Reply, respond: Respond | None = None) -> None:
    """Ephemeral via ``response_url`` when we have one on Slack's host; a DM when it is missing,
    expired or elsewhere (every caller answers a verified request, so the person is real)."""
    if respond is not None and respond.response_url and not response_url_allowed(respond.response_url,
                                                                                 client.base_url):
        log.warning("refused to post to a response_url outside Slack; answering by DM")
    elif respond is not None and respond.response_url:
        try:
            result = respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral",
                             replace_original=False)
            if result.status_code == 200:
                return
            log.info("response_url answered %s; falling back to a DM", result.status_code)
        except Exception as exc:  # network trouble: the DM below still reaches the person
            log.info("response_url failed (%s); falling back to a DM", type(exc).__name__)
    try:
        client.chat_postMessage(channel=user_id, text=reply.text, blocks=reply.blocks)
    except SlackApiError as exc:
        log.error("could not reach %s by DM either: %s", user_id, exc.response.get("error"))


def request_key(body: Mapping[str, Any]) -> str | None:
    """What stays the same when Slack re-delivers the same request (retries) and differs otherwise."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"evt:{body['event_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"cmd:{body.get('team_id')}:{body['trigger_id']}"
    if body.get("type") == "block_actions" and body.get("trigger_id"):
        return f"act:{body['trigger_id']}"
    if body.get("type") == "view_submission":
        view = body.get("view") or {}
        return f"view:{view.get('id')}:{view.get('hash')}"
    return None


def describe(services: Services, exc: BaseException) -> str:
    """The failure in words for the person, safe to put in mrkdwn: vendor messages can carry
    anything (a project called ``<!everyone>``, a link)."""
    if isinstance(exc, InputError):
        return str(exc)  # built with bot.parse.quote: escaped already
    if not isinstance(exc, VendorError | UserError):
        log.exception("unexpected failure", exc_info=exc)
    return esc(services.bot.explain(exc))  # type: ignore[arg-type]


def later(
    services: Services,
    team_id: str,
    user_id: str,
    client: WebClient,
    work: Callable[[Actor], Reply | None],
    *,
    request: Mapping[str, Any] | None,
    respond: Respond | None = None,
    slow: str | None = None,
    on_slow: Callable[[str], None] | None = None,
    on_error: Callable[[BaseException], Reply | None] | None = None,
) -> None:
    """Run ``work`` after the ack, once per Slack request (``request`` is its body; None only for
    work that is not a person's request); the person always hears back, even when the vendor fails.

    A slow job gets ``slow`` (or ``on_slow(text)``) only once a vendor call has started: before that
    the holdup is ours, and the note says so."""
    key = request_key(request) if request is not None else None
    claimed = threading.Event()  # set once this delivery, not a repeat of it, owns the request
    progress = Progress()

    def job() -> None:
        with tracking(progress):
            run()

    def run() -> None:
        try:
            if key is not None:
                if not services.store.claim_request(key):
                    log.info("ignored a repeated delivery (%s)", key.split(":", 1)[0])
                    return
                claimed.set()
            actor = services.bot.actor(team_id, user_id)
            reply = work(actor)
        except Exception as exc:
            reply = on_error(exc) if on_error else None
            if reply is None and on_error is None:
                reply = Reply(describe(services, exc))
        if reply is not None:
            send(client, user_id, reply, respond)

    def when_slow() -> None:
        if key is not None and not claimed.is_set() and services.store.request_seen(key):
            return  # a repeat still queued behind a burst: whoever claimed the request answers
        text = slow_notice(progress, slow)
        if on_slow is not None:
            on_slow(text)
        elif slow:
            send(client, user_id, Reply(text), respond)

    services.pool.submit(job, when_slow if on_slow is not None or slow else None)


def slow_notice(progress: Progress, vendor_slow: str | None) -> str:
    """The holding note that names what is slow: the vendor (``vendor_slow``) once it was called, else us."""
    if progress.vendor is not None and vendor_slow:
        return vendor_slow
    if progress.vendor is not None:
        return f":hourglass_flowing_sand: {progress.vendor} is slow to answer; I'll tell you as soon as it does."
    if not progress.started:
        return (":hourglass_flowing_sand: I'm slow to answer: many requests came at once and yours is queued. "
                "I'll tell you as soon as it's done.")
    return (":hourglass_flowing_sand: I'm slow to answer: my own database is busy (no vendor has been asked yet). "
            "I'll tell you as soon as it's done.")


def register_error_handler(app: App, services: Services) -> None:
    """A listener that fails still tells the person what happened, in the place they asked,
    and never with a stack trace: ephemeral text for a command, a message view for a modal,
    response_url or a DM otherwise."""

    @app.middleware
    def only_slack_response_urls(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """Listeners never see a response_url that is not Slack's: ``respond`` then has none."""
        if context.response_url and not response_url_allowed(context.response_url, app.client.base_url):
            log.warning("ignored a response_url outside Slack")
            context["response_url"] = None
            context.pop("respond", None)
        return next()

    @app.error
    def on_error(error: Exception, body: dict[str, Any], request: BoltRequest, response: BoltResponse | None,
                 respond: Respond | None, client: WebClient, context: BoltContext) -> BoltResponse | None:
        if not (context.get(VERIFIED) or request.mode == "socket_mode"):
            # Only a request bot.web verified (or one over the authenticated Socket Mode
            # connection) may be answered: anything else could name any person or URL.
            log.info("did not answer a request that was never verified")
            return BoltResponse(status=401, body="")
        if isinstance(error, BoltUnhandledRequestError):
            return _unhandled(body)
        text = describe(services, error)
        user_id = context.user_id

        def tell() -> None:
            if user_id:
                send(client, user_id, Reply(text), respond)

        if response is None:  # the ack has gone already
            services.pool.submit(tell)
            return None
        answered = _ack_saying(body, text)
        if answered is None:
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
