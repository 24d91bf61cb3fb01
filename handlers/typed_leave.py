"""``/timeoff sick today``: clear typed text is sent at once, through the same durable path as the
leave form, and answered with what was sent and an **Undo** button (the Cancel of "your leave",
under its own action id). A kind that names no type or several gets a button that opens the
form filled in: the command's trigger is spent by then."""

from __future__ import annotations

import json
from typing import Any

from bot.domain import Action, Actor
from bot.errors import FormErrors, VendorRejected
from bot.parse import esc, quote
from bot.usecases.typed_leave import KIND_WORDS, TypedLeave, send_typed
from handlers import ids
from handlers.payload import leave_payload
from handlers.render import blocks
from handlers.render.leave import leave_confirmation
from handlers.turn import Reply, Turn, describe


def send_typed_leave(turn: Turn, typed: TypedLeave) -> None:
    """After the ack: pick the type the words name and send the request, durably (the intake
    finishes it after a crash, as it does the form's)."""
    services = turn.services
    label = services.router.label_for(Action.LEAVE)
    request = typed.request("")

    def work(actor: Actor) -> Reply:
        try:
            outcome = send_typed(services.leave, actor, request, typed.kind)
        except FormErrors as exc:
            return Reply(f"Your leave wasn't requested ({esc(typed.days)}): {esc(exc.message)}")
        if outcome.result is None:
            said = f"I read {quote(typed.text, 60)} as {typed.days}, but {outcome.why_not(typed.kind)}"
            return Reply(said, [blocks.section(said), _open_form_button(typed)])
        text = leave_confirmation(outcome.result, actor.tz, services.settings.sick_leave)
        absence_id = outcome.result.absence.absence_id
        if not outcome.can_undo or not absence_id:
            return Reply(text)
        return Reply(text, [blocks.section(text), _undo_button(absence_id)])

    def on_error(exc: BaseException) -> Reply:
        message = describe(exc)
        if isinstance(exc, VendorRejected) and not exc.user_message.startswith(exc.vendor):
            message = f"{esc(exc.vendor)} didn't accept the request: {esc(exc.user_message)}"
        return Reply(message)

    slow = f":hourglass_flowing_sand: {label} is slow to answer; I'll message you as soon as it does."
    payload = {**leave_payload(request), KIND_WORDS: typed.kind}
    turn.later(work, slow=slow, on_error=on_error, durable=("timeoff", payload))


def _undo_button(absence_id: str) -> dict[str, Any]:
    return blocks.actions(blocks.button(ids.LEAVE_UNDO, "Undo", value=json.dumps({"id": absence_id})[:2000]))


def _open_form_button(typed: TypedLeave) -> dict[str, Any]:
    assert typed.start is not None and typed.end is not None
    value = {
        "start": typed.start.isoformat(),
        "end": typed.end.isoformat(),
        "half_start": typed.half_start,
        "half_end": typed.half_end,
        "kind": typed.kind,
    }
    return blocks.actions(
        blocks.button(ids.TYPED_LEAVE_FORM, "Open the form", style="primary", value=json.dumps(value)[:2000])
    )
