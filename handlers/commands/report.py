"""``/timebot report hours|absence <period> [#channel | @group | dept=NAME | everyone]``: the CSV
comes to the person's DM; the answer here says so."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_bolt import Ack

from bot.domain import Action, Actor
from bot.parse import InputError, quote
from bot.usecases.reports import KINDS, REPORT_HELP, parse_report_period
from bot.usecases.scope import Scope, parse_scope
from handlers.turn import Reply, describe, slow_notice

if TYPE_CHECKING:
    from handlers.turn import Turn

USAGE = f"Use `/timebot report hours|absence <period> [#channel|@group|dept=NAME]`, the period one of {REPORT_HELP}."


def report(turn: Turn, args: list[str], ack: Ack) -> None:
    services = turn.services
    if not args or args[0].lower() not in KINDS:
        raise InputError(USAGE)
    kind = args[0].lower()
    words, scope = [], Scope()
    for token in args[1:]:
        found = Scope() if token.lower() == "everyone" else parse_scope(token)
        if found is None:
            words.append(token)
        else:
            scope = found
    period = " ".join(words)
    if not period:
        raise InputError(USAGE)
    parse_report_period(period, datetime.now(UTC).date())  # syntax only; the person's today comes next
    ack(text=turn.queue_note())
    reports = services.reports

    def work(actor: Actor) -> Reply:
        start, end = parse_report_period(period, actor.today(services.now()))
        built = reports.build(actor, actor.team_id, kind, start, end, scope, actor.tz)
        reports.upload(actor, built)
        notes = "".join(f"\n_{n}_" for n in built.notes)
        return Reply(
            f"Your {kind} report ({built.people} people, {start.isoformat()} to {end.isoformat()}) is in "
            f"your DM with Timebot as {quote(built.filename)}.{notes}"
        )

    action = Action.HOURS if kind == "hours" else Action.WHOS_OFF
    turn.later(
        work,
        slow=slow_notice(services.router.label_for(action)),
        on_error=lambda exc: Reply(describe(exc, reading=True)),
    )
