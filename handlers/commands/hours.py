"""``/timebot hours [today|week|last week|YYYY-MM-DD..YYYY-MM-DD]``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_bolt import Ack

from bot.domain import Action, Actor
from bot.usecases.hours import parse_hours_period
from handlers.render.hours import hours_blocks, hours_title
from handlers.turn import Reply, slow_notice

if TYPE_CHECKING:
    from handlers.turn import Turn


def hours(turn: Turn, args: list[str], ack: Ack) -> None:
    text = " ".join(args)
    parse_hours_period(text, datetime.now(UTC).date())  # syntax only (InputError is answered in the ack)
    ack(text=turn.queue_note())
    services = turn.services

    def work(actor: Actor) -> Reply:
        start, end = parse_hours_period(text, actor.today(services.now()))
        report = services.hours.hours(actor, start, end)
        return Reply(hours_title(report), hours_blocks(report))

    turn.later(work, slow=slow_notice(services.router.label_for(Action.CLOCK)))
