"""Buttons."""

from __future__ import annotations

from slack_bolt import Ack, App

from handlers import ids
from handlers.actions.away_status import status_connect, status_disconnect
from handlers.actions.clockout import pick_time
from handlers.actions.home import home_clock_in, home_clock_out, home_link, home_request_leave
from handlers.actions.hygiene import home_clock_in_reminder, nudge_clock_in, reminder_clock_out, reminder_left_at
from handlers.actions.leave import leave_cancel, leave_page, leave_undo, open_typed_form


def register(app: App) -> None:
    app.action(ids.CLOCKOUT_PICK_TIME)(pick_time)
    app.action(ids.HOME_CLOCK_IN)(home_clock_in)
    app.action(ids.HOME_CLOCK_OUT)(home_clock_out)
    app.action(ids.HOME_REQUEST_LEAVE)(home_request_leave)
    app.action(ids.HOME_LINK)(home_link)
    app.action(ids.REMINDER_CLOCK_OUT)(reminder_clock_out)
    app.action(ids.REMINDER_LEFT_AT)(reminder_left_at)
    app.action(ids.NUDGE_CLOCK_IN)(nudge_clock_in)
    app.action(ids.HOME_CLOCK_IN_REMINDER)(home_clock_in_reminder)
    app.action(ids.HOME_CLOCK_IN_REMINDER_OFF)(home_clock_in_reminder)
    app.action(ids.LEAVE_CANCEL)(leave_cancel)
    app.action(ids.LEAVE_PAGE_PREV)(leave_page)
    app.action(ids.LEAVE_PAGE_NEXT)(leave_page)
    app.action(ids.LEAVE_OPEN_VENDOR)(only_ack)
    app.action(ids.LEAVE_UNDO)(leave_undo)
    app.action(ids.TYPED_LEAVE_FORM)(open_typed_form)
    app.action(ids.STATUS_CONNECT)(status_connect)
    app.action(ids.STATUS_DISCONNECT)(status_disconnect)


def only_ack(ack: Ack) -> None:
    """A link button: Slack opens the page, and still sends the click, which wants its ack."""
    ack()
