"""The leave form's submission: parse the fields, let the leave use case check the request
(field errors go back in the ack, holidays included once cached), then send it to the vendor after
the ack; a request of holidays only found there gets the form back with the error at its field."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.domain import Action, Actor, LeaveRequest, Portion
from bot.errors import FormErrors, VendorError, VendorRejected
from bot.parse import InputError, clean_text, esc
from bot.runtime.services import Services
from handlers.modals import update_view
from handlers.payload import leave_payload, selected_text, value
from handlers.render import leave
from handlers.render.blocks import loading_view, message_view
from handlers.turn import Reply, Turn, describe


def parse_leave_form(state: dict[str, Any]) -> tuple[LeaveRequest | None, dict[str, str]]:
    """The request the form describes, or the field errors that keep it from describing one."""
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for block in ("start", "end"):
        raw = value(state, block)
        try:
            days[block] = date.fromisoformat(raw) if raw else None
        except ValueError:
            days[block] = None
        if days[block] is None:
            errors[block] = "Pick a date."
    try:
        note = clean_text(value(state, "note"), what="note", limit=300)
    except InputError as exc:
        errors["note"] = str(exc)
        note = None
    leave_type = value(state, "leave_type")
    if not leave_type:
        errors["leave_type"] = "Pick a type of leave."
    portions: dict[str, Portion] = {}
    for block in ("start_portion", "end_portion"):
        try:
            portions[block] = Portion(value(state, block) or "full")
        except ValueError:
            errors[block] = "Pick one of the choices."
    start, end = days["start"], days["end"]
    if errors or start is None or end is None:
        return None, errors
    return LeaveRequest(
        start=start,
        end=end,
        leave_type="" if leave_type == leave.ANY_LEAVE_TYPE else leave_type,
        start_portion=portions["start_portion"],
        end_portion=portions["end_portion"],
        note=note,
    ), {}


def leave_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services
) -> None:
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    request, errors = parse_leave_form(view.get("state", {}))
    if request is not None:
        errors = services.leave.problems(team_id, user_id, request, selected_text(view.get("state", {}), "leave_type"))
    if request is None or errors:
        ack(response_action="errors", errors=errors)
        return
    view_id = view["id"]
    label = services.router.label_for(Action.LEAVE)
    ack(response_action="update", view=loading_view("Request leave", f"Sending your request to {label}…"))
    turn = Turn(services, client, team_id, user_id, body)

    def work(actor: Actor) -> Reply:
        try:
            result = services.leave.request_leave(actor, request)
        except FormErrors as exc:  # holidays only, found after the ack (the cache was cold): the form again
            update_view(turn, view_id, _form_again(services, actor, view, request, exc))
            return Reply(f"Your leave wasn't requested: {esc(exc.message.rstrip('.'))}.")
        text = leave.leave_confirmation(result, actor.tz, services.settings.sick_leave)
        update_view(turn, view_id, message_view("Request leave", text))
        return Reply(text)

    def on_error(exc: BaseException) -> Reply:
        message = describe(exc)
        if isinstance(exc, VendorRejected) and not exc.user_message.startswith(exc.vendor):
            message = f"{esc(exc.vendor)} didn't accept the request: {esc(exc.user_message)}"
        update_view(turn, view_id, message_view("Request leave", message))
        return Reply(message)

    def on_slow(text: str) -> None:
        update_view(turn, view_id, message_view("Request leave", text))

    slow = f":hourglass_flowing_sand: {label} is slow to answer; I'll message you as soon as it does."
    turn.later(work, slow=slow, on_error=on_error, on_slow=on_slow, durable=("timeoff", leave_payload(request)))


def _form_again(
    services: Services, actor: Actor, view: dict[str, Any], request: LeaveRequest, exc: FormErrors
) -> dict[str, Any]:
    """The form as submitted with its errors at their fields; the bare message if the vendor
    can't give the form's choices now."""
    try:
        form = services.leave.leave_form(actor)
    except VendorError:
        return message_view("Request leave", f":warning: {esc(exc.message)}")
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    return leave.leave_view_again(
        form, actor.today(services.now()), metadata if isinstance(metadata, dict) else {}, request, exc.errors
    )
