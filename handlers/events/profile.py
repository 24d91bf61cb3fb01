"""A member's Slack profile changed (``user_change``): their stored name, email, time zone and
admin flag follow it, so a clock-in needs no users.info. Slack sends one for every member on any
profile or status change, so the listener only hands it to the work pool (no database on the ack path)."""

from __future__ import annotations

from typing import Any

from bot.runtime.services import Services


def user_changed(event: dict[str, Any], body: dict[str, Any], services: Services) -> None:
    user = event.get("user")
    if not isinstance(user, dict):
        return
    team_id = body.get("team_id") or user.get("team_id")  # rows are keyed by the workspace that asked
    if isinstance(team_id, str) and team_id:
        services.pool.submit(lambda: services.people.profile_changed(team_id, user))
