"""The "pick an end time" button under a clock-out that crossed midnight."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot import formatting as fmt
from bot.runtime.services import Services
from handlers.modals import open_view
from handlers.payload import OUT_OF_DATE, session_times
from handlers.render.clock import end_time_view
from handlers.turn import Reply, Turn


def pick_time(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ack()
    turn = Turn(services, client, body["team"]["id"], body["user"]["id"], body, respond)
    try:
        meta = json.loads(body["actions"][0].get("value") or "{}")
    except ValueError:
        meta = None
    times = session_times(meta)
    if times is None:
        turn.send(Reply(OUT_OF_DATE))
        return
    started, latest = times
    tz = services.people.cached_zone(turn.team_id, turn.user_id)
    initial = min(started + timedelta(hours=8), latest or started + timedelta(hours=8))
    open_view(turn, body["trigger_id"], end_time_view(meta, fmt.wall_time(initial.astimezone(tz))), "`/clockout` again")
