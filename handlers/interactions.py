"""Modal submissions, buttons and the App Home tab."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import Services
from bot.parse import InputError, clean_text
from bot.usecases import Actor, end_for_picked_time, validate_leave
from bot.vendors.base import Action, LeaveRequest, Portion, VendorRejected
from handlers import blocks
from handlers.commands import metadata, open_leave_modal
from handlers.common import Reply, describe, later, send

log = logging.getLogger(__name__)

_LEAVE_FIELDS = {
    "start": "start",
    "end": "end",
    "start_portion": "start_portion",
    "end_portion": "end_portion",
    "leave_type": "leave_type",
    "note": "note",
}


def _value(state: dict[str, Any], block_id: str) -> Any:
    element = (state.get("values", {}).get(block_id) or {}).get("value") or {}
    kind = element.get("type")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "timepicker":
        return element.get("selected_time")
    if kind in {"static_select", "radio_buttons"}:
        return (element.get("selected_option") or {}).get("value")
    return element.get("value")


def _person_today(services: Services, team_id: str, user_id: str) -> tuple[date, Any]:
    """Today in the person's zone from the cached profile: no Slack call before the ack."""
    person = services.store.person(team_id, user_id)
    tz = services.bot.zone(person.tz if person else None)
    return services.bot.now().astimezone(tz).date(), tz


OUT_OF_DATE = "That clock-out form is out of date. Type `/clockout` again."


def session_times(meta: object) -> tuple[datetime, datetime | None] | None:
    """The session start and latest end a clock-out button or form carries; None when they
    aren't there or aren't times (a message from an older version, or tampered with)."""
    if not isinstance(meta, dict):
        return None
    try:
        started = datetime.fromtimestamp(float(meta["started"]), UTC)
        latest = datetime.fromtimestamp(float(meta["latest"]), UTC) if meta.get("latest") else None
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    return started, latest


