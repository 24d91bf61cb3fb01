"""Block Kit primitives: the text objects, blocks, elements and plain modals every renderer is
built from, cut to Slack's limits. What a feature says lives in its own render module
(``render/clock.py``, ``render/leave.py``, ``render/home.py`` …)."""

from __future__ import annotations

import json
from typing import Any

Blocks = list[dict[str, Any]]

MAX_TEXT = 3000  # characters in a section's or a context's text


def plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text[:MAX_TEXT]}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, 150)}


def button(
    action_id: str, text: str, *, style: str | None = None, value: str | None = None, url: str | None = None
) -> dict[str, Any]:
    """A button; ``url`` makes it a link button (Slack opens the page and still sends the click)."""
    element: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain(text)}
    if style:
        element["style"] = style
    if value is not None:
        element["value"] = value
    if url is not None:
        element["url"] = url[:3000]
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def modal(
    title: str,
    blocks: Blocks,
    *,
    callback_id: str | None = None,
    submit: str | None = None,
    close: str = "Close",
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A modal; with ``callback_id`` and ``submit`` a form whose submission is routed by that id,
    carrying ``metadata`` (``private_metadata``) back to it."""
    view: dict[str, Any] = {"type": "modal", "title": plain(title, 24)}
    if callback_id is not None:
        view["callback_id"] = callback_id
    if submit is not None:
        view["submit"] = plain(submit, 24)
    view["close"] = plain(close, 24)
    view["blocks"] = blocks
    if metadata is not None:
        view["private_metadata"] = json.dumps(metadata)
    return view


def message_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only says ``text``: what a form becomes once it is sent or can't be."""
    return modal(title, [section(text)])


def loading_view(title: str, text: str = "Just a moment…") -> dict[str, Any]:
    return message_view(title, text)
