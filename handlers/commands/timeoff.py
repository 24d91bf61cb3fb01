"""``/timeoff``: the leave form; ``/timeoff list``: the person's upcoming and pending requests."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain import Actor
from bot.services import Services
from handlers.modals import open_leave_modal
from handlers.render import leave
from handlers.turn import Reply, Turn


def timeoff(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    ack()
    turn = Turn(services, client, command["team_id"], command["user_id"], command, respond)
    if (command.get("text") or "").strip().lower() in {"list", "ls", "mine"}:
        turn.later(lambda actor: my_leave_reply(services, actor))
        return
    open_leave_modal(turn, command["trigger_id"], command.get("channel_id"))


def my_leave_reply(services: Services, actor: Actor, page: int = 0) -> Reply:
    followup = services.followup
    assert followup is not None
    blocks = leave.my_leave_blocks(followup.my_leave(actor), page, followup.balances(actor))
    return Reply("Your leave", blocks)
