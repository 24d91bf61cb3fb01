"""Answers more than one listener gives: a clock-out (from ``/clockout``, App Home and the
after-a-restart button) and "your leave" (``/timeoff list``, and again after a Cancel or a page
button). Each is one use case call and its renderer."""

from __future__ import annotations

from bot.domain import Actor
from bot.runtime.services import Services
from handlers.render import clock, leave
from handlers.turn import Reply


def clock_out_reply(services: Services, actor: Actor, note: str | None = None) -> Reply:
    """The answer to a clock-out, with the end-time picker when the session crossed midnight."""
    result = services.clock.clock_out(actor, note=note)
    if result.outcome == "crosses_midnight":
        return Reply(clock.clock_message(result, services.now()), clock.midnight_blocks(result, services.now()))
    return Reply(clock.clock_message(result, services.now()))


def my_leave_reply(services: Services, actor: Actor, page: int = 0) -> Reply:
    followup = services.followup
    blocks = leave.my_leave_blocks(followup.my_leave(actor), page, followup.balances(actor))
    return Reply("Your leave", blocks)
