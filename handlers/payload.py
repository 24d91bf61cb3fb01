"""Reading back what Timebot handed out: what a person typed or picked in a modal (``view.state``),
what a form or a button carries (``private_metadata``, a button's value), and what the intake
keeps to finish a leave request after a restart."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from bot.domain import LeaveRequest, Portion
from handlers import ids

OUT_OF_DATE = "That clock-out form is out of date. Type `/clockout` again."


def value(state: dict[str, Any], block_id: str) -> Any:
    element = (state.get("values", {}).get(block_id) or {}).get(ids.FIELD) or {}
    kind = element.get("type")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "timepicker":
        return element.get("selected_time")
    if kind in {"static_select", "radio_buttons"}:
        return (element.get("selected_option") or {}).get("value")
    return element.get("value")


def selected_text(state: dict[str, Any], block_id: str) -> str | None:
    """The words of the option picked in a select (a leave type's name, as the form showed it)."""
    element = (state.get("values", {}).get(block_id) or {}).get(ids.FIELD) or {}
    text = ((element.get("selected_option") or {}).get("text") or {}).get("text")
    return text if isinstance(text, str) else None


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def session_times(meta: object) -> tuple[datetime, datetime | None] | None:
    """The session start and latest end a clock-out button or form carries; None when they
    aren't there or aren't times (a message from an older version, or tampered with)."""
    if not isinstance(meta, dict):
        return None
    try:
        started = datetime.fromtimestamp(float(meta["started"]), UTC)
        latest = datetime.fromtimestamp(float(meta["latest"]), UTC) if meta.get("latest") else None
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    return started, latest


def leave_payload(request: LeaveRequest) -> dict[str, Any]:
    """What the intake keeps to finish a leave request after a restart (bot/runtime/intake.py)."""
    return {
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "leave_type": request.leave_type,
        "start_portion": request.start_portion.value,
        "end_portion": request.end_portion.value,
        "note": request.note,
    }


def leave_from_payload(payload: Any) -> LeaveRequest:
    return LeaveRequest(
        date.fromisoformat(payload["start"]),
        date.fromisoformat(payload["end"]),
        str(payload.get("leave_type") or ""),
        Portion(payload.get("start_portion") or "full"),
        Portion(payload.get("end_portion") or "full"),
        payload.get("note"),
    )
