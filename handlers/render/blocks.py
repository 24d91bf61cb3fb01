"""Block Kit: turns use-case results into Slack messages, modals and the App Home tab."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.domain import SICK_LEAVE, Absence, LinkField, SickLeave
from bot.parse import esc as esc  # re-exported: listeners write blocks.esc
from bot.usecases.clock import ClockResult
from bot.usecases.home import HomeState, StatusReport
from bot.usecases.leave import LeaveForm, LeaveResult

Blocks = list[dict[str, Any]]

LEAVE_CALLBACK = "leave_request"
LINK_CALLBACK = "link_account"
END_TIME_CALLBACK = "clockout_end_time"

HELP = (
    "*Timebot* keeps your time and leave without leaving Slack.\n"
    "• `/clockin [project]`: start working\n"
    "• `/clockout [note]`: stop working\n"
    "• `/timeoff`: the leave form · `/timeoff sick today`, `/timeoff vacation 24 dec to 2 jan`, "
    "`/timeoff tomorrow pm`: sent at once (with Undo) when the days and the type are clear, else the form "
    "filled in · `/timeoff list`: your leave\n"
    "• `/whosoff [today|tomorrow|week|next week|2026-12-24|2026-12-24..2026-12-31]`: who is off\n"
    "• `/whosin`: who is clocked in right now\n"
    "• `/timebot hours [today|week|last week|2026-12-01..2026-12-07]`: hours worked\n"
    "• `/timebot link`: connect your account · `/timebot unlink` · `/timebot status`\n"
    "• `/timebot calendar [#channel|@group|dept=NAME|everyone]`: your leave in your calendar app\n"
    "• Admins and approvers: `/timebot report hours|absence last month [#channel|@group|dept=NAME]` (a CSV)\n"
    "• Admins: `/timebot link @person [id]`, `/timebot digest add|list|remove|preview`"
)


def plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


# Every day, time and amount is written by bot.formatting; these names keep the renderers short.
fmt_time = fmt.clock
fmt_day = fmt.day
fmt_days = fmt.working_days


def duration(start: datetime, end: datetime) -> str:
    return fmt.hours_minutes(end - start)


# --- messages ---------------------------------------------------------------------------


def clock_message(result: ClockResult, now: datetime) -> str:
    s, tz = result.session, result.tz
    today = now.astimezone(tz).date()
    if result.outcome == "clocked_in" and s:
        where = f" on *{esc(s.project)}*" if s.project else ""
        return f":large_green_circle: Clocked in{where} at {fmt_time(s.started_at, tz)} ({result.vendor})."
    if result.outcome == "already_in" and s:
        return (
            f"You're already clocked in since {fmt_time(s.started_at, tz, with_day=True, today=today)}. "
            "Use `/clockout` first."
        )
    if result.outcome == "clocked_out" and s:
        end = s.ended_at or now
        dropped = (
            f" {result.vendor} keeps no notes on punches, so your note wasn't saved." if result.note_dropped else ""
        )
        return (
            f":red_circle: Clocked out at {fmt_time(end, tz)} after {duration(s.started_at, end)} "
            f"(since {fmt_time(s.started_at, tz, with_day=True, today=today)}).{dropped}"
        )
    if result.outcome == "not_in":
        return "You aren't clocked in, so there's nothing to clock out of. Use `/clockin` to start."
    if result.outcome == "crosses_midnight" and s:
        return (
            f"Your session started {fmt_time(s.started_at, tz, with_day=True, today=today)}, and "
            f"{result.vendor} can't end a session after midnight. Pick when you stopped on "
            f"{fmt_day(result.day or s.started_at.date())}."
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
    return [
        section(clock_message(result, now)),
        {
            "type": "actions",
            "block_id": "midnight",
            "elements": [
                {
                    "type": "button",
                    "action_id": "clockout_pick_time",
                    "style": "primary",
                    "text": plain("Choose end time"),
                    "value": json.dumps(meta),
                },
            ],
        },
    ]


def leave_confirmation(result: LeaveResult, tz: ZoneInfo, sick: SickLeave = SICK_LEAVE) -> str:
    a = result.absence
    span = fmt.day_range(a.start, a.end)
    status = " It's waiting for approval." if a.status == "pending" else ""
    text = (
        f"{leave_emoji(a.kind, sick)} Leave requested in {result.vendor}: *{span}*{_portions(a)}, "
        f"{fmt_days(result.working_days)}.{status}"
    )
    if result.half_day_note:
        text += f"\n{result.vendor} has no morning or afternoon on a request, so the half day is written in its note."
    return text


LEAVE_EMOJI = (  # sick leave first, by the one rule (SickLeave); then by part of the name
    (("doctor", "dentist"), ":face_with_thermometer:"),
    (("home", "wfh", "remote"), ":house_with_garden:"),
    (("parental", "maternity", "paternity"), ":baby:"),
    (("bereavement", "compassionate"), ":white_flower:"),
    (("training", "course", "conference"), ":books:"),
)


def leave_emoji(kind: str | None, sick: SickLeave = SICK_LEAVE) -> str:
    """The emoji follows the kind of leave: a sick day is no holiday."""
    if sick(kind):
        return ":face_with_thermometer:"
    words = (kind or "").lower()
    return next((emoji for keys, emoji in LEAVE_EMOJI if any(k in words for k in keys)), ":palm_tree:")


def _portions(a: Absence) -> str:
    halves = fmt.half_days(a.start, a.end, a.start_portion, a.end_portion)
    return f" ({halves} only)" if halves else ""


def status_text(report: StatusReport, tz: ZoneInfo, now: datetime) -> str:
    lines = ["*Your Timebot status*"]
    for i in report.identities:
        if i.linked_by == "email":
            who = f" as {esc(i.name)}" if i.name else ""
            lines.append(f"• Matched by email{who} in {esc(i.label)} (user {esc(i.vendor_user_id)}).")
        else:
            how = "linked by an admin" if i.linked_by.startswith("admin") else "linked by you"
            lines.append(f"• {esc(i.label)}: user {esc(i.vendor_user_id)} ({how})")
    for _, label in report.needs_link:
        lines.append(f"• {esc(label)}: not linked yet. Type `/timebot link` to connect your account.")
    for label, what in report.unmatched:
        lines.append(f"• {esc(label)}: {esc(what)}")
    if not (report.identities or report.needs_link or report.unmatched):
        lines.append("• No vendor is set up yet: an admin needs to configure one (see the README).")
    clock_ready = report.clock_linked
    if report.clock_error:
        lines.append(f"Clock: {esc(report.clock_error)}")
    elif report.session:
        lines.append(
            f"Clock: :large_green_circle: clocked in since "
            f"{fmt_time(report.session.started_at, tz, with_day=True, today=now.astimezone(tz).date())}"
        )
    elif clock_ready:
        lines.append("Clock: not clocked in.")
    lines.append(f"Times are shown in your Slack time zone ({tz.key}).")
    return "\n".join(lines)


# --- modals -----------------------------------------------------------------------------


def loading_view(title: str, text: str = "Just a moment…") -> dict[str, Any]:
    return {"type": "modal", "title": plain(title, 24), "close": plain("Close", 24), "blocks": [section(text)]}


def message_view(title: str, text: str) -> dict[str, Any]:
    return {"type": "modal", "title": plain(title, 24), "close": plain("Close", 24), "blocks": [section(text)]}


ANY_LEAVE_TYPE = "default"  # the one option when the vendor lists no types: the vendor's default


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": plain(text.strip() or value or "Leave"), "value": value}


def leave_view(form: LeaveForm, today: date, metadata: dict[str, Any]) -> dict[str, Any]:
    usable = [t for t in form.types if t.id and len(t.id) <= 150][:100]  # Slack's limits on select options
    types = [_option(t.id, t.name) for t in usable] or [_option(ANY_LEAVE_TYPE, "Leave")]
    start_options = [_option("full", "Full day"), _option("pm", "Afternoon only")]
    end_options = [_option("full", "Full day"), _option("am", "Morning only")]
    blocks: Blocks = [
        {
            "type": "input",
            "block_id": "leave_type",
            "label": plain("Type of leave"),
            "element": {"type": "static_select", "action_id": "value", "options": types, "initial_option": types[0]},
        },
        {
            "type": "input",
            "block_id": "start",
            "label": plain("First day"),
            "element": {"type": "datepicker", "action_id": "value", "initial_date": today.isoformat()},
        },
        {
            "type": "input",
            "block_id": "start_portion",
            "label": plain("First day is"),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": start_options,
                "initial_option": start_options[0],
            },
        },
        {
            "type": "input",
            "block_id": "end",
            "label": plain("Last day"),
            "element": {"type": "datepicker", "action_id": "value", "initial_date": today.isoformat()},
        },
        {
            "type": "input",
            "block_id": "end_portion",
            "label": plain("Last day is"),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": end_options,
                "initial_option": end_options[0],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": plain("Note for your manager"),
            "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 300},
        },
    ]
    blocks.insert(1, _balance_context(form))
    if not form.half_days:
        blocks.append(
            context(f"{form.vendor} has no morning or afternoon on a request; a half day is added to its note.")
        )
    return {
        "type": "modal",
        "callback_id": LEAVE_CALLBACK,
        "title": plain("Request leave", 24),
        "submit": plain("Request", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
        "private_metadata": json.dumps(metadata),
    }


def _balance_context(form: LeaveForm) -> dict[str, Any]:
    """Under the leave type: the vendor's balances as it states them, or that it keeps none."""
    if form.balances is None:
        return context(f"{esc(form.vendor)} keeps no leave balance.")
    if not form.balances:
        return context(f"{esc(form.vendor)} has no balance on record for you.")
    return context(" · ".join(esc(fmt.balance(b.label, b.remaining, b.unit)) for b in form.balances[:5]))


