"""``/whosin``: who is clocked in right now, and who is on leave today."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain import Action, Actor
from bot.services import Services
from handlers.render.hours import whos_in_blocks
from handlers.turn import Reply, Turn, slow_notice


def whosin(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    turn = Turn(services, client, command["team_id"], command["user_id"], command, respond)
    ack(text=turn.queue_note())

    def work(actor: Actor) -> Reply:
        report = services.whos_in.whos_in(actor.team_id, actor.user_id).masked(
            show_kind=services.settings.show_leave_kind, sick=services.settings.sick_leave, viewer=actor.user_id,
            admin=actor.is_admin)
        return Reply(f"Who's in now: {len(report.entries)} clocked in",
                     whos_in_blocks(report, actor.tz, show_kind=services.settings.show_leave_kind))

    turn.later(
        work, slow=slow_notice(services.router.label_for(Action.CLOCK)))
