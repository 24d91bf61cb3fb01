"""Opening a modal: the ``views.open`` call that must beat the trigger's 3 s, and the one
fallback when Slack refuses it (a message saying so, through the usual answer path)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain import Actor
from bot.parse import LeaveShortcut
from handlers.render.blocks import loading_view, message_view
from handlers.render.leave import leave_form_view
from handlers.render.link import link_view
from handlers.turn import Reply, Turn, describe

log = logging.getLogger(__name__)


def open_view(turn: Turn, trigger_id: str, view: dict[str, Any], again: str) -> tuple[str, str] | None:
    """Open ``view`` (a trigger works once, within 3 s): its id and hash, or None after telling
    the person to try ``again``."""
    try:
        opened = turn.client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        turn.later(lambda _: Reply(f"Slack didn't let me open the form in time. Please try {again}."))
        return None
    return str(opened["view"]["id"]), str(opened["view"].get("hash") or "")


def open_leave_modal(turn: Turn, trigger_id: str, channel_id: str | None, typed: LeaveShortcut | None = None) -> None:
    """Open a loading modal at once (trigger_id lives 3 s), then fill it from the vendor (and what
    was ``typed`` after the command); the update carries the loading view's hash, so it never
    overwrites a view that moved on. Then the public holidays are cached, for the submission's ack
    to check without a vendor call."""
    opened = open_view(turn, trigger_id, loading_view("Request leave"), "`/timeoff` again")
    if opened is None:
        return
    view_id, view_hash = opened
    services = turn.services

    def work(actor: Actor) -> None:
        form = services.leave.leave_form(actor)
        today, metadata = actor.today(services.now()), {"channel": channel_id}
        update_view(turn, view_id, leave_form_view(form, today, metadata, typed), view_hash)
        services.leave.warm_holidays(actor)  # with the form in front of the person: its ack needs them

    def on_error(exc: BaseException) -> None:
        update_view(turn, view_id, message_view("Request leave", describe(exc)), view_hash)

    turn.later(work, on_error=on_error)


def open_link_modal(turn: Turn, trigger_id: str, target: str | None) -> None:
    vendor = turn.services.people.link_vendor()
    meta = {"vendor": vendor.name, "target": target}
    open_view(turn, trigger_id, link_view(vendor.label, vendor.link_fields, meta, for_whom=target), "again")


def update_view(turn: Turn, view_id: str, view: dict[str, Any], view_hash: str | None = None) -> None:
    """Replace a view. ``view_hash``: the hash this update was made against (``hash_conflict``
    when the view changed since; none after a submission, whose view only the bot changes)."""
    try:
        if view_hash:
            turn.client.views_update(view_id=view_id, view=view, hash=view_hash)
        else:
            turn.client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        log.info("views.update failed (the person may have closed it or moved on): %s", exc.response.get("error"))
