"""Home's Slack-status buttons: the consent button opens Slack's OAuth page in the browser (its
click only needs an ack); "Stop showing my leave" forgets the person's token."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.domain import Actor
from bot.runtime.services import Services
from handlers.app_home import publish_home
from handlers.turn import Turn


def status_connect(ack: Ack) -> None:
    ack()


def status_disconnect(ack: Ack, body: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()

    def work(actor: Actor) -> None:
        services.away_status.disconnect(actor)
        publish_home(services, client, actor)

    Turn(services, client, body["team"]["id"], body["user"]["id"], body).later(work)
