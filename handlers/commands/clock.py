"""``/clockin [project]`` and ``/clockout [note]``."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain import Action
from bot.parse import InputError, clean_text
from bot.runtime.services import Services
from handlers.render.clock import clock_message
from handlers.replies import clock_out_reply
from handlers.turn import Reply, Turn, slow_notice


def clockin(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    try:
        project = clean_text(command.get("text"), what="project name", limit=100)
    except InputError as exc:
        ack(text=str(exc))
        return
    turn = Turn(services, client, command["team_id"], command["user_id"], command, respond)
    turn.intake_before_ack("clockin", {"project": project})
    ack(text=turn.queue_note())
    turn.later(
        lambda actor: Reply(clock_message(services.clock.clock_in(actor, project=project), services.now())),
        slow=slow_notice(services.router.label_for(Action.CLOCK)),
        durable=("clockin", {"project": project}),
    )


def clockout(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    try:
        note = clean_text(command.get("text"), what="note", limit=300)
    except InputError as exc:
        ack(text=str(exc))
        return
    turn = Turn(services, client, command["team_id"], command["user_id"], command, respond)
    ack(text=turn.queue_note())
    turn.later(
        lambda actor: clock_out_reply(services, actor, note),
        slow=slow_notice(services.router.label_for(Action.CLOCK)),
        durable=("clockout", {"note": note}),
    )