def register(app: App, services: Services) -> None:
    bot = services.bot

    @app.view(blocks.LEAVE_CALLBACK)
    def leave_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        state = view.get("state", {})
        errors: dict[str, str] = {}
        parsed: dict[str, Any] = {}
        for block in ("start", "end"):
            raw = _value(state, block)
            try:
                parsed[block] = date.fromisoformat(raw) if raw else None
            except ValueError:
                parsed[block] = None
            if parsed[block] is None:
                errors[block] = "Pick a date."
        try:
            note = clean_text(_value(state, "note"), what="note", limit=300)
        except InputError as exc:
            errors["note"] = str(exc)
            note = None
        leave_type = _value(state, "leave_type")
        if not leave_type:
            errors["leave_type"] = "Pick a type of leave."
        portions: dict[str, Portion] = {}
        for block in ("start_portion", "end_portion"):
            try:
                portions[block] = Portion(_value(state, block) or "full")
            except ValueError:
                errors[block] = "Pick one of the choices."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        request = LeaveRequest(
            start=parsed["start"],
            end=parsed["end"],
            leave_type="" if leave_type == blocks.ANY_LEAVE_TYPE else leave_type,
            start_portion=portions["start_portion"],
            end_portion=portions["end_portion"],
            note=note,
        )
        today, _ = _person_today(services, team_id, user_id)
        problems = validate_leave(request, today)
        if problems:
            ack(response_action="errors", errors={_LEAVE_FIELDS[k]: v for k, v in problems.items()})
            return
        view_id = view["id"]
        leave_vendor = bot.router.maybe(Action.LEAVE)
        label = leave_vendor.label if leave_vendor else "the vendor"
        ack(response_action="update", view=blocks.loading_view("Request leave", f"Sending your request to {label}…"))

        def work(actor: Actor) -> Reply:
            result = bot.request_leave(actor, request)
            text = blocks.leave_confirmation(result, actor.tz)
            _update(client, view_id, blocks.message_view("Request leave", text))
            return Reply(text)

        def on_error(exc: BaseException) -> Reply:
            message = describe(services, exc)
            if isinstance(exc, VendorRejected) and not exc.user_message.startswith(exc.vendor):
                message = f"{blocks.esc(exc.vendor)} didn't accept the request: {blocks.esc(exc.user_message)}"
            _update(client, view_id, blocks.message_view("Request leave", message))
            return Reply(message)

        def on_slow(text: str) -> None:
            _update(client, view_id, blocks.message_view("Request leave", text))

        slow = f":hourglass_flowing_sand: {label} is slow to answer; I'll message you as soon as it does."
        later(services, team_id, user_id, client, work, request=body, slow=slow, on_error=on_error, on_slow=on_slow)

    @app.view(blocks.LINK_CALLBACK)
    def link_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        meta = metadata(view)
        vendor_name = meta.get("vendor")
        if vendor_name not in bot.router.vendors:
            ack(response_action="update", view=blocks.message_view("Link", "That vendor is no longer configured."))
            return
        vendor = bot.router.vendors[vendor_name]
        fields: dict[str, str] = {}
        errors: dict[str, str] = {}
        for f in vendor.link_fields:
            value = (_value(view.get("state", {}), f"link_{f.name}") or "").strip()
            if not value:
                errors[f"link_{f.name}"] = f"Enter your {f.label}."
            fields[f.name] = value
        if errors:
            ack(response_action="errors", errors=errors)
            return
        view_id = view["id"]
        target = meta.get("target")
        ack(
            response_action="update", view=blocks.loading_view(f"Link {vendor.label}", f"Checking with {vendor.label}…")
        )

        def work(actor: Actor) -> None:
            linked = bot.link(actor, vendor_name, fields, target)
            who = f"<@{target}> is" if target and target != actor.user_id else "You're"
            _update(
                client,
                view_id,
                blocks.message_view(
                    f"Link {vendor.label}",
                    f":white_check_mark: {who} linked to {linked.label} as {blocks.esc(linked.who)}.",
                ),
            )

        def on_error(exc: BaseException) -> None:
            message = describe(services, exc)
            _update(
                client,
                view_id,
                blocks.link_view(vendor.label, vendor.link_fields, meta, error=message, for_whom=target),
            )

        later(services, team_id, user_id, client, work, request=body, on_error=on_error)

    @app.view(blocks.END_TIME_CALLBACK)
    def end_time_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        meta = metadata(view)
        raw = _value(view.get("state", {}), "end_time") or ""
        try:
            picked = time.fromisoformat(raw)
        except ValueError:
            ack(response_action="errors", errors={"end_time": "Pick a time."})
            return
        times = session_times(meta)
        if times is None:
            ack(response_action="update", view=blocks.message_view("Clock out", OUT_OF_DATE))
            return
        started, latest = times
        _, tz = _person_today(services, team_id, user_id)
        end = end_for_picked_time(started, picked, tz, latest)
        if end <= started:
            ack(
                response_action="errors",
                errors={"end_time": f"You clocked in at {blocks.fmt_time(started, tz)}; pick a later time."},
            )
            return
        if latest is not None and end > latest:
            ack(
                response_action="errors",
                errors={"end_time": f"Pick a time no later than {blocks.fmt_time(latest, tz)} on the day you started."},
            )
            return
        ack()
        later(
            services,
            team_id,
            user_id,
            client,
            lambda actor: Reply(blocks.clock_message(bot.clock_out(actor, at=end), bot.now())),
            request=body,
        )

    @app.action("clockout_pick_time")
    def pick_time(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        try:
            meta = json.loads(body["actions"][0].get("value") or "{}")
        except ValueError:
            meta = None
        times = session_times(meta)
        if times is None:
            send(client, body["user"]["id"], Reply(OUT_OF_DATE), respond)
            return
        started, latest = times
        _, tz = _person_today(services, body["team"]["id"], body["user"]["id"])
        initial = min(started + timedelta(hours=8), latest or started + timedelta(hours=8))
        try:
            client.views_open(
                trigger_id=body["trigger_id"], view=blocks.end_time_view(meta, initial.astimezone(tz).strftime("%H:%M"))
            )
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    def home_action(body: dict[str, Any], client: WebClient, work: Any) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]

        def run(actor: Actor) -> Reply | None:
            reply = work(actor)
            publish_home(services, client, actor)
            return reply

        later(services, team_id, user_id, client, run, request=body)

    @app.action("home_clock_in")
    def home_clock_in(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        home_action(body, client, lambda actor: Reply(blocks.clock_message(bot.clock_in(actor), bot.now())))

    @app.action("home_clock_out")
    def home_clock_out(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()

        def work(actor: Actor) -> Reply:
            result = bot.clock_out(actor)
            if result.outcome == "crosses_midnight":
                return Reply(blocks.clock_message(result, bot.now()), blocks.midnight_blocks(result, bot.now()))
            return Reply(blocks.clock_message(result, bot.now()))

        home_action(body, client, work)

    @app.action("home_request_leave")
    def home_request_leave(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_leave_modal(services, client, body["team"]["id"], body["user"]["id"], body["trigger_id"], None, body)

    @app.action("home_link")
    def home_link(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        vendor = bot.link_vendor()
        try:
            client.views_open(
                trigger_id=body["trigger_id"],
                view=blocks.link_view(vendor.label, vendor.link_fields, {"vendor": vendor.name, "target": None}),
            )
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        team_id = body.get("team_id") or event.get("view", {}).get("team_id", "")
        later(
            services,
            team_id,
            event["user"],
            client,
            lambda actor: publish_home(services, client, actor),
            request=body,
            on_error=lambda exc: log.warning("home tab not published: %s", exc),
        )


def publish_home(services: Services, client: WebClient, actor: Actor) -> None:
    state = services.bot.home(actor)
    client.views_publish(user_id=actor.user_id, view=blocks.home_view(state, actor.tz, services.bot.now()))


def _update(client: WebClient, view_id: str, view: dict[str, Any]) -> None:
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        log.info("views.update failed (the person may have closed it): %s", exc.response.get("error"))


__all__ = ["publish_home", "register", "send"]
