"""App Home's "Show my leave in my Slack status" section."""

from __future__ import annotations

from typing import Any

from handlers.render.blocks import plain, section

CONNECT = "status_connect"
DISCONNECT = "status_disconnect"


def status_section(
    state: str, connect_url: str | None, missing: tuple[str, ...], admin: bool = False
) -> list[dict[str, Any]]:
    """``state``: on | off | revoked (``AwayStatus.connected``). Setting names are for ``admin``
    only: an employee can't set them, and is told whom to ask."""
    blocks: list[dict[str, Any]] = [{"type": "divider"}]
    if state == "on":
        blocks.append(
            section(
                "*Slack status* :white_check_mark: Your leave shows in your Slack status; "
                "what you had before comes back when it ends."
            )
        )
        blocks.append(
            {
                "type": "actions",
                "elements": [{"type": "button", "action_id": DISCONNECT, "text": plain("Stop showing my leave")}],
            }
        )
        return blocks
    if connect_url is None:
        todo = f"set {', '.join(missing)} (see the README)" if admin else "ask your Timebot admin if you'd like it"
        blocks.append(section(f"*Slack status* Showing your leave in your Slack status isn't set up yet: {todo}."))
        return blocks
    lead = "Slack revoked Timebot's permission to change your status. " if state == "revoked" else ""
    blocks.append(
        section(
            f"*Slack status* {lead}Timebot can set your status while you are on leave and "
            "put yours back afterwards. Slack asks you to allow it once."
        )
    )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": CONNECT,
                    "text": plain("Show my leave in my Slack status"),
                    "url": connect_url,
                    "style": "primary",
                }
            ],
        }
    )
    return blocks
