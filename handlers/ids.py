"""Every ``action_id`` and ``callback_id`` Timebot draws, each named once: the renderers put them
on buttons and modals, and the register functions route them to their listeners.

The values are wire ids: a button posted last month carries the value it was drawn with, and Slack
sends that value back when it is clicked. Never change one; add a new id next to it instead.
tests/handlers/test_ids.py fails when an id is typed as a literal anywhere else in handlers/, or
when one is drawn but not routed."""

from __future__ import annotations

# --- buttons and pickers (action_id), routed by app.action ---------------------------------

# clock
CLOCKOUT_PICK_TIME = "clockout_pick_time"  # under a clock-out that crossed midnight: opens the end-time form
CLOCK_IN_NOW = "intake_clock_in_now"  # after a restart lost a clock-in: do it now
CLOCK_OUT_NOW = "intake_clock_out_now"  # after a restart lost a clock-out: do it now

# App Home (the leave and link buttons are also drawn in messages: a click opens the form anywhere)
HOME_CLOCK_IN = "home_clock_in"
HOME_CLOCK_OUT = "home_clock_out"
HOME_REQUEST_LEAVE = "home_request_leave"
HOME_LINK = "home_link"

# clock hygiene
REMINDER_CLOCK_OUT = "reminder_clock_out"  # "Clock out now" on a forgotten-clock-out reminder
REMINDER_LEFT_AT = "reminder_left_at"  # "I left at…" on the same reminder: opens its form
NUDGE_CLOCK_IN = "nudge_clock_in"  # "Clock in" on a forgotten-clock-in nudge
HOME_CLOCK_IN_REMINDER = "home_clock_in_reminder"  # App Home's time picker
HOME_CLOCK_IN_REMINDER_OFF = "home_clock_in_reminder_off"  # App Home's "Turn off"

# leave
LEAVE_CANCEL = "leave_cancel"
LEAVE_PAGE_PREV = "leave_page_prev"
LEAVE_PAGE_NEXT = "leave_page_next"
LEAVE_OPEN_VENDOR = "leave_open_vendor"  # a link button: Slack still sends the click, which only needs an ack
LEAVE_UNDO = "leave_undo"  # under leave sent at once from typed text: cancels it
TYPED_LEAVE_FORM = "typed_leave_form"  # typed text naming no type or several: opens the form filled in

# leave in the Slack status (away status)
STATUS_CONNECT = "status_connect"  # a link button to Slack's consent page
STATUS_DISCONNECT = "status_disconnect"

ACTIONS = (
    CLOCKOUT_PICK_TIME,
    CLOCK_IN_NOW,
    CLOCK_OUT_NOW,
    HOME_CLOCK_IN,
    HOME_CLOCK_OUT,
    HOME_REQUEST_LEAVE,
    HOME_LINK,
    REMINDER_CLOCK_OUT,
    REMINDER_LEFT_AT,
    NUDGE_CLOCK_IN,
    HOME_CLOCK_IN_REMINDER,
    HOME_CLOCK_IN_REMINDER_OFF,
    LEAVE_CANCEL,
    LEAVE_PAGE_PREV,
    LEAVE_PAGE_NEXT,
    LEAVE_OPEN_VENDOR,
    LEAVE_UNDO,
    TYPED_LEAVE_FORM,
    STATUS_CONNECT,
    STATUS_DISCONNECT,
)

# --- modals (callback_id), routed by app.view ----------------------------------------------

LEAVE_CALLBACK = "leave_request"
LINK_CALLBACK = "link_account"
END_TIME_CALLBACK = "clockout_end_time"  # the end time of a session that crossed midnight
LEFT_AT_CALLBACK = "reminder_left_at_time"  # "I left at…" from a forgotten-clock-out reminder

CALLBACKS = (LEAVE_CALLBACK, LINK_CALLBACK, END_TIME_CALLBACK, LEFT_AT_CALLBACK)

# --- a form's input elements (action_id), never routed ---------------------------------------

# Each input of a modal is told apart by its block_id, so every input element has this one
# action_id, under which handlers.payload reads what was typed or picked.
FIELD = "value"
