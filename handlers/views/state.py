"""Reading what a person typed or picked in a modal (``view.state``) and what it carries
(``private_metadata``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

OUT_OF_DATE = "That clock-out form is out of date. Type `/clockout` again."


def value(state: dict[str, Any], block_id: str) -> Any:
    element = (state.get("values", {}).get(block_id) or {}).get("value") or {}
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
    element = (state.get("values", {}).get(block_id) or {}).get("value") or {}
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