def link_view(
    label: str,
    fields: Sequence[LinkField],
    metadata: dict[str, Any],
    error: str | None = None,
    for_whom: str | None = None,
) -> dict[str, Any]:
    whose = f"<@{for_whom}>'s" if for_whom else "your"
    blocks: Blocks = [section(f"Connect {whose} {esc(label)} account.")]
    if error:  # already mrkdwn-safe (handlers.turn.describe)
        blocks.append(section(f":warning: {error}"))
    for f in fields:
        blocks.append(
            {
                "type": "input",
                "block_id": f"link_{f.name}",
                "label": plain(f.label),
                "hint": plain(f.hint, 150) if f.hint else None,
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 200},
            }
        )
        if not f.hint:
            blocks[-1].pop("hint")
    blocks.append(context("Your key is stored encrypted and only used to act for you."))
    return {
        "type": "modal",
        "callback_id": LINK_CALLBACK,
        "title": plain(f"Link {label}", 24),
        "submit": plain("Link", 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
        "private_metadata": json.dumps(metadata),
    }


def end_time_view(metadata: dict[str, Any], initial: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": END_TIME_CALLBACK,
        "title": plain("Clock out", 24),
        "submit": plain("Clock out", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            {
                "type": "input",
                "block_id": "end_time",
                "label": plain("When did you stop?"),
                "element": {"type": "timepicker", "action_id": "value", "initial_time": initial},
            }
        ],
    }


# --- App Home -------------------------------------------------------------------------


REQUEST_LEAVE_BUTTON = {
    "type": "actions",
    "elements": [
        {"type": "button", "action_id": "home_request_leave", "text": {"type": "plain_text", "text": "Request leave"}}
    ],
}


def home_view(state: HomeState, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    status = state.status
    blocks: Blocks = [{"type": "header", "text": plain("Timebot", 150)}]
    today = now.astimezone(tz).date()
    for _, label in status.needs_link:
        blocks.append(section(f":link: Connect your {esc(label)} account to clock in and request leave."))
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "action_id": "home_link", "text": plain(f"Link {label}"), "style": "primary"}
                ],
            }
        )
    for label, what in status.unmatched:
        blocks.append(section(f":link: *{esc(label)}*: {esc(what)}"))
    if status.clock_linked:
        if status.clock_error:
            blocks.append(section(f"*Clock* ({esc(status.clock_vendor)})\n{esc(status.clock_error)}"))
        elif status.session:
            blocks.append(
                section(
                    f"*Clock* ({esc(status.clock_vendor)})\n:large_green_circle: Clocked in since "
                    f"{fmt_time(status.session.started_at, tz, with_day=True, today=today)}"
                )
            )
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "home_clock_out", "text": plain("Clock out"), "style": "danger"}
                    ],
                }
            )
        else:
            blocks.append(section(f"*Clock* ({esc(status.clock_vendor)})\n:white_circle: Not clocked in"))
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "home_clock_in", "text": plain("Clock in"), "style": "primary"}
                    ],
                }
            )
    # The person's leave (one list, with Cancel buttons) is added by handlers.render.leave.with_my_leave.
    blocks.append(context(f"Times in your time zone ({tz.key}). Updated {fmt_time(now, tz)}."))
    return {"type": "home", "blocks": blocks[:100]}
