"""The one pattern every listener follows: ack at once, run the use case on the work pool
(``Turn.later``), answer through ``response_url`` (or a DM when there is none or it has expired).

A Slack retry or a double click is dropped on the work pool, where the request key is claimed in
the database before any vendor call: the claim is a write, and writes kept off the ack path are
what keeps acks fast in a 9:00 burst. An action that must survive a crash (``durable``) is handed
to the intake (bot/runtime/intake.py) instead: its row, written with a group just after the ack, is the claim,
and another process finishes it if this one dies."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import Actor
from bot.errors import UserError, VendorError, explain
from bot.parse import InputError, esc
from bot.runtime.intake import Ticket, current_key
from bot.runtime.services import Services
from bot.slack.signing import response_url_allowed
from bot.telemetry.progress import Progress, tracking

log = logging.getLogger(__name__)


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def send(client: WebClient, user_id: str, reply: Reply, respond: Respond | None = None) -> None:
    """Ephemeral via ``response_url`` when we have one on Slack's host; a DM when it is missing,
    expired or elsewhere (every caller answers a verified request, so the person is real)."""
    if respond is not None and respond.response_url and not response_url_allowed(respond.response_url, client.base_url):
        log.warning("refused to post to a response_url outside Slack; answering by DM")
    elif respond is not None and respond.response_url:
        try:
            result = respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)
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
        # Slack re-hashes a view only when the app opens or updates it, not after an ``errors``
        # ack: a corrected form comes back with the same id and hash, but different values.
        view = body.get("view") or {}
        return f"view:{view.get('id')}:{view.get('hash')}:{_digest((view.get('state') or {}).get('values'))}"
    return None


def _digest(values: object) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def describe(exc: BaseException, *, reading: bool = False) -> str:
    """The failure in words for the person, safe to put in mrkdwn: vendor messages can carry
    anything (a project called ``<!everyone>``, a link). ``reading``: a request that changes nothing."""
    if isinstance(exc, InputError):
        return str(exc)  # built with bot.parse.quote: escaped already
    if not isinstance(exc, VendorError | UserError):
        log.exception("unexpected failure", exc_info=exc)
    return esc(explain(exc, reading=reading))


@dataclass
class Turn:
    """One person's request, as every listener hands it on: who asked, where to answer, and the
    delivery's body (its key drops Slack's retries)."""

    services: Services
    client: WebClient
    team_id: str
    user_id: str
    request: Mapping[str, Any] | None  # None only for work that is not a person's request
    respond: Respond | None = None
    noted: bool = False  # the ack already told the person their request is queued
    ticket: Ticket | None = None  # the intake's, when it was written before the ack

    def intake_before_ack(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Where the intake runs in "before the ack" mode (``Intake.before_ack``, bench/ack.py
        measures it): write the action with its group now, so that the ack means it is durable.
        The default writes it just after the ack (``later``); bench/README.md says why."""
        intake = self.services.intake
        key = request_key(self.request) if self.request is not None else None
        if intake is None or not intake.before_ack or key is None:
            return
        ticket = intake.accept(
            kind,
            self.team_id,
            self.user_id,
            key,
            payload,
            self.respond.response_url if self.respond is not None else None,
        )
        with contextlib.suppress(Exception):  # not written (yet): the job waits for it as in the default mode
            ticket.owned(timeout=2.0)
        self.ticket = ticket

    def queue_note(self) -> str:
        """Text for a slash command's ack when the request will wait in a queue ("" when it won't).

        In a 9:00 burst every request would otherwise get the watchdog's holding note 2.5 s
        later, a Slack call each at the busiest moment; in the ack it is free and immediate."""
        if not self.services.pool.queued():
            return ""
        self.noted = True
        return QUEUED

    def send(self, reply: Reply) -> None:
        send(self.client, self.user_id, reply, self.respond)

    def later(
        self,
        work: Callable[[Actor], Reply | None],
        *,
        slow: str | None = None,
        on_slow: Callable[[str], None] | None = None,
        on_error: Callable[[BaseException], Reply | None] | None = None,
        durable: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Run ``work`` after the ack, once per Slack request; the person always hears back, even
        when the vendor fails.

        ``durable`` (kind, payload): the action goes into the intake (bot/runtime/intake.py) first, so that
        another process finishes it if this one dies; the intake row is the request's claim too.
        A slow job gets ``slow`` (or ``on_slow(text)``) only once a vendor call has started: before
        that the holdup is ours, and the note says so."""
        services = self.services
        key = request_key(self.request) if self.request is not None else None
        claimed = threading.Event()  # set once this delivery, not a repeat of it, owns the request
        progress = Progress()
        ticket: Ticket | None = self.ticket
        if ticket is None and durable is not None and key is not None:
            ticket = services.intake.accept(
                durable[0],
                self.team_id,
                self.user_id,
                key,
                durable[1],
                self.respond.response_url if self.respond is not None else None,
            )

        def job() -> None:
            token = current_key.set(key)
            try:
                with tracking(progress):
                    run()
            finally:
                current_key.reset(token)

        def run() -> None:
            try:
                if ticket is not None:
                    if not ticket.owned():
                        log.info("ignored a repeated delivery (%s)", key.split(":", 1)[0] if key else "?")
                        return
                    claimed.set()
                elif key is not None:
                    if not services.claim_delivery(key):
                        log.info("ignored a repeated delivery (%s)", key.split(":", 1)[0])
                        return
                    claimed.set()
                actor = services.people.actor(self.team_id, self.user_id)
                reply = work(actor)
            except Exception as exc:
                reply = on_error(exc) if on_error else None
                if reply is None and on_error is None:
                    reply = Reply(describe(exc))
            if reply is not None:
                self.send(reply)
            if ticket is not None and claimed.is_set():
                services.intake.finish(ticket.row_id, "told" if reply is not None else "silent")

        def when_slow() -> None:
            if ticket is not None and ticket.resolved and not claimed.is_set() and ticket.row_id is None:
                return  # a repeat: whoever holds the request answers
            if ticket is None and key is not None and not claimed.is_set() and services.delivery_seen(key):
                return  # a repeat still queued behind a burst: whoever claimed the request answers
            text = holding_note(progress, slow)
            if on_slow is not None:
                on_slow(text)
            elif slow:
                self.send(Reply(text))

        # a slow note only where the ack didn't already say it is queued and the answer comes here
        services.pool.submit(job, when_slow if on_slow is not None or (slow and not self.noted) else None)


def slow_notice(label: str) -> str:
    """What a slow job says once ``label``'s vendor was called (``holding_note`` decides)."""
    return f":hourglass_flowing_sand: {label} is slow to answer; I'll tell you here as soon as it does."


QUEUED = (
    ":hourglass_flowing_sand: Many requests came in at once, so yours is queued. I'll answer here as soon as it's done."
)


def holding_note(progress: Progress, vendor_slow: str | None) -> str:
    """The holding note that names what is slow: the vendor (``vendor_slow``) once it was called, else us."""
    if progress.vendor is not None:
        return vendor_slow or slow_notice(progress.vendor)
    if not progress.started:
        return (
            ":hourglass_flowing_sand: I'm slow to answer: many requests came at once and yours is queued. "
            "I'll tell you as soon as it's done."
        )
    return (
        ":hourglass_flowing_sand: I'm slow to answer: my own database is busy (no vendor has been asked yet). "
        "I'll tell you as soon as it's done."
    )
