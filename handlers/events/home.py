"""The App Home tab: published when the person opens it, and after each Home button."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.domain import Actor
from bot.services import Services
from handlers.render import blocks
from handlers.render.status import status_section
from handlers.turn import Turn

log = logging.getLogger(__name__)


def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient, services: Services) -> None:
    if event.get("tab", "home") != "home":
        return
    team_id = body.get("team_id") or event.get("view", {}).get("team_id", "")
    Turn(services, client, team_id, event["user"], body).later(
        lambda actor: publish_home(services, client, actor),
        on_error=lambda exc: log.warning("home tab not published: %s", exc))


def publish_home(services: Services, client: WebClient, actor: Actor) -> None:
    state = services.home.home(actor)
    view = blocks.home_view(state, actor.tz, services.now())
    if services.leave_status is not None:
        view["blocks"] += status_section(services.leave_status.connected(actor.team_id, actor.user_id),
                                         services.status_connect_url, services.status_missing)
    client.views_publish(user_id=actor.user_id, view=view)
