"""``/timebot help|link|unlink|status|digest``: parsed at once (bad input is answered in the
ack), then one use case after the ack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.domain import Action, Actor
from bot.errors import NotLinked, UserError
from bot.parse import InputError, clean_text, esc, parse_user, quote, split_args
from bot.runtime.services import Services
from handlers.commands.calendar import calendar
from handlers.commands.digest import digest
from handlers.commands.hours import hours
from handlers.commands.report import report
from handlers.modals import open_link_modal
from handlers.render import leave
from handlers.render.help import HELP
from handlers.render.status_report import status_text
from handlers.turn import Reply, Turn, slow_notice

log = logging.getLogger(__name__)

Subcommand = Callable[[Turn, list[str], Ack], None]


def timebot(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    args = split_args(command.get("text"))
    name = args[0].lower() if args else "help"
    handler = SUBCOMMANDS.get(name)
    if handler is None:
        ack(text=f"I don't know `/timebot {esc(name[:30])}`.\n\n{HELP}")
        return
    try:
        handler(Turn(services, client, command["team_id"], command["user_id"], command, respond), args[1:], ack)
    except InputError as exc:
        ack(text=str(exc))


def help_(turn: Turn, args: list[str], ack: Ack) -> None:
    ack(text=HELP)


def link(turn: Turn, args: list[str], ack: Ack) -> None:
    people = turn.services.people
    target = parse_user(args[0]) if args else None
    vendor_user_id = clean_text(args[1], what="vendor id", limit=64) if len(args) > 1 else None
    vendor_name = args[2].lower() if len(args) > 2 else None
    if vendor_name and people.link_target(vendor_name) is None:
        raise InputError(f"No vendor called {quote(vendor_name)} is configured here.")
    if target and vendor_user_id:
        ack()
        turn.later(
            lambda actor: Reply(
                f"Linked <@{target}> to {people.admin_link(actor, target, vendor_user_id, vendor_name).label} "
                f"user {esc(vendor_user_id)}."
            )
        )
        return
    vendor = people.link_vendor()
    if vendor.link_fields:
        ack()  # who is asking may take a users.info call: after the ack, within the trigger's 3 s
        if target and target != turn.user_id:
            try:
                people.require_admin(
                    people.actor(turn.team_id, turn.user_id), "link", "Only Timebot admins can link someone else."
                )
            except UserError as exc:
                turn.send(Reply(exc.message))
                return
        assert turn.request is not None
        open_link_modal(turn, turn.request["trigger_id"], target)
        return
    ack()

    def by_email(actor: Actor) -> Reply:
        if target and target != actor.user_id:  # an admin asking about someone: their match, not the admin's
            people.require_admin(actor, "link", "Only Timebot admins can link someone else.")
            try:
                vendor_user = people.identity(people.actor(actor.team_id, target), vendor)
            except NotLinked:
                return Reply(
                    f"I couldn't find <@{target}> in {vendor.label} by their Slack email. Give their "
                    f"{vendor.label} id: `/timebot link @them ID`."
                )
            return Reply(
                f"<@{target}> is linked to {vendor.label} as user {esc(vendor_user.vendor_user_id)} "
                "(matched by their Slack email). To link them to another account: "
                "`/timebot link @them ID`."
            )
        vendor_user = people.identity(actor, vendor)
        return Reply(
            f"You're linked to {vendor.label} as user {esc(vendor_user.vendor_user_id)} (matched by your Slack email)."
        )

    turn.later(by_email)


def unlink(turn: Turn, args: list[str], ack: Ack) -> None:
    target = parse_user(args[0]) if args else None
    ack()

    def work(actor: Actor) -> Reply:
        removed = turn.services.people.unlink(actor, target)
        who = f"<@{target}>" if target else "You"
        if not removed:
            return Reply(f"{who} had no linked accounts.")
        return Reply(f"{who} {'are' if not target else 'is'} unlinked; any stored keys were deleted.")

    turn.later(work)


def status(turn: Turn, args: list[str], ack: Ack) -> None:
    ack(text=turn.queue_note())
    services = turn.services

    def work(actor: Actor) -> Reply:
        text = status_text(services.home.status(actor), actor.tz, services.now())
        lines = leave.balance_lines(services.followup.balances(actor)) if services.followup else []
        return Reply("\n".join([text, *lines]))

    turn.later(work, slow=slow_notice(services.router.label_for(Action.CLOCK)))


SUBCOMMANDS: dict[str, Subcommand] = {
    "help": help_,
    "link": link,
    "unlink": unlink,
    "status": status,
    "digest": digest,
    "hours": hours,
    "calendar": calendar,
    "report": report,
}
