"""Ending a session from a forgotten-clock-out reminder and saying so in the reminder itself:
shared by its "Clock out now" button and its "I left at…" form (and the nudge's "Clock in")."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain import Actor
from handlers.render.hygiene import outcome_message
from handlers.turn import Reply, Turn

log = logging.getLogger(__name__)


def update_reminder(turn: Turn, meta: dict[str, Any], text: str, blocks_: list[dict[str, Any]]) -> Reply | None:
    """Say it in the reminder itself; a reply (DM) only when that can't be done."""
    channel, ts = meta.get("channel"), meta.get("ts")
    if channel and ts:
        try:
            turn.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks_)
            return None
        except SlackApiError as exc:
            log.info("chat.update of the reminder failed: %s", exc.response.get("error"))
    return Reply(text)


def end_from_reminder(turn: Turn, meta: dict[str, Any], at: Any = None) -> None:
    services = turn.services

    def work(actor: Actor) -> Reply | None:
        outcome = services.hygiene.end_session(actor, meta["watch"], at=at)
        if outcome.outcome == "already_done":
            return None  # a second click: the first one's answer stands
        text, blocks_ = outcome_message(outcome, services.now())
        # the reminder as recorded when it was sent, not where the click says it is: a payload
        # names its message itself, and only the bot's own DM to this person may be edited
        watch = services.hygiene.watched_session(actor, meta["watch"])
        sent = {"channel": watch.channel_id, "ts": watch.message_ts} if watch is not None else {}
        return update_reminder(turn, sent, text, blocks_)

    turn.later(work)
