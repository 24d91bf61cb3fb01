"""The App Home tab, published when the person opens it (``handlers.app_home``)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.runtime.services import Services
from handlers.app_home import publish_home
from handlers.turn import Turn

log = logging.getLogger(__name__)


def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient, services: Services) -> None:
    if event.get("tab", "home") != "home":
        return
    team_id = body.get("team_id") or event.get("view", {}).get("team_id", "")
    Turn(services, client, team_id, event["user"], body).later(
        lambda actor: publish_home(services, client, actor),
        on_error=lambda exc: log.warning("home tab not published: %s", exc),
    )
