"""Block Kit for what comes after a leave request: the requester's news, the approver's message
(updated in place), the daily reminder, "my leave" with Cancel buttons, balances, and the form
sent back with its errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot import formatting as fmt
from bot.domain import Absence, LeaveRequest, Portion
from bot.parse import LeaveShortcut, esc, quote
from bot.usecases.followup import Balances, LeaveNews, MyLeave
from bot.usecases.leave import LeaveForm, named_type
from handlers.render.blocks import (
    ANY_LEAVE_TYPE,
    REQUEST_LEAVE_BUTTON,
    Blocks,
    context,
    leave_view,
    plain,
    section,
)

PAGE_SIZE = 10  # requests per page: each takes a section (+ button); a message holds 50 blocks
CANCEL_ACTION = "leave_cancel"
PAGE_ACTION = "leave_page"
WORDS = {"approved": "approved", "denied": "declined", "cancelled": "cancelled", "pending": "pending"}
ICONS = {"approved": ":white_check_mark:", "denied": ":x:", "cancelled": ":wastebasket:", "pending": ":hourglass:"}


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
                blocks.append(
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": "leave_open_vendor",
                                "text": plain(f"Decide in {news.vendor}"),
                                "url": news.approval_url[:3000],
                                "style": "primary",
                            }
                        ],
                    }
                )
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
            "action_id": CANCEL_ACTION,
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
        nav.append(
            {"type": "button", "action_id": f"{PAGE_ACTION}_prev", "text": plain("Previous"), "value": str(page - 1)}
        )
    if page + 1 < pages:
        nav.append(
            {"type": "button", "action_id": f"{PAGE_ACTION}_next", "text": plain("Next"), "value": str(page + 1)}
        )
    if nav:
        blocks.append({"type": "actions", "elements": nav})
        blocks.append(context(f"Page {page + 1} of {pages}"))
    lines = balance_lines(balances)
    if lines:
        blocks.append(context(" · ".join(lines)))
    return blocks


def with_my_leave(view: dict[str, Any], mine: MyLeave | None, balances: Balances | None) -> dict[str, Any]:
    """The App Home view with the person's leave, the one list ``/timeoff list`` shows too (with
    half days, statuses and Cancel buttons), a Request leave button and the balances, before its
    last line; ``mine`` None (the person can't request leave yet): the balances alone, if any."""
    blocks = list(view["blocks"])
    tail = blocks.pop() if blocks and blocks[-1].get("type") == "context" else None
    # no divider straight under the header (a vendor without a clock has nothing above the leave)
    divider = [{"type": "divider"}] if blocks and blocks[-1].get("type") != "header" else []
    if mine is not None:
        blocks += [*divider, *my_leave_blocks(mine, 0, balances), REQUEST_LEAVE_BUTTON]
    elif balances is not None and balance_lines(balances):
        blocks += [
            *divider,
            section(f"*Your balances* ({esc(balances.vendor)})"),
            context(" · ".join(balance_lines(balances))),
        ]
    if tail is not None:
        blocks.append(tail)
    return {**view, "blocks": blocks[:100]}


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
