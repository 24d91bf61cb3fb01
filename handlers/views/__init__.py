"""Modal submissions."""

from __future__ import annotations

from slack_bolt import App

from handlers import ids
from handlers.views.end_time import end_time_submitted
from handlers.views.leave import leave_submitted
from handlers.views.left_at import left_at_submitted
from handlers.views.link import link_submitted


def register(app: App) -> None:
    app.view(ids.LEAVE_CALLBACK)(leave_submitted)
    app.view(ids.LINK_CALLBACK)(link_submitted)
    app.view(ids.END_TIME_CALLBACK)(end_time_submitted)
    app.view(ids.LEFT_AT_CALLBACK)(left_at_submitted)
