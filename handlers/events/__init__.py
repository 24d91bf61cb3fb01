"""Events."""

from __future__ import annotations

from slack_bolt import App

from handlers.events.home import home_opened


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
