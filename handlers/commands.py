"""Slash commands: parse the text, ack within Slack's 3 s, hand the work to the use cases."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import Services
from bot.parse import InputError, clean_text, parse_period, parse_user, quote, split_args
from bot.usecases import Actor
from bot.vendors.base import Action
from handlers import blocks
from handlers.common import Reply, describe, later, send

log = logging.getLogger(__name__)

Subcommand = Callable[[Services, dict[str, Any], list[str], Ack, Respond, WebClient], None]
SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(name: str) -> Callable[[Subcommand], Subcommand]:
    """Register a ``/timebot <name>`` handler; feature modules (digests) add their own."""

    def deco(fn: Subcommand) -> Subcommand:
        SUBCOMMANDS[name] = fn
        return fn

    return deco


def register(app: App, services: Services) -> None:
    bot = services.bot

    @app.command("/clockin")
    def clockin(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        try:
            project = clean_text(command.get("text"), what="project name", limit=100)
        except InputError as exc:
            ack(text=str(exc))
            return
        ack()
        later(
            services,
            command["team_id"],
            command["user_id"],
            client,
            lambda actor: Reply(blocks.clock_message(bot.clock_in(actor, project=project), bot.now())),
            request=command,
            respond=respond,
            slow=_slow(services, Action.CLOCK),
        )

    @app.command("/clockout")
    def clockout(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        try:
            note = clean_text(command.get("text"), what="note", limit=300)
        except InputError as exc:
            ack(text=str(exc))
            return
        ack()

        def work(actor: Actor) -> Reply:
            result = bot.clock_out(actor, note=note)
            if result.outcome == "crosses_midnight":
                return Reply(blocks.clock_message(result, bot.now()), blocks.midnight_blocks(result, bot.now()))
            return Reply(blocks.clock_message(result, bot.now()))

        later(
            services,
            command["team_id"],
            command["user_id"],
            client,
            work,
            request=command,
            respond=respond,
            slow=_slow(services, Action.CLOCK),
        )

    @app.command("/timeoff")
    def timeoff(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        open_leave_modal(
            services,
            client,
            command["team_id"],
            command["user_id"],
            command["trigger_id"],
            command.get("channel_id"),
            command,
            respond,
        )

    @app.command("/whosoff")
    def whosoff(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        text = command.get("text") or ""
        try:
            clean_text(text, what="period", limit=100)
            parse_period(text, datetime.now(UTC).date())  # syntax only; the person's own today comes next
        except InputError as exc:
            ack(text=str(exc))
            return
        ack()

        def work(actor: Actor) -> Reply:
            start, end = parse_period(text, actor.today(bot.now()))
            report = bot.whos_off(actor.team_id, start, end)
            rendered = blocks.whos_off_blocks(report, show_kind=services.settings.show_leave_kind)
            period = blocks.fmt_day(start) if start == end else f"{blocks.fmt_day(start)} to {blocks.fmt_day(end)}"
            return Reply(f"Who's off: {period}", rendered)

        later(
            services,
            command["team_id"],
            command["user_id"],
            client,
            work,
            request=command,
            respond=respond,
            slow=_slow(services, Action.WHOS_OFF),
        )

    @app.command("/timebot")
    def timebot(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        args = split_args(command.get("text"))
        name = args[0].lower() if args else "help"
        handler = SUBCOMMANDS.get(name)
        if handler is None:
            ack(text=f"I don't know `/timebot {blocks.esc(name[:30])}`.\n\n{blocks.HELP}")
            return
        try:
            handler(services, command, args[1:], ack, respond, client)
        except InputError as exc:
            ack(text=str(exc))


def _slow(services: Services, action: Action) -> str:
    vendor = services.bot.router.maybe(action)
    label = vendor.label if vendor else "the vendor"
    return f":hourglass_flowing_sand: {label} is slow to answer; I'll tell you here as soon as it does."


def open_leave_modal(
    services: Services,
    client: WebClient,
    team_id: str,
    user_id: str,
    trigger_id: str,
    channel_id: str | None,
    request: dict[str, Any],
    respond: Respond | None = None,
) -> None:
    """Open a loading modal at once (trigger_id lives 3 s), then fill it from the vendor."""
    try:
        opened = client.views_open(trigger_id=trigger_id, view=blocks.loading_view("Request leave"))
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        later(
            services,
            team_id,
            user_id,
            client,
            lambda _: Reply("Slack didn't let me open the form in time. Please try `/timeoff` again."),
            request=request,
            respond=respond,
        )
        return
    view_id = opened["view"]["id"]
    bot = services.bot

    def work(actor: Actor) -> None:
        form = bot.leave_form(actor)
        meta = {"channel": channel_id}
        client.views_update(view_id=view_id, view=blocks.leave_view(form, actor.today(bot.now()), meta))

    def on_error(exc: BaseException) -> None:
        client.views_update(view_id=view_id, view=blocks.message_view("Request leave", describe(services, exc)))

    later(services, team_id, user_id, client, lambda actor: work(actor), request=request, on_error=on_error)


def open_link_modal(
    services: Services,
    client: WebClient,
    command: dict[str, Any],
    trigger_id: str,
    target: str | None,
    respond: Respond | None,
) -> None:
    bot = services.bot
    vendor = bot.link_vendor()
    meta = {"vendor": vendor.name, "target": target}
    try:
        client.views_open(
            trigger_id=trigger_id, view=blocks.link_view(vendor.label, vendor.link_fields, meta, for_whom=target)
        )
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        later(
            services,
            command["team_id"],
            command["user_id"],
            client,
            lambda _: Reply("Slack didn't let me open the form in time. Please try again."),
            request=command,
            respond=respond,
        )


@subcommand("help")
def _help(
    services: Services, command: dict[str, Any], args: list[str], ack: Ack, respond: Respond, client: WebClient
) -> None:
    ack(text=blocks.HELP)


@subcommand("link")
def _link(
    services: Services, command: dict[str, Any], args: list[str], ack: Ack, respond: Respond, client: WebClient
) -> None:
    bot = services.bot
    target = parse_user(args[0]) if args else None
    vendor_user_id = clean_text(args[1], what="vendor id", limit=64) if len(args) > 1 else None
    vendor_name = args[2].lower() if len(args) > 2 else None
    if vendor_name and vendor_name not in bot.router.vendors:
        raise InputError(f"No vendor called {quote(vendor_name)} is configured here.")
    if target and vendor_user_id:
        ack()
        later(
            services,
            command["team_id"],
            command["user_id"],
            client,
            lambda actor: Reply(
                f"Linked <@{target}> to {bot.admin_link(actor, target, vendor_user_id, vendor_name).label} "
                f"user {blocks.esc(vendor_user_id)}."
            ),
            request=command,
            respond=respond,
        )
        return
    vendor = bot.link_vendor()
    if vendor.link_fields:
        ack()  # who is asking may take a users.info call: after the ack, within the trigger's 3 s
        if target and target != command["user_id"]:
            actor = bot.actor(command["team_id"], command["user_id"])
            if not bot.is_admin(actor):
                log.warning("refused admin-only link for %s", actor.user_id)
                bot.audit(actor.team_id, actor.user_id, "-", "link", "refused", "not an admin")
                send(client, actor.user_id, Reply("Only Timebot admins can link someone else."), respond)
                return
        open_link_modal(services, client, command, command["trigger_id"], target, respond)
        return
    ack()

    def by_email(actor: Actor) -> Reply:
        vendor_user = bot.identity(actor, vendor)
        return Reply(
            f"You're linked to {vendor.label} as user {blocks.esc(vendor_user.vendor_user_id)} "
            "(matched by your Slack email)."
        )

    later(services, command["team_id"], command["user_id"], client, by_email, request=command, respond=respond)


@subcommand("unlink")
def _unlink(
    services: Services, command: dict[str, Any], args: list[str], ack: Ack, respond: Respond, client: WebClient
) -> None:
    target = parse_user(args[0]) if args else None
    ack()

    def work(actor: Actor) -> Reply:
        removed = services.bot.unlink(actor, target)
        who = f"<@{target}>" if target else "You"
        if not removed:
            return Reply(f"{who} had no linked accounts.")
        return Reply(f"{who} {'are' if not target else 'is'} unlinked; any stored keys were deleted.")

    later(services, command["team_id"], command["user_id"], client, work, request=command, respond=respond)


@subcommand("status")
def _status(
    services: Services, command: dict[str, Any], args: list[str], ack: Ack, respond: Respond, client: WebClient
) -> None:
    ack()
    bot = services.bot
    later(
        services,
        command["team_id"],
        command["user_id"],
        client,
        lambda actor: Reply(blocks.status_text(bot.status(actor), actor.tz, bot.now())),
        request=command,
        respond=respond,
        slow=_slow(services, Action.CLOCK),
    )


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
