"""The end-time form of a session that crossed midnight: checked in the ack, ended after it."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack
from slack_sdk import WebClient

from bot import formatting as fmt
from bot.runtime.services import Services
from bot.usecases.clock import end_for_picked_time
from handlers.payload import OUT_OF_DATE, metadata, session_times, value
from handlers.render.blocks import message_view
from handlers.render.clock import clock_message
from handlers.turn import Reply, Turn


def picked_end(
    ack: Ack, view: dict[str, Any], tz: ZoneInfo, title: str, now: datetime | None = None
) -> datetime | None:
    """The end the person picked on their own clock, checked against the session the form
    carries; None after acking with the field error (or the out-of-date notice)."""
    raw = value(view.get("state", {}), "end_time") or ""
    try:
        picked = time.fromisoformat(raw)
    except ValueError:
        ack(response_action="errors", errors={"end_time": "Pick a time."})
        return None
    times = session_times(metadata(view))
    if times is None:
        ack(response_action="update", view=message_view(title, OUT_OF_DATE))
        return None
    started, latest = times
    end = end_for_picked_time(started, picked, tz, latest)
    if end <= started:
        ack(
            response_action="errors",
            errors={"end_time": f"You clocked in at {fmt.clock(started, tz)}; pick a later time."},
        )
        return None
    if latest is not None and end > latest:
        ack(
            response_action="errors",
            errors={"end_time": f"Pick a time no later than {fmt.clock(latest, tz)} on the day you started."},
        )
        return None
    if now is not None and end > now:
        ack(response_action="errors", errors={"end_time": "That's still to come; pick when you left."})
        return None
    return end


def end_time_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    tz = services.people.cached_zone(team_id, user_id)  # no Slack call before the ack
    end = picked_end(ack, view, tz, "Clock out")
    if end is None:
        return
    ack()
    Turn(services, client, team_id, user_id, body).later(
        lambda actor: Reply(clock_message(services.clock.clock_out(actor, at=end), services.now()))
    )
