"""The link form: what the vendor asks for to connect a Slack account (a PIN, a key …)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain import LinkField
from bot.parse import esc
from handlers import ids
from handlers.render.blocks import Blocks, context, modal, plain, section


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
        field: dict[str, Any] = {"type": "input", "block_id": f"link_{f.name}", "label": plain(f.label)}
        if f.hint:
            field["hint"] = plain(f.hint, 150)
        field["element"] = {"type": "plain_text_input", "action_id": ids.FIELD, "max_length": 200}
        blocks.append(field)
    blocks.append(context("Your key is stored encrypted and only used to act for you."))
    return modal(
        f"Link {label}", blocks, callback_id=ids.LINK_CALLBACK, submit="Link", close="Cancel", metadata=metadata
    )
