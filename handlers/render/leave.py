"""Block Kit for leave, all of it: the request form (blank, filled in from what was typed after
``/timeoff``, or sent back with its errors), the confirmation, the requester's news, the approver's
message (updated in place), the daily reminder, "my leave" with Cancel buttons and paging, and
the balances."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.domain import SICK_LEAVE, Absence, LeaveRequest, Portion, SickLeave
from bot.parse import LeaveShortcut, esc, quote
from bot.usecases.followup import Balances, LeaveNews, MyLeave
from bot.usecases.leave import LeaveForm, LeaveResult, named_type
from handlers import ids
from handlers.render.blocks import Blocks, actions, button, context, modal, plain, section

PAGE_SIZE = 10  # requests per page: each takes a section (+ button); a message holds 50 blocks
WORDS = {"approved": "approved", "denied": "declined", "cancelled": "cancelled", "pending": "pending"}
ICONS = {"approved": ":white_check_mark:", "denied": ":x:", "cancelled": ":wastebasket:", "pending": ":hourglass:"}


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
            "element": {"type": "static_select", "action_id": ids.FIELD, "options": types, "initial_option": types[0]},
        },
        {
            "type": "input",
            "block_id": "start",
            "label": plain("First day"),
            "element": {"type": "datepicker", "action_id": ids.FIELD, "initial_date": today.isoformat()},
        },
        {
            "type": "input",
            "block_id": "start_portion",
            "label": plain("First day is"),
            "element": {
                "type": "static_select",
                "action_id": ids.FIELD,
                "options": start_options,
                "initial_option": start_options[0],
            },
        },
        {
            "type": "input",
            "block_id": "end",
            "label": plain("Last day"),
            "element": {"type": "datepicker", "action_id": ids.FIELD, "initial_date": today.isoformat()},
        },
        {
            "type": "input",
            "block_id": "end_portion",
            "label": plain("Last day is"),
            "element": {
                "type": "static_select",
                "action_id": ids.FIELD,
                "options": end_options,
                "initial_option": end_options[0],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": plain("Note for your manager"),
            "element": {"type": "plain_text_input", "action_id": ids.FIELD, "multiline": True, "max_length": 300},
        },
    ]
    blocks.insert(1, _balance_context(form))
    if not form.half_days:
        blocks.append(
            context(f"{form.vendor} has no morning or afternoon on a request; a half day is added to its note.")
        )
    return modal(
        "Request leave", blocks, callback_id=ids.LEAVE_CALLBACK, submit="Request", close="Cancel", metadata=metadata
    )


def _balance_context(form: LeaveForm) -> dict[str, Any]:
    """Under the leave type: the vendor's balances as it states them, or that it keeps none."""
    if form.balances is None:
        return context(f"{esc(form.vendor)} keeps no leave balance.")
    if not form.balances:
        return context(f"{esc(form.vendor)} has no balance on record for you.")
    return context(" · ".join(esc(fmt.balance(b.label, b.remaining, b.unit)) for b in form.balances[:5]))


def leave_form_view(
    form: LeaveForm, today: date, metadata: dict[str, Any], typed: LeaveShortcut | None = None
) -> dict[str, Any]:
    """The form ``/timeoff`` and the Request leave button open: blank, or filled in from what was ``typed``."""
    return leave_view(form, today, metadata) if typed is None else leave_view_typed(form, today, metadata, typed)


