"""The end-time form of a session that crossed midnight: checked in the ack, ended after it."""

from __future__ import annotations

from datetime import time
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.services import Services
from bot.usecases.clock import end_for_picked_time
from handlers.render import blocks
from handlers.turn import Reply, Turn
from handlers.views.state import OUT_OF_DATE, metadata, session_times, value


def end_time_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                       services: Services) -> None:
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    raw = value(view.get("state", {}), "end_time") or ""
    try:
        picked = time.fromisoformat(raw)
    except ValueError:
        ack(response_action="errors", errors={"end_time": "Pick a time."})
        return
    times = session_times(metadata(view))
    if times is None:
        ack(response_action="update", view=blocks.message_view("Clock out", OUT_OF_DATE))
        return
    started, latest = times
    tz = services.people.cached_zone(team_id, user_id)  # no Slack call before the ack
    end = end_for_picked_time(started, picked, tz, latest)
    if end <= started:
        ack(response_action="errors",
            errors={"end_time": f"You clocked in at {blocks.fmt_time(started, tz)}; pick a later time."})
        return
    if latest is not None and end > latest:
        ack(response_action="errors",
            errors={"end_time": f"Pick a time no later than {blocks.fmt_time(latest, tz)} on the day you started."})
        return
    ack()
    Turn(services, client, team_id, user_id, body).later(
        lambda actor: Reply(blocks.clock_message(services.clock.clock_out(actor, at=end), services.now())))
