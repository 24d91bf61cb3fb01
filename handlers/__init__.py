"""Slack <-> use cases. Nothing here knows which vendor is behind an action."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Services


def register(app: App, services: Services) -> None:
    from handlers import commands, common, interactions

    commands.register(app, services)
    interactions.register(app, services)
    common.register_error_handler(app, services)
