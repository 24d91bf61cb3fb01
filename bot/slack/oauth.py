"""The user-token half of Slack's OAuth v2 flow, on Bolt's ``OAuthFlow``: each person grants
Timebot their own token to change their status (the bot token itself comes from settings).

The start route writes nothing: its ``state`` is signed (HMAC under a key derived from the client
secret) and carries its expiry, so anonymous requests cannot grow a table. Single use is enforced
at the callback, which records the state's nonce in a purged table with a hard ceiling.

The callback is ours rather than Bolt's: we exchange the code ourselves (Bolt logs the code when an
exchange fails), check Slack's answer before anything is stored (this workspace, a real user token
with the scope we need), and log the browser's ``error`` only as a known word or a short repr.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from logging import Logger
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.config import Settings
from bot.slack.bolt import hidden_slack_environment
from bot.usecases.away_status import AwayStatus
from bot.usecases.ports import Members
from storage.away_status import AwayStatusStore

log = logging.getLogger(__name__)

USER_SCOPES = ("users.profile:read", "users.profile:write", "dnd:write")
START_PATH = "/slack/oauth/start"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600
# Used states remembered at once (each for at most STATE_SECONDS): a flood of callbacks can delay
# consents for ten minutes at worst, never fill the database.
MAX_USED_STATES = 5000
_STATE = re.compile(r"(?P<nonce>[A-Za-z0-9_-]{16,64})\.(?P<expires>\d{1,12})\.(?P<mac>[A-Za-z0-9_-]{16,64})")
_WORD = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TEAM = re.compile(r"T[A-Z0-9]{1,31}")


class SqlStateStore(OAuthStateStore):
    """Signed states (``nonce.expiry.mac``): issuing one writes nothing; consuming one records its
    nonce until it would have expired anyway, so it works once."""

    def __init__(
        self,
        store: AwayStatusStore,
        now: Callable[[], datetime],
        seconds: int = STATE_SECONDS,
        *,
        secret: str,
        limit: int = MAX_USED_STATES,
    ) -> None:
        self.store = store
        self.now = now
        self.seconds = seconds
        self.key = hmac.new(secret.encode(), b"timebot status consent state", hashlib.sha256).digest()
        self.limit = limit

    @property
    def logger(self) -> Logger:
        return log

    def _mac(self, signed: str) -> str:
        digest = hmac.new(self.key, signed.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, *args: object, **kwargs: object) -> str:
        signed = f"{secrets.token_urlsafe(24)}.{int(self.now().timestamp()) + self.seconds}"
        return f"{signed}.{self._mac(signed)}"

    def consume(self, state: str) -> bool:
        found = _STATE.fullmatch(state or "")
        if found is None:
            return False
        signed = f"{found['nonce']}.{found['expires']}"
        if not hmac.compare_digest(self._mac(signed).encode(), found["mac"].encode()):
            return False
        expires = datetime.fromtimestamp(int(found["expires"]), UTC)
        now = self.now()
        if expires <= now or expires > now + timedelta(seconds=self.seconds + 60):
            return False
        return self.store.use_state(found["nonce"], expires, now, self.limit)


class UserTokenStore(InstallationStore):
    """Keeps the consenting person's user token (through ``AwayStatus.connect``), nothing else.

    The first look at their leave goes to ``later`` (the bot's work pool): bounded, closed with
    the bot, and something a caller can wait on, unlike a loose thread."""

    def __init__(self, away_status: AwayStatus, later: Callable[[Callable[[], None]], object]) -> None:
        self.away_status = away_status
        self.later = later

    @property
    def logger(self) -> Logger:
        return log

    def save(self, installation: Installation) -> None:
        if not installation.user_token or not installation.user_id or not installation.team_id:
            raise ValueError("the OAuth answer carried no user token")
        # the first look may call Slack and the vendor: the browser is answered without waiting for it
        token, team, user, scopes = (
            installation.user_token,
            installation.team_id,
            installation.user_id,
            ",".join(installation.user_scopes or []),
        )
        self.away_status.connect(team, user, token, scopes)
        self.later(lambda: self._first_look(team, user))

    def _first_look(self, team_id: str, user_id: str) -> None:
        try:
            self.away_status.leave_changed(team_id, user_id)
        except Exception:
            log.exception("leave status: first look for %s failed", user_id)


def authorize_url(settings: Settings) -> str:
    """Slack's authorize page on the same host as the Web API (slack.com, or the local stand-in)."""
    parts = urlsplit(settings.api_url)
    return f"{parts.scheme}://{parts.netloc}/oauth/v2/authorize"


def missing_settings(settings: Settings) -> list[str]:
    names = [
        ("TIMEBOT_PUBLIC_URL", settings.public_url),
        ("SLACK_CLIENT_ID", settings.slack_client_id),
        ("SLACK_CLIENT_SECRET", settings.slack_client_secret),
    ]
    return [name for name, value in names if not value]


def _page(status: int, title: str, text: str) -> BoltResponse:
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})


