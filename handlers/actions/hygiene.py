"""The clock-hygiene buttons: "Clock out now" and "I left at…" on a forgotten-clock-out reminder,
"Clock in" on a forgotten-clock-in nudge, and the clock-in reminder setting on App Home.

After a click the reminder is updated in place (chat.update) to say what was done."""

from __future__ import annotations

import json
from datetime import time, timedelta
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot import formatting as fmt
from bot.domain import Actor
from bot.runtime.services import Services
from handlers.app_home import publish_home
from handlers.hygiene import end_from_reminder, update_reminder
from handlers.modals import open_view
from handlers.payload import OUT_OF_DATE, session_times
from handlers.render.blocks import section
from handlers.render.clock import clock_message
from handlers.render.hygiene import left_at_view
from handlers.turn import Reply, Turn


def _turn(body: dict[str, Any], client: WebClient, services: Services) -> Turn:
    return Turn(services, client, body["team"]["id"], body["user"]["id"], body)


def reminder_meta(body: dict[str, Any]) -> dict[str, Any] | None:
    """What the reminder's button carries (watch id, session start, latest end) and where the
    reminder is (to update it in place); None when it isn't readable."""
    try:
        meta = json.loads((body.get("actions") or [{}])[0].get("value") or "{}")
        watch = int(meta["watch"])
    except (ValueError, KeyError, TypeError):
        return None
    if session_times(meta) is None:
        return None
    container = body.get("container") or {}
    return {
        **meta,
        "watch": watch,
        "channel": container.get("channel_id") or (body.get("channel") or {}).get("id"),
        "ts": container.get("message_ts") or (body.get("message") or {}).get("ts"),
    }


def reminder_clock_out(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    turn = _turn(body, client, services)
    meta = reminder_meta(body)
    if meta is None:
        turn.send(Reply(OUT_OF_DATE))
        return
    end_from_reminder(turn, meta)


def reminder_left_at(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    turn = _turn(body, client, services)
    meta = reminder_meta(body)
    times = session_times(meta)
    if meta is None or times is None:
        turn.send(Reply(OUT_OF_DATE))
        return
    started, latest = times
    tz = services.people.cached_zone(turn.team_id, turn.user_id)
    initial = min(started + timedelta(hours=8), latest or services.now(), services.now())
    open_view(
        turn, body["trigger_id"], left_at_view(meta, fmt.wall_time(initial.astimezone(tz)), tz), "the button again"
    )


NOT_A_NUDGE = "That button isn't on a clock-in reminder I sent you, so nothing was done. Use `/clockin`."


def nudge_clock_in(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    turn = _turn(body, client, services)
    container = body.get("container") or {}
    meta = {"channel": str(container.get("channel_id") or ""), "ts": str(container.get("message_ts") or "")}

    def work(actor: Actor) -> Reply | None:
        if not services.hygiene.nudged(actor, meta["channel"], meta["ts"]):
            return Reply(NOT_A_NUDGE)
        text = clock_message(services.clock.clock_in(actor), services.now())
        return update_reminder(turn, meta, text, [section(text)])

    turn.later(work)


def home_clock_in_reminder(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    """The Home tab's time picker (opt in at that time) or its "Turn off" button."""
    ack()
    action = (body.get("actions") or [{}])[0]
    chosen: time | None = None
    if action.get("type") == "timepicker":
        try:
            chosen = time.fromisoformat(action.get("selected_time") or "")
        except ValueError:
            return
    turn = _turn(body, client, services)

    def work(actor: Actor) -> None:
        services.hygiene.set_clock_in_reminder(actor, chosen)
        publish_home(services, client, actor)

    turn.later(work)
