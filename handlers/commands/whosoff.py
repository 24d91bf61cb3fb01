"""``/whosoff [period] [#channel | @group | dept=NAME]``: names, never mentions (docs/using.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot import formatting as fmt
from bot.domain import Action, Actor
from bot.parse import LAST_WORKING_WEEKDAY, InputError, clean_text, parse_period, working_week
from bot.runtime.services import Services
from bot.usecases.scope import Scope, parse_scope
from handlers.render.blocks import context
from handlers.render.whos_off import whos_off_blocks
from handlers.turn import Reply, Turn, describe, slow_notice


def whosoff(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    raw = command.get("text") or ""
    try:
        clean_text(raw, what="period", limit=200)
        text, scope = split_scope(raw)
        parse_period(text, datetime.now(UTC).date())  # syntax only; the person's own today comes next
    except InputError as exc:
        ack(text=str(exc))
        return
    turn = Turn(services, client, command["team_id"], command["user_id"], command, respond)
    ack(text=turn.queue_note())

    def work(actor: Actor) -> Reply:
        start, end = parse_period(text, actor.today(services.now()))
        weekend = ""
        if start == end and start.weekday() > LAST_WORKING_WEEKDAY:  # a weekend day: nobody is "off" then
            weekend = f"{fmt.day(start)} is a weekend, so here is the next working day."
            start = end = working_week(start)[0]
        report = services.whos_off.whos_off(actor.team_id, start, end, scope).masked(
            show_kind=services.settings.show_leave_kind,
            sick=services.settings.sick_leave,
            viewer=actor.user_id,
            admin=actor.is_admin,
        )
        rendered = whos_off_blocks(report, show_kind=services.settings.show_leave_kind)
        if weekend:
            rendered.insert(0, context(weekend))
        period = fmt.day_range(start, end)
        return Reply(f"Who's off: {period}", rendered)

    turn.later(
        work,
        slow=slow_notice(services.router.label_for(Action.WHOS_OFF)),
        on_error=lambda exc: Reply(describe(exc, reading=True)),
    )  # only reads: nothing to reassure about


def split_scope(text: str) -> tuple[str, Scope]:
    """The period words and the scope (a channel's members, a user group, a department)."""
    words, scope = [], Scope()
    for token in text.split():
        found = parse_scope(token) if token.lower() != "members" else None
        if found is None:
            words.append(token)
        else:
            scope = found
    return " ".join(words), scope
