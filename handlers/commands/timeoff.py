"""``/timeoff [days] [half-start|half-end] [type]``: the leave form, filled in from what was typed;
``/timeoff list``: the person's upcoming and pending requests."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.parse import InputError, parse_timeoff
from bot.runtime.services import Services
from handlers.modals import open_leave_modal
from handlers.replies import my_leave_reply
from handlers.turn import Turn


def timeoff(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    text = (command.get("text") or "").strip()
    turn = Turn(services, client, command["team_id"], command["user_id"], command, respond)
    if text.lower() in {"list", "ls", "mine"}:
        ack()
        turn.later(lambda actor: my_leave_reply(services, actor))
        return
    typed = None
    if text:
        # the person's today from the cached profile: parsing stays on the ack path, without a call
        today = services.now().astimezone(services.people.cached_zone(command["team_id"], command["user_id"])).date()
        try:
            typed = parse_timeoff(text, today)
        except InputError as exc:
            ack(text=str(exc))
            return
    ack()
    open_leave_modal(turn, command["trigger_id"], command.get("channel_id"), typed)
