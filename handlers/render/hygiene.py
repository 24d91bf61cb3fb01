"""Block Kit for clock hygiene: the forgotten-clock-out reminder (and what it says after a click),
its "I left at…" form, and the forgotten-clock-in nudge."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.usecases.clock import ClockResult
from bot.usecases.hours import HoursReport
from bot.usecases.hygiene import ClockOutReminder, ReminderOutcome
from handlers import ids
from handlers.render.blocks import Blocks, actions, button, context, divider, plain, section
from handlers.render.clock import clock_message, end_time_form
from handlers.render.hours import hm


def reminder_text(r: ClockOutReminder) -> str:
    since = fmt.clock(r.session.started_at, r.tz, with_day=True, today=r.now.astimezone(r.tz).date())
    return f"You've been clocked in since {since} ({r.hours} h). Still working?"


def reminder(r: ClockOutReminder) -> tuple[str, Blocks]:
    meta = json.dumps(
        {
            "watch": r.watch_id,
            "started": r.session.started_at.timestamp(),
            "latest": r.latest_end.timestamp() if r.latest_end else None,
        }
    )
    text = reminder_text(r)
    return text, [
        section(f":alarm_clock: {text}"),
        actions(
            button(ids.REMINDER_CLOCK_OUT, "Clock out now", style="danger", value=meta),
            button(ids.REMINDER_LEFT_AT, "I left at…", value=meta),
            block_id="clockout_reminder",
        ),
        context("Still working? Then there's nothing to do."),
    ]


def outcome_message(outcome: ReminderOutcome, now: datetime) -> tuple[str, Blocks]:
    """What the reminder says once a button has been used (chat.update, in place)."""
    if outcome.result is not None:  # clocked out, or the vendor's midnight got in the way
        text = clock_message(outcome.result, now)
    else:
        text = "You'd already clocked out of that session, so nothing was changed."
    return text, [section(text)]


def auto_clocked_out(result: ClockResult, asked_at: datetime, now: datetime) -> tuple[str, Blocks]:
    asked = fmt.clock(asked_at, result.tz, with_day=True, today=now.astimezone(result.tz).date())
    if result.outcome == "clocked_out":
        text = (
            f":robot_face: No answer, so I clocked you out at {asked}, when I asked. "
            f"{clock_message(result, now)} If you worked longer, fix it in {result.vendor}."
        )
    elif result.outcome == "crosses_midnight":
        text = (
            f"I tried to clock you out at {asked}, but {result.vendor} can't end a session after midnight. "
            "Use `/clockout` to pick when you stopped."
        )
    else:
        text = "You'd already clocked out, so nothing was changed."
    return text, [section(text)]


def clock_in_nudge(chosen: time) -> tuple[str, Blocks]:
    text = f"It's past {fmt.wall_time(chosen)} and you haven't clocked in today. Working?"
    return text, [
        section(f":wave: {text}"),
        actions(button(ids.NUDGE_CLOCK_IN, "Clock in", style="primary"), block_id="clockin_nudge"),
        context("You asked for this reminder on Timebot's Home tab; turn it off there."),
    ]


def left_at_view(metadata: dict[str, Any], initial: str, tz: ZoneInfo) -> dict[str, Any]:
    return end_time_form(
        ids.LEFT_AT_CALLBACK, "When did you leave?", metadata, initial, context(f"In your time zone ({tz.key}).")
    )


def home_hygiene_blocks(hours: tuple[HoursReport, HoursReport] | None, reminder_at: time | None) -> Blocks:
    """App Home: the hours line, and the opt-in clock-in reminder (a time picker; off button)."""
    found: Blocks = [divider()]
    if hours is not None:
        today, week = hours
        found.append(
            section(
                f"*Hours* ({today.vendor}): today {hm(today.total)} · this week {hm(week.total)}"
                + (" _(running)_" if today.running_since else "")
            )
        )
    picker: dict[str, Any] = {
        "type": "timepicker",
        "action_id": ids.HOME_CLOCK_IN_REMINDER,
        "placeholder": plain("Pick a time"),
    }
    if reminder_at is not None:
        picker["initial_time"] = fmt.wall_time(reminder_at)
        status = f"*Clock-in reminder*: on working days, if you haven't clocked in by {fmt.wall_time(reminder_at)}."
    else:
        status = "*Clock-in reminder*: off. Pick a time to get a nudge on working days you forget to clock in."
    found.append(section(status))
    elements: list[dict[str, Any]] = [picker]
    if reminder_at is not None:
        elements.append(button(ids.HOME_CLOCK_IN_REMINDER_OFF, "Turn off"))
    found.append(actions(*elements, block_id="clock_in_reminder"))
    return found


class Render:
    """The renderer bot/runtime/app.py hands the clock hygiene use case (``HygieneRender``)."""

    reminder = staticmethod(reminder)
    auto_clocked_out = staticmethod(auto_clocked_out)
    clock_in_nudge = staticmethod(clock_in_nudge)
