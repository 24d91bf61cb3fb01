"""Finishing an action another process accepted and didn't finish (it died, or was stopped), and
telling the person exactly once what is true now.

Each resumer reads the vendor before writing anything again: the dead process may have written
already, and its answer is lost. A clock-in finds a running session ("clocked in since 09:02") or
clocks in, at the time the person asked where the vendor records one. An action older than
TIMEBOT_RESUME_WITHIN is only read and reported, with a button to do it now. When the vendor
can't be read, the person is told that plainly, with a button to try again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot import formatting as fmt
from bot.domain import Action, Actor
from bot.errors import Busy, OutcomeUnknown
from bot.parse import esc
from bot.runtime.intake import COMMAND, Resumed
from bot.runtime.services import Services
from bot.usecases.clock import ClockResult
from bot.usecases.leave import find_leave
from bot.usecases.typed_leave import resumed_request
from handlers import ids
from handlers.payload import leave_from_payload
from handlers.render.blocks import actions, button, message_view, section
from handlers.render.clock import clock_message, duration
from handlers.render.leave import leave_confirmation
from handlers.replies import clock_out_reply
from handlers.turn import Reply, Turn, describe, send

RESPONSE_URL_LIFE = 25 * 60  # Slack keeps a response_url 30 minutes; after that the answer goes by DM


def register(services: Services, client: WebClient) -> None:
    services.intake.resumers["clockin"] = lambda r: resume_clock_in(services, client, r)
    services.intake.resumers["clockout"] = lambda r: resume_clock_out(services, client, r)
    services.intake.resumers["timeoff"] = lambda r: resume_leave_request(services, client, r)
    services.intake.resumers["cancel"] = lambda r: resume_cancel(services, client, r)
    services.intake.resumers["link"] = lambda r: resume_link(services, client, r)


def _respond(services: Services, r: Resumed) -> Respond | None:
    if not r.response_url or (services.now() - r.accepted_at).total_seconds() > RESPONSE_URL_LIFE:
        return None
    return Respond(response_url=r.response_url)


def _with_button(text: str, label: str, action_id: str) -> Reply:
    """``text``, and a button to do it now: the leave and link buttons are App Home's own, so
    they open their form from a message too."""
    return Reply(text, [section(text), actions(button(action_id, label, style="primary", value=action_id))])


def _at(moment: datetime, actor: Actor, now: datetime) -> str:
    return fmt.clock(moment, actor.tz, with_day=True, today=now.astimezone(actor.tz).date())


def _resume_clock(
    services: Services,
    client: WebClient,
    r: Resumed,
    run: Callable[[Actor], ClockResult],
    tell: Callable[[ClockResult, str, Callable[[datetime], str]], Reply],
    button: str,
    action_id: str,
) -> str | None:
    """A clock-in or clock-out finished by ``run``; what came of it told by ``tell`` (the result,
    "Your /clockin from …", and how to show a time to this person), or, when the vendor couldn't
    be read or written, said plainly with ``button`` to try again."""
    actor = services.people.actor(r.team_id, r.user_id)
    now = services.now()
    asked = f"Your {COMMAND[r.kind]} from {_at(r.accepted_at, actor, now)}"
    label = services.router.label_for(Action.CLOCK)
    try:
        result = run(actor)
    except Busy:
        return None  # the person's lease is still held: the next recovery tries again
    except OutcomeUnknown:
        reply = _with_button(
            f":warning: {asked} was interrupted by a restart, and I can't tell whether it reached "
            f"{label}: it didn't answer when I checked. Try again?",
            button,
            action_id,
        )
        outcome = "unknown"
    except Exception as exc:
        reply = _with_button(
            f":warning: {asked} was interrupted by a restart and couldn't be finished: {describe(exc)}",
            button,
            action_id,
        )
        outcome = "failed"
    else:
        reply = tell(result, asked, lambda moment: _at(moment, actor, now))
        outcome = result.outcome
    send(client, r.user_id, reply, _respond(services, r))
    return outcome


def resume_clock_in(services: Services, client: WebClient, r: Resumed) -> str | None:
    def run(actor: Actor) -> ClockResult:
        return services.clock.clock_in(actor, project=r.payload.get("project"), at=r.accepted_at, write=not r.stale)

    def tell(result: ClockResult, asked: str, at: Callable[[datetime], str]) -> Reply:
        s = result.session
        if result.outcome == "already_in" and s is not None:
            return Reply(
                f":large_green_circle: {asked} was finished after a restart: {result.vendor} shows you "
                f"clocked in since {at(s.started_at)}."
            )
        if result.outcome == "clocked_in" and s is not None:
            when = (
                "at the time you asked"
                if result.backdated
                else f"{result.vendor} records the time a clock-in arrives, so it shows {at(s.started_at)}"
            )
            return Reply(
                f":large_green_circle: {asked} was finished after a restart: you're clocked in at "
                f"{result.vendor} since {at(s.started_at)} ({when})."
            )
        # stale and not there: reported, not written
        return _with_button(
            f":warning: {asked} didn't reach {result.vendor} before a restart, so you're not clocked in. Clock in now?",
            "Clock in now",
            ids.CLOCK_IN_NOW,
        )

    return _resume_clock(services, client, r, run, tell, "Clock in", ids.CLOCK_IN_NOW)


def resume_clock_out(services: Services, client: WebClient, r: Resumed) -> str | None:
    def run(actor: Actor) -> ClockResult:
        return services.clock.clock_out(
            actor, note=r.payload.get("note"), at=r.accepted_at, asked_at=r.accepted_at, write=not r.stale
        )

    def tell(result: ClockResult, asked: str, at: Callable[[datetime], str]) -> Reply:
        s = result.session
        if result.outcome == "not_in":
            return Reply(
                f":red_circle: {asked} was finished after a restart: {result.vendor} shows no running "
                "session, so you're clocked out."
            )
        if result.outcome == "clocked_out" and s is not None:
            return Reply(
                f":red_circle: {asked} was finished after a restart: clocked out at "
                f"{at(s.ended_at or r.accepted_at)} (the time you asked), after "
                f"{duration(s.started_at, s.ended_at or r.accepted_at)}."
            )
        if result.outcome == "started_after" and s is not None:
            return Reply(
                f"{asked} was interrupted by a restart. You clocked in again since "
                f"({at(s.started_at)}), so I left that session running."
            )
        if result.outcome == "crosses_midnight":
            return Reply(
                f":warning: {asked} was interrupted by a restart, and {result.vendor} can't end that "
                "session after midnight. Use `/clockout` to pick when you stopped."
            )
        # stale, still running: reported, not written
        return _with_button(
            f":warning: {asked} didn't reach {result.vendor} before a restart, so you're still "
            "clocked in. Clock out now?",
            "Clock out now",
            ids.CLOCK_OUT_NOW,
        )

    return _resume_clock(services, client, r, run, tell, "Clock out", ids.CLOCK_OUT_NOW)


def clock_in_now(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    ack()
    turn = Turn(services, client, body["team"]["id"], body["user"]["id"], body, respond)
    turn.later(
        lambda actor: Reply(clock_message(services.clock.clock_in(actor), services.now())),
        durable=("clockin", {}),
    )


def clock_out_now(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, services: Services) -> None:
    ack()
    turn = Turn(services, client, body["team"]["id"], body["user"]["id"], body, respond)
    turn.later(lambda actor: clock_out_reply(services, actor), durable=("clockout", {}))


def resume_leave_request(services: Services, client: WebClient, r: Resumed) -> str | None:
    """A leave request looks for the off-time on those dates first; it is sent again only when the
    vendor shows none and the request is recent."""
    actor = services.people.actor(r.team_id, r.user_id)
    now = services.now()
    request = leave_from_payload(r.payload)
    days = f"{fmt.day(request.start)}" + ("" if request.end == request.start else f" to {fmt.day(request.end)}")
    asked = f"Your leave request for {days}, sent {_at(r.accepted_at, actor, now)},"
    label = services.router.label_for(Action.LEAVE)
    try:
        found, checked = find_leave(services.leave, actor, request)
        if found is not None:
            reply = Reply(
                f":white_check_mark: {asked} was finished after a restart: {label} has it ({esc(found.status)})."
            )
            outcome = "found"
        elif not checked:
            reply = _with_button(
                f":warning: {asked} was interrupted by a restart, and I can't tell whether it "
                f"reached {label}: it didn't answer when I checked. Look in {label}, or request it "
                "again?",
                "Request leave",
                ids.HOME_REQUEST_LEAVE,
            )
            outcome = "unknown"
        elif r.stale:
            reply = _with_button(
                f":warning: {asked} didn't reach {label} before a restart, so it wasn't requested. Request it now?",
                "Request leave",
                ids.HOME_REQUEST_LEAVE,
            )
            outcome = "not_sent"
        else:
            result = services.leave.request_leave(actor, resumed_request(services.leave, request, r.payload))
            reply = Reply(f"{asked} was finished after a restart. {leave_confirmation(result, actor.tz)}")
            outcome = "requested"
    except OutcomeUnknown:
        reply = _with_button(
            f":warning: {asked} was interrupted by a restart, and I can't tell whether it reached "
            f"{label}. Look in {label}, or request it again?",
            "Request leave",
            ids.HOME_REQUEST_LEAVE,
        )
        outcome = "unknown"
    except Exception as exc:
        reply = _with_button(
            f":warning: {asked} was interrupted by a restart and couldn't be finished: {describe(exc)}",
            "Request leave",
            ids.HOME_REQUEST_LEAVE,
        )
        outcome = "failed"
    send(client, r.user_id, reply, _respond(services, r))
    return outcome


def resume_cancel(services: Services, client: WebClient, r: Resumed) -> str | None:
    """A cancel reads the request back: gone means it was cancelled; still there, it is cancelled
    now when the click is recent, else the person is asked."""
    actor = services.people.actor(r.team_id, r.user_id)
    now = services.now()
    asked = f"Your cancel of a leave request at {_at(r.accepted_at, actor, now)}"
    label = services.router.label_for(Action.LEAVE)
    request_id = str(r.payload.get("request_id") or "")
    followup = services.followup
    try:
        if followup is None or not request_id:
            raise Busy("That button didn't say which request to cancel.")
        absence = followup.still_there(actor, request_id)
        if absence is None:
            reply = Reply(
                f":white_check_mark: {asked} was finished after a restart: {label} no longer has "
                "that request, so it is cancelled."
            )
            outcome = "gone"
        elif r.stale:
            reply = Reply(
                f":warning: {asked} didn't reach {label} before a restart: your "
                f"{esc(absence.kind or 'leave')} from {absence.start} to {absence.end} is still "
                "requested. Use `/timeoff list` to cancel it now."
            )
            outcome = "not_sent"
        else:
            reply = Reply(f"{asked} was finished after a restart. {followup.cancel_again(actor, request_id)}")
            outcome = "cancelled"
    except Exception as exc:
        reply = Reply(
            f":warning: {asked} was interrupted by a restart and couldn't be finished: {describe(exc)} "
            f"Look in {label}, or use `/timeoff list` to try again."
        )
        outcome = "failed"
    send(client, r.user_id, reply, _respond(services, r))
    return outcome


def resume_link(services: Services, client: WebClient, r: Resumed) -> str | None:
    """Linking is not resumed: what the person typed (a PIN) is never stored. They are told, and
    the form they may still have open says so too."""
    actor = services.people.actor(r.team_id, r.user_id)
    label = str(r.payload.get("vendor") or "your vendor")
    vendor = services.people.link_target(r.payload.get("vendor"))
    if vendor is not None:
        label = vendor.label
    text = (
        f":warning: Linking your {label} account ({_at(r.accepted_at, actor, services.now())}) was interrupted "
        "by a restart. I don't keep what you typed in the form, so it may not have been finished: "
        "link again to be sure."
    )
    view_id = r.payload.get("view_id")
    if view_id:
        with contextlib.suppress(Exception):  # the form may be closed by now: the DM below says it all
            client.views_update(view_id=str(view_id), view=message_view(f"Link {label}", text))
    send(client, r.user_id, _with_button(text, "Link again", ids.HOME_LINK), None)
    return "not_resumed"
