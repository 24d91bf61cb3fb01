"""Block Kit for clocking in and out: what a clock-in or clock-out answers, the "pick an end time"
button under a session that crossed midnight, and its end-time form."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot import formatting as fmt
from bot.parse import esc
from bot.usecases.clock import ClockResult
from handlers import ids
from handlers.render.blocks import Blocks, actions, button, modal, plain, section


def duration(start: datetime, end: datetime) -> str:
    return fmt.hours_minutes(end - start)


def clock_message(result: ClockResult, now: datetime) -> str:
    s, tz = result.session, result.tz
    today = now.astimezone(tz).date()
    if result.outcome == "clocked_in" and s:
        where = f" on *{esc(s.project)}*" if s.project else ""
        return f":large_green_circle: Clocked in{where} at {fmt.clock(s.started_at, tz)} ({result.vendor})."
    if result.outcome == "already_in" and s:
        return (
            f"You're already clocked in since {fmt.clock(s.started_at, tz, with_day=True, today=today)}. "
            "Use `/clockout` first."
        )
    if result.outcome == "clocked_out" and s:
        end = s.ended_at or now
        dropped = (
            f" {result.vendor} keeps no notes on punches, so your note wasn't saved." if result.note_dropped else ""
        )
        return (
            f":red_circle: Clocked out at {fmt.clock(end, tz)} after {duration(s.started_at, end)} "
            f"(since {fmt.clock(s.started_at, tz, with_day=True, today=today)}).{dropped}"
        )
    if result.outcome == "not_in":
        return "You aren't clocked in, so there's nothing to clock out of. Use `/clockin` to start."
    if result.outcome == "crosses_midnight" and s:
        return (
            f"Your session started {fmt.clock(s.started_at, tz, with_day=True, today=today)}, and "
            f"{result.vendor} can't end a session after midnight. Pick when you stopped on "
            f"{fmt.day(result.day or s.started_at.date())}."
        )
    return "Done."


def midnight_blocks(result: ClockResult, now: datetime) -> Blocks:
    s = result.session
    assert s is not None
    meta = {
        "session_id": s.session_id,
        "started": s.started_at.timestamp(),
        "latest": result.latest_end.timestamp() if result.latest_end else None,
    }
    pick = button(ids.CLOCKOUT_PICK_TIME, "Choose end time", style="primary", value=json.dumps(meta))
    return [section(clock_message(result, now)), actions(pick, block_id="midnight")]


def end_time_view(metadata: dict[str, Any], initial: str) -> dict[str, Any]:
    """The form behind ``midnight_blocks``' button: when the person stopped, on their own clock."""
    return end_time_form(ids.END_TIME_CALLBACK, "When did you stop?", metadata, initial)


def end_time_form(
    callback_id: str, question: str, metadata: dict[str, Any], initial: str, *more: dict[str, Any]
) -> dict[str, Any]:
    """A clock-out form asking when the person stopped (one time picker, read as ``end_time``)."""
    picker = {
        "type": "input",
        "block_id": "end_time",
        "label": plain(question),
        "element": {"type": "timepicker", "action_id": ids.FIELD, "initial_time": initial},
    }
    return modal(
        "Clock out",
        [picker, *more],
        callback_id=callback_id,
        submit="Clock out",
        close="Cancel",
        metadata=metadata,
    )
