"""``/whosin``: who is clocked in right now, and who is on leave today; ``/whosin #team`` (or
``@group``, ``dept=NAME``, ``everyone``) adds who is not in yet, by each person's own zone."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain import Action, Actor
from bot.parse import InputError, clean_text, quote
from bot.runtime.services import Services
from bot.usecases.scope import Scope, parse_scope
from handlers.render.hours import whos_in_blocks
from handlers.render.morning import morning_blocks
from handlers.turn import Reply, Turn, describe, slow_notice


def whosin(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    raw = (command.get("text") or "").strip()
    try:
        clean_text(raw, what="scope", limit=200)
        scope = _scope(raw, command.get("channel_id"))
    except InputError as exc:
        ack(text=str(exc))
        return
    turn = Turn(services, client, command["team_id"], command["user_id"], command, respond)
    ack(text=turn.queue_note())

    def work(actor: Actor) -> Reply:
        report = services.whos_in.whos_in(actor.team_id, actor.user_id).masked(
            show_kind=services.settings.show_leave_kind,
            sick=services.settings.sick_leave,
            viewer=actor.user_id,
            admin=actor.is_admin,
        )
        return Reply(
            f"Who's in now: {len(report.entries)} clocked in",
            whos_in_blocks(report, actor.tz, show_kind=services.settings.show_leave_kind),
        )

    def morning(actor: Actor) -> Reply:
        assert scope is not None
        report = services.morning.view(actor, scope)
        return Reply(
            f"Who's in: {len(report.clocked_in)} in, {len(report.on_leave)} on leave, {len(report.not_in)} not in yet",
            morning_blocks(report, actor.tz, show_kind=services.settings.show_leave_kind),
        )

    if scope is None:
        turn.later(work, slow=slow_notice(services.router.label_for(Action.CLOCK)))
    else:
        turn.later(
            morning,
            slow=slow_notice(services.router.label_for(Action.CLOCK)),
            on_error=lambda exc: Reply(describe(exc, reading=True)),
        )


def _scope(text: str, channel: str | None) -> Scope | None:
    if not text:
        return None
    words = text.split()
    if len(words) > 1:
        raise InputError("Name one team: `#channel`, `@group`, `dept=NAME` or `everyone`.")
    if words[0].lower() in {"everyone", "all"}:
        return Scope()
    found = parse_scope(words[0], channel)
    if found is None:
        raise InputError(
            f"I don't know the team {quote(words[0][:40])}: use `#channel`, `@group`, `dept=NAME` or `everyone`."
        )
    return found
