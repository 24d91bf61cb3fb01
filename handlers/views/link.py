"""The link form's submission: what the vendor asks for (a PIN …), exchanged after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.domain import Actor
from bot.parse import esc
from bot.runtime.services import Services
from handlers.modals import update_view
from handlers.payload import metadata, value
from handlers.render.blocks import loading_view, message_view
from handlers.render.link import link_view
from handlers.turn import Turn, describe


def link_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    meta = metadata(view)
    vendor = services.people.link_target(meta.get("vendor"))
    if vendor is None:
        ack(response_action="update", view=message_view("Link", "That vendor is no longer configured."))
        return
    fields: dict[str, str] = {}
    errors: dict[str, str] = {}
    for f in vendor.link_fields:
        typed = (value(view.get("state", {}), f"link_{f.name}") or "").strip()
        if not typed:
            errors[f"link_{f.name}"] = f"Enter your {f.label}."
        fields[f.name] = typed
    if errors:
        ack(response_action="errors", errors=errors)
        return
    view_id = view["id"]
    target = meta.get("target")
    ack(response_action="update", view=loading_view(f"Link {vendor.label}", f"Checking with {vendor.label}…"))
    turn = Turn(services, client, body["team"]["id"], body["user"]["id"], body)

    def work(actor: Actor) -> None:
        linked = services.people.link(actor, vendor.name, fields, target)
        who = f"<@{target}> is" if target and target != actor.user_id else "You're"
        update_view(
            turn,
            view_id,
            message_view(
                f"Link {vendor.label}",
                f":white_check_mark: {who} linked to {linked.label} as {esc(linked.who)}.",
            ),
        )

    def on_error(exc: BaseException) -> None:
        update_view(
            turn,
            view_id,
            link_view(vendor.label, vendor.link_fields, meta, error=describe(exc), for_whom=target),
        )

    # The intake keeps which link was under way, never what was typed (a PIN): after a crash the
    # person is told it wasn't finished and asked to link again (handlers/resume.py).
    turn.later(work, on_error=on_error, durable=("link", {"vendor": vendor.name, "view_id": view_id}))
