"""Publishing a person's App Home tab: what each use case says about them, gathered into a
``HomeTab`` and drawn whole by ``handlers.render.home``. Shared by the ``app_home_opened`` event
and every button that changes what the tab shows."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.domain import Action, Actor
from bot.errors import UserError, VendorError
from bot.runtime.services import Services
from bot.usecases.followup import MyLeave
from handlers.render.home import HomeAwayStatus, HomeHygiene, HomeLeave, HomeTab, home_view
from handlers.turn import describe


def publish_home(services: Services, client: WebClient, actor: Actor) -> None:
    client.views_publish(user_id=actor.user_id, view=home_view(home_tab(services, actor)))


def home_tab(services: Services, actor: Actor) -> HomeTab:
    state = services.home.home(actor)
    now = services.now()
    hygiene = None
    if state.status.clock_linked:  # hours worked and the clock-in reminder
        hygiene = HomeHygiene(services.hours.today_and_week(actor), services.hygiene.clock_in_reminder(actor))
    leave = None
    if state.leave_vendor and state.leave_ready:  # my leave, balances
        leave = HomeLeave(_my_leave(services, actor), services.followup.balances(actor))
    else:  # no leave to list yet, but balances another vendor keeps
        leave = HomeLeave(None, services.followup.balances(actor))
    away_status = HomeAwayStatus(  # leave in the Slack status
        services.away_status.connected(actor.team_id, actor.user_id),
        services.away_status_connect_url,
        services.away_status_missing,
        actor.is_admin,
    )
    return HomeTab(state, actor.tz, now, hygiene, leave, away_status)


def _my_leave(services: Services, actor: Actor) -> MyLeave:
    """The person's leave; what went wrong reading it is said in its place."""
    try:
        return services.followup.my_leave(actor)
    except (VendorError, UserError) as exc:
        return MyLeave(services.router.label_for(Action.LEAVE), [], False, describe(exc))
