"""``/timeoff [days] [half-start|half-end] [type]``: typed text that says its days and kind is sent
at once (with Undo); otherwise the leave form opens, filled in from what was understood;
``/timeoff list``: the person's upcoming and pending requests."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.parse import InputError
from bot.runtime.services import Services
from bot.usecases.typed_leave import check_kind, read_typed_leave
from handlers.modals import open_leave_modal
from handlers.replies import my_leave_reply
from handlers.turn import Turn
from handlers.typed_leave import send_typed_leave


def timeoff(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    text = (command.get("text") or "").strip()
    turn = Turn(services, client, command["team_id"], command["user_id"], command, respond)
    if text.lower() in {"list", "ls", "mine"}:
        ack()
        turn.later(lambda actor: my_leave_reply(services, actor))
        return
    typed = None
    if text:
        # the person's zone from the cached profile: reading stays on the ack path, without a call
        now, tz = services.now(), services.people.cached_zone(command["team_id"], command["user_id"])
        try:
            read = check_kind(services.leave, read_typed_leave(text, now, tz, services.settings.date_order))
        except InputError as exc:
            ack(text=str(exc))
            return
        if read.clear:
            ack(text=turn.queue_note())
            send_typed_leave(turn, read)
            return
        typed = read.shortcut(now.astimezone(tz).date())
    ack()
    open_leave_modal(turn, command["trigger_id"], command.get("channel_id"), typed)
