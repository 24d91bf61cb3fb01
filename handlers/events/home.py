"""The App Home tab: published when the person opens it, and after each Home button."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.domain import Action, Actor
from bot.errors import UserError, VendorError
from bot.runtime.services import Services
from bot.usecases.followup import Balances, MyLeave
from handlers.render import blocks, leave
from handlers.render.away_status import status_section
from handlers.render.hygiene import home_hygiene_blocks
from handlers.turn import Turn, describe

log = logging.getLogger(__name__)


def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient, services: Services) -> None:
    if event.get("tab", "home") != "home":
        return
    team_id = body.get("team_id") or event.get("view", {}).get("team_id", "")
    Turn(services, client, team_id, event["user"], body).later(
        lambda actor: publish_home(services, client, actor),
        on_error=lambda exc: log.warning("home tab not published: %s", exc),
    )


def publish_home(services: Services, client: WebClient, actor: Actor) -> None:
    state = services.home.home(actor)
    view = blocks.home_view(state, actor.tz, services.now())
    if services.hygiene is not None and state.status.clock_linked:  # hours worked and the clock-in reminder
        hours = services.hours.today_and_week(actor)
        extra = home_hygiene_blocks(hours, services.hygiene.clock_in_reminder(actor))
        view["blocks"] = (view["blocks"][:-1] + extra + view["blocks"][-1:])[:100]
    if services.followup is not None and state.leave_vendor and state.leave_ready:  # my leave, balances
        view = leave.with_my_leave(view, *_my_leave(services, actor))
    elif services.followup is not None:  # no leave to list yet, but balances another vendor keeps
        view = leave.with_my_leave(view, None, services.followup.balances(actor))
    if services.away_status is not None:  # leave in the Slack status
        view["blocks"] += status_section(
            services.away_status.connected(actor.team_id, actor.user_id),
            services.away_status_connect_url,
            services.away_status_missing,
            actor.is_admin,
        )
    client.views_publish(user_id=actor.user_id, view=view)


def _my_leave(services: Services, actor: Actor) -> tuple[MyLeave, Balances | None]:
    followup = services.followup
    assert followup is not None
    try:
        mine = followup.my_leave(actor)
    except (VendorError, UserError) as exc:
        mine = MyLeave(services.router.label_for(Action.LEAVE), [], False, describe(exc))
    return mine, followup.balances(actor)
