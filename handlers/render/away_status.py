"""App Home's "Show my leave in my Slack status" section."""

from __future__ import annotations

from handlers import ids
from handlers.render.blocks import Blocks, actions, button, divider, section


def status_section(state: str, connect_url: str | None, missing: tuple[str, ...], admin: bool = False) -> Blocks:
    """``state``: on | off | revoked (``AwayStatus.connected``). Setting names are for ``admin``
    only: an employee can't set them, and is told whom to ask."""
    blocks: Blocks = [divider()]
    if state == "on":
        blocks.append(
            section(
                "*Slack status* :white_check_mark: Your leave shows in your Slack status; "
                "what you had before comes back when it ends."
            )
        )
        blocks.append(actions(button(ids.STATUS_DISCONNECT, "Stop showing my leave")))
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
    connect = button(ids.STATUS_CONNECT, "Show my leave in my Slack status", url=connect_url, style="primary")
    blocks.append(actions(connect))
    return blocks
