"""Slack <-> use cases, one package per Slack surface. Nothing here knows which vendor is behind
an action or touches storage; listeners get the use cases as their ``services`` argument."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.runtime.services import Services
from handlers import actions, commands, errors, events, ids, resume, views


def register(app: App, services: Services, client: WebClient) -> None:
    """``client`` carries the bot token: the app's own has none (the workspace gate hands each
    request its token), and a takeover runs outside any request."""
    app.use(ProvideServices(services))
    commands.register(app)
    views.register(app)
    actions.register(app)
    events.register(app)
    app.action(ids.CLOCK_IN_NOW)(resume.clock_in_now)
    app.action(ids.CLOCK_OUT_NOW)(resume.clock_out_now)
    resume.register(services, client)
    errors.register(app)


class ProvideServices(Middleware):
    """A global middleware that hands listeners the use cases: Bolt passes every context key to a
    listener that names it, so a listener takes ``services: Services``. A class, not a closure, so
    everything registered on the app is defined at module level."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        req.context["services"] = self.services
        return next()
