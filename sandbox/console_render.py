"""Block Kit as readable terminal text, for ``timebot console``: what a person would see in Slack,
with mentions shown as names and buttons as ``[Button]``."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

Names = Callable[[str], str]

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)[^>]*>")


def mrkdwn(text: str, names: Names) -> str:
    """Slack's escapes and references as a person reads them."""
    text = _USER.sub(lambda m: "@" + names(m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    return html.unescape(text)


def _text(obj: Mapping[str, Any] | None, names: Names) -> str:
    if not obj:
        return ""
    raw = str(obj.get("text", ""))
    return mrkdwn(raw, names) if obj.get("type") == "mrkdwn" else raw


def _button(element: Mapping[str, Any], names: Names) -> str:
    return f"[{_text(element.get('text'), names)}]"


def element_summary(element: Mapping[str, Any], names: Names) -> str:
    """An input's current value and what it takes."""
    kind = element.get("type")
    if kind == "static_select":
        options = [_text(o.get("text"), names) for o in element.get("options", [])]
        initial = _text((element.get("initial_option") or {}).get("text"), names)
        return f"{initial or '-'}  (one of: {', '.join(options)})"
    if kind == "datepicker":
        return f"{element.get('initial_date', '-')}  (a date, YYYY-MM-DD)"
    if kind == "timepicker":
        return f"{element.get('initial_time', '-')}  (a time, HH:MM)"
    if kind == "plain_text_input":
        return f"{element.get('initial_value', '') or '-'}  (text)"
    return str(kind)


def blocks_text(blocks: list[Mapping[str, Any]], names: Names) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {_text(block.get('text'), names)} ==")
        elif kind == "section":
            if block.get("text"):
                lines.extend(_text(block["text"], names).splitlines())
            lines.extend("  " + _text(f, names) for f in block.get("fields", []))
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                lines.append("  " + _button(accessory, names))
        elif kind == "context":
            parts = [_text(e, names) for e in block.get("elements", []) if e.get("type") in ("mrkdwn", "plain_text")]
            lines.append("  (" + " · ".join(p for p in parts if p) + ")")
        elif kind == "actions":
            buttons = [_button(e, names) for e in block.get("elements", []) if e.get("type") == "button"]
            lines.append("  " + " ".join(buttons))
        elif kind == "divider":
            lines.append("  ----")
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            lines.append(
                f"  {_text(block.get('label'), names)}{optional}: {element_summary(block.get('element') or {}, names)}"
            )
    return lines


def message_text(payload: Mapping[str, Any], names: Names) -> list[str]:
    """A message (a response_url post or chat.postMessage): its blocks, else its text."""
    blocks = payload.get("blocks")
    if isinstance(blocks, list) and blocks:
        return blocks_text(blocks, names)
    return mrkdwn(str(payload.get("text") or ""), names).splitlines()


def view_text(view: Mapping[str, Any], names: Names) -> list[str]:
    """A modal as its title, what it says and its fields; App Home as its blocks."""
    if view.get("type") == "home":
        return ["[App Home]", *blocks_text(view.get("blocks", []), names)]
    title = _text(view.get("title"), names)
    lines = [f"[Form: {title}]", *blocks_text(view.get("blocks", []), names)]
    buttons = [_text(view.get(k), names) for k in ("submit", "close") if view.get(k)]
    if buttons:
        lines.append("  " + " ".join(f"[{b}]" for b in buttons))
    return lines
