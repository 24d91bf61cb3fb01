"""The user-token half of Slack's OAuth v2 flow, run by Bolt's ``OAuthFlow``: each person grants
Timebot their own token to change their status (the bot token itself comes from settings).

Our stores implement slack_sdk's interfaces over our database: states are single-use and expire
after ten minutes; the installation store keeps only the person's user token, encrypted.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from logging import Logger
from urllib.parse import urlsplit

from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.bolt_setup import hidden_slack_environment
from bot.config import Settings
from bot.usecases.leave_status import LeaveStatus
from storage.leave_status import LeaveStatusStore

log = logging.getLogger(__name__)

USER_SCOPES = ("users.profile:read", "users.profile:write", "dnd:write")
START_PATH = "/slack/oauth/start"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600


class SqlStateStore(OAuthStateStore):
    def __init__(self, store: LeaveStatusStore, now: Callable[[], datetime], seconds: int = STATE_SECONDS) -> None:
        self.store = store
        self.now = now
        self.seconds = seconds

    @property
    def logger(self) -> Logger:
        return log

    def issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(32)
        self.store.add_state(state, self.now() + timedelta(seconds=self.seconds))
        return state

    def consume(self, state: str) -> bool:
        return bool(state) and self.store.consume_state(state, self.now())


class UserTokenStore(InstallationStore):
    """Keeps the consenting person's user token (through ``LeaveStatus.connect``), nothing else.

    The first look at their leave goes to ``later`` (the bot's work pool): bounded, closed with
    the bot, and something a caller can wait on, unlike a loose thread."""

    def __init__(self, leave_status: LeaveStatus, later: Callable[[Callable[[], None]], object]) -> None:
        self.leave_status = leave_status
        self.later = later

    @property
    def logger(self) -> Logger:
        return log

    def save(self, installation: Installation) -> None:
        if not installation.user_token or not installation.user_id or not installation.team_id:
            raise ValueError("the OAuth answer carried no user token")
        # the first look may call Slack and the vendor: the browser is answered without waiting for it
        token, team, user, scopes = (installation.user_token, installation.team_id, installation.user_id,
                                     ",".join(installation.user_scopes or []))
        self.leave_status.connect(team, user, token, scopes)
        self.later(lambda: self._first_look(team, user))

    def _first_look(self, team_id: str, user_id: str) -> None:
        try:
            self.leave_status.leave_changed(team_id, user_id)
        except Exception:
            log.exception("leave status: first look for %s failed", user_id)


def authorize_url(settings: Settings) -> str:
    """Slack's authorize page on the same host as the Web API (slack.com, or the local stand-in)."""
    parts = urlsplit(settings.api_url)
    return f"{parts.scheme}://{parts.netloc}/oauth/v2/authorize"


def missing_settings(settings: Settings) -> list[str]:
    names = [("TIMEBOT_PUBLIC_URL", settings.public_url), ("SLACK_CLIENT_ID", settings.slack_client_id),
             ("SLACK_CLIENT_SECRET", settings.slack_client_secret)]
    return [name for name, value in names if not value]


def _page(status: int, title: str, text: str) -> BoltResponse:
    body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>")
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})


def _success(args: SuccessArgs) -> BoltResponse:
    return _page(200, "Done", "Timebot will show your leave in your Slack status. You can close this tab.")


def _failure(args: FailureArgs) -> BoltResponse:
    log.info("status consent refused: %s", args.reason)
    words = {"invalid_state": "This link was already used or has expired (after 10 minutes).",
             "invalid_browser": "This link was opened in another browser than the one that started it.",
             "access_denied": "You didn't allow it, so nothing changed."}
    return _page(args.suggested_status_code, "Not connected",
                 words.get(args.reason, "Slack didn't confirm it.") + " Start again from Timebot's Home tab.")


def status_oauth_flow(settings: Settings, leave_status: LeaveStatus,
                      later: Callable[[Callable[[], None]], object]) -> OAuthFlow | None:
    """Bolt's OAuth flow for the status consent, or None when a setting it needs is missing."""
    if missing_settings(settings):
        return None
    assert settings.slack_client_id and settings.slack_client_secret and settings.public_url
    # every value passed, and the variables Bolt would fill gaps from hidden: see bot/bolt_setup.py
    with hidden_slack_environment():
        oauth = OAuthSettings(
            client_id=settings.slack_client_id, client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=[], user_scopes=list(USER_SCOPES), redirect_uri=settings.public_url.rstrip("/") + REDIRECT_PATH,
            install_path=START_PATH, install_page_rendering_enabled=False, redirect_uri_path=REDIRECT_PATH,
            authorization_url=authorize_url(settings), installation_store=UserTokenStore(leave_status, later),
            state_store=SqlStateStore(leave_status.store, leave_status.people.now),
            state_expiration_seconds=STATE_SECONDS,
            callback_options=CallbackOptions(success=_success, failure=_failure), logger=log,
        )
        return OAuthFlow(client=WebClient(base_url=settings.api_url, timeout=10), settings=oauth, logger=log)