def _success(args: SuccessArgs) -> BoltResponse:
    return _page(200, "Done", "Timebot will show your leave in your Slack status. You can close this tab.")


_FAILURE_WORDS = {
    "invalid_state": "This link was already used or has expired (after 10 minutes).",
    "invalid_browser": "This link was opened in another browser than the one that started it.",
    "access_denied": "You didn't allow it, so nothing changed.",
    "wrong_workspace": "That approval was for another Slack workspace than Timebot's, so nothing was stored.",
    "enterprise_install": "Timebot needs your approval in its own workspace, not an organisation-wide install.",
    "no_user_token": "Slack's answer carried no token of yours, so nothing was stored.",
    "not_a_user_token": "Slack's answer carried no token of yours, so nothing was stored.",
    "missing_scope": "Slack's answer didn't let Timebot change your status, so nothing was stored.",
}


def reason_for_log(reason: object) -> str:
    """A failure reason safe for one log line: a known word as is, anything else as a short repr
    (the browser's ``error=`` is anyone's text, CR/LF included)."""
    text = str(reason)
    return text if text in _FAILURE_WORDS or _WORD.fullmatch(text) else repr(text[:40])


def _failure(args: FailureArgs) -> BoltResponse:
    log.info("status consent refused: %s", reason_for_log(args.reason))
    words = _FAILURE_WORDS.get(str(args.reason), "Slack didn't confirm it.")
    return _page(args.suggested_status_code, "Not connected", words + " Start again from Timebot's Home tab.")


def _user_token(token: object) -> bool:
    """A person's token (``xoxp-``, or a rotating one wrapping it), not a bot's or an app's."""
    return isinstance(token, str) and (token.startswith("xoxp-") or token.startswith("xoxe.xoxp-"))


def installation_from(answer: dict[str, Any], workspace: str | None) -> Installation | str:
    """The consent in Slack's ``oauth.v2.access`` answer, or the reason it is refused."""
    team = answer.get("team")
    if answer.get("is_enterprise_install") or not isinstance(team, dict) or not team.get("id"):
        return "enterprise_install"
    if workspace is None or team.get("id") != workspace:
        return "wrong_workspace"
    user = answer.get("authed_user")
    if not isinstance(user, dict) or not user.get("access_token") or not user.get("id"):
        return "no_user_token"
    if not _user_token(user["access_token"]) or user.get("token_type", "user") != "user":
        return "not_a_user_token"
    scopes = [s.strip() for s in str(user.get("scope") or "").split(",") if s.strip()]
    if "users.profile:write" not in scopes:
        return "missing_scope"
    return Installation(
        app_id=answer.get("app_id"),
        team_id=str(team["id"]),
        team_name=team.get("name"),
        user_id=str(user["id"]),
        user_token=str(user["access_token"]),
        user_scopes=scopes,
    )