def leave_confirmation(result: LeaveResult, tz: ZoneInfo, sick: SickLeave = SICK_LEAVE) -> str:
    a = result.absence
    span = fmt.day_range(a.start, a.end)
    status = " It's waiting for approval." if a.status == "pending" else ""
    text = (
        f"{leave_emoji(a.kind, sick)} Leave requested in {result.vendor}: *{span}*{_portions(a)}, "
        f"{fmt.working_days(result.working_days)}.{status}"
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


def span(start: Any, end: Any) -> str:
    return fmt.day_range(start, end)


class LeaveRender:
    """The renderer the follow-up use case is given (``bot/runtime/app.py`` wires it)."""

    def requester(self, news: LeaveNews) -> tuple[str, Blocks]:
        word = WORDS.get(news.status, news.status)
        by = f" by {esc(news.decided_by)}" if news.decided_by else ""
        text = (
            f"{ICONS.get(news.status, '')} Your {esc(news.kind)} request for {span(news.start, news.end)} "
            f"was *{word}*{by} in {esc(news.vendor)}."
        ).strip()
        return text, [section(text)]

    def approver(self, news: LeaveNews) -> tuple[str, Blocks]:
        word = WORDS.get(news.status, news.status)
        lines = [f"*<@{news.slack_user_id}>* asks for *{esc(news.kind)}*: {span(news.start, news.end)}"]
        if news.working_days is not None:
            lines.append(fmt.working_days(news.working_days))
        if news.note:
            lines.append(f"Note: {esc(news.note)}")
        others = ", ".join(esc(n) for n in news.others_off[:20])
        lines.append(f"Also off then: {others}" if others else "Nobody else is off then.")
        blocks: Blocks = [section("\n".join(lines))]
        if news.status == "pending":
            if news.approval_url:
                decide = f"Decide in {news.vendor}"
                blocks.append(actions(button(ids.LEAVE_OPEN_VENDOR, decide, url=news.approval_url, style="primary")))
            blocks.append(context(f"Status: {ICONS['pending']} pending in {esc(news.vendor)}"))
        else:
            by = f" by {esc(news.decided_by)}" if news.decided_by else ""
            blocks.append(context(f"Status: {ICONS.get(news.status, '')} {word}{by}"))
        text = f"Leave request from <@{news.slack_user_id}>: {span(news.start, news.end)} ({word})"
        return text, blocks

    def reminder(self, pending: Sequence[LeaveNews]) -> tuple[str, Blocks]:
        lines = [
            f"• <@{n.slack_user_id}>: {esc(n.kind)}, {span(n.start, n.end)}"
            + (f" (<{n.approval_url}|decide in {esc(n.vendor)}>)" if n.approval_url else "")
            for n in pending[:40]
        ]
        more = f"\n…and {len(pending) - 40} more." if len(pending) > 40 else ""
        text = f":bell: {len(pending)} leave request(s) still wait for your decision."
        return text, [section(text), section("\n".join(lines) + more)]


def balance_lines(balances: Balances | None) -> list[str]:
    """The vendor's own figures; a vendor that keeps none says so (never a 0)."""
    if balances is None:
        return []
    if balances.error:
        return [f"Balance: {esc(balances.error)}"]
    if balances.balances is None:
        return [f"{esc(balances.vendor)} keeps no leave balance."]
    if not balances.balances:
        return [f"{esc(balances.vendor)} has no balance on record for you."]
    return [esc(fmt.balance(b.label, b.remaining, b.unit)) for b in balances.balances]


def _request_blocks(a: Absence, can_cancel: bool) -> Blocks:
    status = WORDS.get(a.status, a.status)
    when = fmt.leave_range(a.start, a.end, a.start_portion, a.end_portion)
    text = f"{ICONS.get(a.status, '')} {when} · {esc(a.kind or 'Leave')} · {status}"
    block = section(text)
    if can_cancel and a.absence_id and a.status in {"pending", "approved"}:
        block["accessory"] = {
            "type": "button",
            "action_id": ids.LEAVE_CANCEL,
            "text": plain("Cancel"),
            "style": "danger",
            "value": json.dumps({"id": a.absence_id})[:2000],
            "confirm": {
                "title": plain("Cancel this leave?", 100),
                "text": {"type": "mrkdwn", "text": f"{span(a.start, a.end)} · {esc(a.kind or 'Leave')}"},
                "confirm": plain("Cancel it", 30),
                "deny": plain("Keep it", 30),
                "style": "danger",
            },
        }
    return [block]


def my_leave_blocks(
    mine: MyLeave, page: int = 0, balances: Balances | None = None, *, page_size: int = PAGE_SIZE
) -> Blocks:
    """Soonest first, ``page_size`` a page, with Previous / Next past the end of a page."""
    pages = max(1, -(-len(mine.requests) // page_size))
    page = min(max(0, page), pages - 1)
    shown = mine.requests[page * page_size : (page + 1) * page_size]
    blocks: Blocks = [section(f"*Your leave* ({esc(mine.vendor)})")]
    if mine.error:
        blocks.append(section(esc(mine.error)))
    elif not shown:
        blocks.append(section("Nothing upcoming or pending."))
    for a in shown:
        blocks.extend(_request_blocks(a, mine.can_cancel))
    if not mine.can_cancel and shown:
        blocks.append(context(f"{esc(mine.vendor)} doesn't let Timebot cancel leave: cancel it in {esc(mine.vendor)}."))
    nav = []
    if page > 0:
        nav.append(button(ids.LEAVE_PAGE_PREV, "Previous", value=str(page - 1)))
    if page + 1 < pages:
        nav.append(button(ids.LEAVE_PAGE_NEXT, "Next", value=str(page + 1)))
    if nav:
        blocks.append(actions(*nav))
        blocks.append(context(f"Page {page + 1} of {pages}"))
    lines = balance_lines(balances)
    if lines:
        blocks.append(context(" · ".join(lines)))
    return blocks


def home_leave_blocks(mine: MyLeave | None, balances: Balances | None) -> Blocks:
    """App Home's part: the person's leave, the one list ``/timeoff list`` shows too (with half
    days, statuses and Cancel buttons), a Request leave button and the balances; ``mine`` None (the
    person can't request leave yet): the balances alone, if any, else nothing."""
    if mine is not None:
        return [*my_leave_blocks(mine, 0, balances), actions(button(ids.HOME_REQUEST_LEAVE, "Request leave"))]
    if balances is not None and balance_lines(balances):
        return [section(f"*Your balances* ({esc(balances.vendor)})"), context(" · ".join(balance_lines(balances)))]
    return []


def cancelled_blocks(done: str, listed: Blocks) -> Blocks:
    """A Cancel clicked in a message: what was done, then the list again (in place of the old one)."""
    return [section(done), *listed]


def leave_view_again(
    form: LeaveForm, today: date, metadata: dict[str, Any], request: LeaveRequest, errors: dict[str, str]
) -> dict[str, Any]:
    """The leave form as the person filled it in, each error under its field: what an ``errors``
    ack shows, for a check that could only run after the ack (Slack takes field errors in the ack only)."""
    view = leave_view(form, today, metadata)
    chosen = {
        "leave_type": request.leave_type or ANY_LEAVE_TYPE,
        "start_portion": request.start_portion.value,
        "end_portion": request.end_portion.value,
    }
    filled: Blocks = []
    for block in view["blocks"]:
        element, block_id = block.get("element") or {}, block.get("block_id")
        if block_id in ("start", "end"):
            element["initial_date"] = (request.start if block_id == "start" else request.end).isoformat()
        elif block_id in chosen:
            element["initial_option"] = next(
                (o for o in element["options"] if o["value"] == chosen[block_id]), element["initial_option"]
            )
        elif block_id == "note" and request.note:
            element["initial_value"] = request.note
        filled.append(block)
        if block_id in errors:
            filled.append(context(f":warning: {esc(errors[block_id])}"))
    return {**view, "blocks": filled}


def leave_view_typed(form: LeaveForm, today: date, metadata: dict[str, Any], typed: LeaveShortcut) -> dict[str, Any]:
    """The leave form filled in from what was typed after ``/timeoff``; a type name the vendor
    doesn't have is said at the top, with its closest type chosen."""
    kind, found = named_type(form.types, typed.kind)
    request = LeaveRequest(
        typed.start,
        typed.end,
        kind.id if kind else "",
        Portion.PM if typed.half_start else Portion.FULL,
        Portion.AM if typed.half_end else Portion.FULL,
    )
    view = leave_view_again(form, today, metadata, request, {})
    if typed.said:
        view["blocks"] = [context(typed.said), *view["blocks"]]  # built with quote/esc: mrkdwn-safe
    if not found and kind is not None:
        note = context(
            f":warning: {esc(form.vendor)} has no {quote(typed.kind)} leave type: I chose "
            f"{esc(kind.name)}, the closest. Change it if another fits better."
        )
        view["blocks"] = [note, *view["blocks"]]
    return view
