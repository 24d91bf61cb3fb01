"""Buttons."""

from __future__ import annotations

from slack_bolt import App

from handlers.actions.clockout import pick_time
from handlers.actions.home import home_clock_in, home_clock_out, home_link, home_request_leave
from handlers.actions.status import status_connect, status_disconnect


def register(app: App) -> None:
    app.action("clockout_pick_time")(pick_time)
    app.action("home_clock_in")(home_clock_in)
    app.action("home_clock_out")(home_clock_out)
    app.action("home_request_leave")(home_request_leave)
    app.action("home_link")(home_link)
    app.action("status_connect")(status_connect)
    app.action("status_disconnect")(status_disconnect)
