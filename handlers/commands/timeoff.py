"""``/timeoff``: the leave form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.services import Services
from handlers.modals import open_leave_modal
from handlers.turn import Turn


def timeoff(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    ack()
    turn = Turn(services, client, command["team_id"], command["user_id"], command, respond)
    open_leave_modal(turn, command["trigger_id"], command.get("channel_id"))