class AwayStatusConsentFlow(OAuthFlow):
    """Bolt's flow with our own callback (see the module's docstring)."""

    def __init__(self, *, client: WebClient, settings: OAuthSettings, workspace: Callable[[], str | None]) -> None:
        super().__init__(client=client, settings=settings, logger=log)
        self.workspace = workspace

    def build_authorize_url(self, state: str, request: BoltRequest) -> str:
        """Bolt passes a ``team`` query on to Slack's page; only a team id goes through (any other
        text would end up in the Location header, where a non-Latin-1 one cannot be sent)."""
        teams = request.query.get("team")
        team = teams[0] if teams else None
        return self.settings.authorize_url_generator.generate(
            state=state, team=team if team and _TEAM.fullmatch(team) else None
        )

    def _refuse(self, request: BoltRequest, reason: str, status: int) -> BoltResponse:
        return self.failure_handler(
            FailureArgs(
                request=request,
                reason=reason,
                suggested_status_code=status,
                settings=self.settings,
                default=self.default_callback_options,
            )
        )

    def handle_callback(self, request: BoltRequest) -> BoltResponse:
        error = request.query.get("error", [None])[0]
        if error is not None:  # the person said no, or Slack could not go on
            return self._refuse(request, str(error), 200)
        state = request.query.get("state", [None])[0]
        if not self.settings.state_utils.is_valid_browser(state, request.headers):
            return self._refuse(request, "invalid_browser", 400)
        if not self.settings.state_store.consume(state or ""):
            return self._refuse(request, "invalid_state", 401)
        code = request.query.get("code", [None])[0]
        if not code:
            return self._refuse(request, "missing_code", 401)
        found = self.exchange(code)
        if isinstance(found, str):
            return self._refuse(request, found, 401 if found == "invalid_code" else 400)
        try:
            self.settings.installation_store.save(found)
        except ValueError:
            return self._refuse(request, "no_user_token", 400)
        return self.success_handler(
            SuccessArgs(
                request=request, installation=found, settings=self.settings, default=self.default_callback_options
            )
        )

    def exchange(self, code: str) -> Installation | str:
        """``oauth.v2.access`` for ``code`` (never logged), checked; a reason word when refused."""
        try:
            answer = self.client.oauth_v2_access(
                code=code,
                client_id=self.settings.client_id,
                client_secret=self.settings.client_secret,
                redirect_uri=self.settings.redirect_uri,
            )
        except SlackApiError as exc:
            log.warning(
                "status consent: Slack refused the code exchange: %s", reason_for_log(exc.response.get("error"))
            )
            return "invalid_code"
        except Exception as exc:  # Slack unreachable: the person tries again later
            log.warning("status consent: the code exchange failed: %s", type(exc).__name__)
            return "invalid_code"
        try:
            workspace = self.workspace()
        except Exception as exc:
            log.warning("status consent: the bot's own workspace is unknown: %s", type(exc).__name__)
            workspace = None
        return installation_from(dict(answer.data) if isinstance(answer.data, dict) else {}, workspace)


def bot_workspace(slack: Members) -> Callable[[], str | None]:
    """The bot's own team id (``auth.test`` with the bot token), asked once and remembered."""
    known: list[str] = []

    def get() -> str | None:
        if not known:
            team = slack.workspace_id()
            if not team:
                return None
            known.append(str(team))
        return known[0]

    return get


def away_status_oauth_flow(
    settings: Settings, away_status: AwayStatus, later: Callable[[Callable[[], None]], object]
) -> AwayStatusConsentFlow | None:
    """Bolt's OAuth flow for the status consent, or None when a setting it needs is missing."""
    if missing_settings(settings):
        return None
    assert settings.slack_client_id and settings.slack_client_secret and settings.public_url
    # every value passed, and the variables Bolt would fill gaps from hidden: see bot/slack/bolt.py
    with hidden_slack_environment():
        oauth = OAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=[],
            user_scopes=list(USER_SCOPES),
            redirect_uri=settings.public_url.rstrip("/") + REDIRECT_PATH,
            install_path=START_PATH,
            install_page_rendering_enabled=False,
            redirect_uri_path=REDIRECT_PATH,
            authorization_url=authorize_url(settings),
            installation_store=UserTokenStore(away_status, later),
            state_store=SqlStateStore(
                away_status.store, away_status.people.now, secret=settings.slack_client_secret.get_secret_value()
            ),
            state_expiration_seconds=STATE_SECONDS,
            callback_options=CallbackOptions(success=_success, failure=_failure),
            logger=log,
        )
        return AwayStatusConsentFlow(
            client=WebClient(base_url=settings.api_url, timeout=10),
            settings=oauth,
            workspace=bot_workspace(away_status.slack),
        )
