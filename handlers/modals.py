"""Opening a modal: the ``views.open`` call that must beat the trigger's 3 s, and the one
fallback when Slack refuses it (a message saying so, through the usual answer path)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.domain import Actor
from handlers.render import blocks
from handlers.turn import Reply, Turn, describe

log = logging.getLogger(__name__)


def open_view(turn: Turn, trigger_id: str, view: dict[str, Any], again: str) -> str | None:
    """Open ``view``; its id, or None after telling the person to try ``again``."""
    try:
        opened = turn.client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        turn.later(lambda _: Reply(f"Slack didn't let me open the form in time. Please try {again}."))
        return None
    return str(opened["view"]["id"])


def open_leave_modal(turn: Turn, trigger_id: str, channel_id: str | None) -> None:
    """Open a loading modal at once (trigger_id lives 3 s), then fill it from the vendor."""
    view_id = open_view(turn, trigger_id, blocks.loading_view("Request leave"), "`/timeoff` again")
    if view_id is None:
        return
    services, client = turn.services, turn.client

    def work(actor: Actor) -> None:
        form = services.leave.leave_form(actor)
        client.views_update(view_id=view_id, view=blocks.leave_view(form, actor.today(services.now()),
                                                                     {"channel": channel_id}))

    def on_error(exc: BaseException) -> None:
        client.views_update(view_id=view_id, view=blocks.message_view("Request leave", describe(exc)))

    turn.later(work, on_error=on_error)


def open_link_modal(turn: Turn, trigger_id: str, target: str | None) -> None:
    vendor = turn.services.people.link_vendor()
    meta = {"vendor": vendor.name, "target": target}
    open_view(turn, trigger_id, blocks.link_view(vendor.label, vendor.link_fields, meta, for_whom=target), "again")


def update_view(turn: Turn, view_id: str, view: dict[str, Any]) -> None:
    try:
        turn.client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        log.info("views.update failed (the person may have closed it): %s", exc.response.get("error"))
