"""Slash commands."""

from __future__ import annotations

from slack_bolt import App

from handlers.commands.clock import clockin, clockout
from handlers.commands.timebot import timebot
from handlers.commands.timeoff import timeoff
from handlers.commands.whosin import whosin
from handlers.commands.whosoff import whosoff


def register(app: App) -> None:
    app.command("/clockin")(clockin)
    app.command("/clockout")(clockout)
    app.command("/timeoff")(timeoff)
    app.command("/whosoff")(whosoff)
    app.command("/whosin")(whosin)
    app.command("/timebot")(timebot)
