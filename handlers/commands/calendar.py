"""``/timebot calendar [#channel | @group | dept=NAME | everyone]`` and ``/timebot calendar reset``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import Ack

from bot.domain import Actor
from bot.parse import InputError, esc, quote
from bot.usecases.scope import Scope, parse_scope
from handlers.turn import Reply

if TYPE_CHECKING:
    from handlers.turn import Turn

HOW = (
    "Add it in your calendar app as a subscription (Google Calendar: *Other calendars → From URL*; "
    "Outlook: *Add calendar → Subscribe from web*). Keep these links to yourself: anyone with one can read it. "
    "`/timebot calendar reset` stops them all."
)


def calendar(turn: Turn, args: list[str], ack: Ack) -> None:
    calendars = turn.services.calendars
    if args and args[0].lower() == "reset":
        if len(args) > 1:
            raise InputError("`/timebot calendar reset` takes nothing more.")
        ack()
        turn.later(
            lambda actor: Reply(
                f"Your calendar links are revoked ({calendars.reset(actor)}); `/timebot calendar` makes new ones."
            )
        )
        return
    scope = _scope(args)
    ack(text=turn.queue_note())

    def work(actor: Actor) -> Reply:
        links = calendars.links(actor, scope)
        lines = [f"• {esc(link.label)}: {link.url}" for link in links]
        return Reply("*Your calendar links*\n" + "\n".join(lines) + "\n" + HOW)

    turn.later(work)


def _scope(args: list[str]) -> Scope | None:
    if not args:
        return None
    if len(args) > 1:
        raise InputError("Name one scope: `#channel`, `@group`, `dept=NAME` or `everyone`.")
    if args[0].lower() in {"everyone", "all"}:
        return Scope()
    found = parse_scope(args[0])
    if found is None:
        raise InputError(
            f"I don't know the scope {quote(args[0][:40])}: use `#channel`, `@group`, `dept=NAME` or `everyone`."
        )
    return found
