"""Events."""

from __future__ import annotations

from slack_bolt import App

from handlers.events.away_status import app_uninstalled, tokens_revoked
from handlers.events.home import home_opened
from handlers.events.profile import user_changed


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
    app.event("tokens_revoked")(tokens_revoked)
    app.event("app_uninstalled")(app_uninstalled)
    app.event("user_change")(user_changed)
