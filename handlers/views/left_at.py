"""The "I left at…" form of a forgotten-clock-out reminder: checked in the ack, ended after it,
and the reminder updated in place."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.runtime.services import Services
from handlers.hygiene import end_from_reminder
from handlers.payload import metadata
from handlers.turn import Turn
from handlers.views.end_time import picked_end


def left_at_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    tz = services.people.cached_zone(team_id, user_id)  # no Slack call before the ack
    end = picked_end(ack, view, tz, "Clock out", now=services.now())
    if end is None:
        return
    meta = metadata(view)
    if not isinstance(meta.get("watch"), int):
        ack(response_action="errors", errors={"end_time": "This form is out of date; use `/clockout`."})
        return
    ack()
    end_from_reminder(Turn(services, client, team_id, user_id, body), meta, at=end)
