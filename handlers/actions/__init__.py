"""Buttons."""

from __future__ import annotations

import re

from slack_bolt import App

from handlers.actions.away_status import status_connect, status_disconnect
from handlers.actions.clockout import pick_time
from handlers.actions.home import home_clock_in, home_clock_out, home_link, home_request_leave
from handlers.actions.hygiene import home_clock_in_reminder, nudge_clock_in, reminder_clock_out, reminder_left_at
from handlers.actions.leave import leave_cancel, leave_page, leave_undo
from handlers.commands.typed_leave import OPEN_FORM_ACTION, UNDO_ACTION, open_typed_form
from handlers.render import hygiene


def register(app: App) -> None:
    app.action("clockout_pick_time")(pick_time)
    app.action("home_clock_in")(home_clock_in)
    app.action("home_clock_out")(home_clock_out)
    app.action("home_request_leave")(home_request_leave)
    app.action("home_link")(home_link)
    app.action(hygiene.REMINDER_CLOCK_OUT)(reminder_clock_out)
    app.action(hygiene.REMINDER_LEFT_AT)(reminder_left_at)
    app.action(hygiene.NUDGE_CLOCK_IN)(nudge_clock_in)
    app.action(hygiene.HOME_CLOCK_IN_REMINDER)(home_clock_in_reminder)
    app.action(hygiene.HOME_CLOCK_IN_REMINDER_OFF)(home_clock_in_reminder)
    app.action("leave_cancel")(leave_cancel)
    app.action(UNDO_ACTION)(leave_undo)
    app.action(OPEN_FORM_ACTION)(open_typed_form)
    app.action(re.compile(r"^leave_page_(prev|next)$"))(leave_page)
    app.action("leave_open_vendor")(lambda ack: ack())  # a link button: Slack still sends the click
    app.action("status_connect")(status_connect)
    app.action("status_disconnect")(status_disconnect)
