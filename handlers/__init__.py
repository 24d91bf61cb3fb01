"""Slack <-> use cases, one package per Slack surface. Nothing here knows which vendor is behind
an action or touches storage; listeners get the use cases as their ``services`` argument."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltResponse

from bot.services import Services
from handlers import actions, commands, errors, events, views


def register(app: App, services: Services) -> None:
    app.middleware(provide(services))
    commands.register(app)
    views.register(app)
    actions.register(app)
    events.register(app)
    errors.register(app)


def provide(services: Services) -> Callable[[BoltContext, Callable[[], BoltResponse]], BoltResponse | None]:
    """A global middleware that hands listeners the use cases: Bolt passes every context key to a
    listener that names it, so a listener takes ``services: Services``."""

    def with_services(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        context["services"] = services
        return next()

    return with_services
