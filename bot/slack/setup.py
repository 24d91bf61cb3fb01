"""Slack set-up as an operator meets it: the tokens checked before the bot says it is running,
the scopes the token has against those ``manifest.yml`` asks for, and the manifest for HTTP mode.

Without the start-up check a wrong bot token leaves HTTP mode "listening" while every command gets
Bolt's stock "installation no longer available", and Socket Mode ends in a traceback."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import ConfigError, Settings

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
REFUSED = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"}


@dataclass
class SlackIdentity:
    team: str
    team_id: str
    user: str
    user_id: str
    scopes: list[str] = field(default_factory=list)
    enterprise_id: str = ""  # on Enterprise Grid
    bot_id: str = ""


def _unreachable(exc: Exception, settings: Settings) -> ConfigError:
    return ConfigError(
        f"can't reach Slack at SLACK_API_URL={settings.api_url} ({type(exc).__name__}): "
        "check the address and the network."
    )


def verify_bot_token(client: WebClient, settings: Settings) -> SlackIdentity:
    """``auth.test`` with the bot token: who the bot is, and the scopes granted (``x-oauth-scopes``)."""
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
        if error in REFUSED:
            raise ConfigError(
                f"SLACK_BOT_TOKEN was refused by Slack ({error}): copy the Bot User OAuth Token "
                "(xoxb-…) from your Slack app's OAuth & Permissions page into .env."
            ) from None
        raise ConfigError(f"Slack's auth.test failed ({error}) for SLACK_BOT_TOKEN.") from None
    except OSError as exc:
        raise _unreachable(exc, settings) from None
    granted = answer.headers.get("x-oauth-scopes") or answer.headers.get("X-OAuth-Scopes") or ""
    return SlackIdentity(
        str(answer.get("team") or ""),
        str(answer.get("team_id") or ""),
        str(answer.get("user") or ""),
        str(answer.get("user_id") or ""),
        [s.strip() for s in granted.split(",") if s.strip()],
        str(answer.get("enterprise_id") or ""),
        str(answer.get("bot_id") or ""),
    )


# Answers that mean the token itself is wrong; anything else (internal_error, a 5xx) is passing.
TOKEN_REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "missing_scope",
        "invalid_token",
    }
)


def verify_app_token(settings: Settings) -> None:
    """Socket Mode: ``apps.connections.open`` must accept SLACK_APP_TOKEN (the URL it gives is
    single-use and left unused; the Socket Mode client asks for its own)."""
    assert settings.slack_app_token is not None
    client = WebClient(base_url=settings.api_url, timeout=10)
    try:
        client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
        if error not in TOKEN_REFUSED:  # Slack having a moment: the Socket Mode runner retries with back-off
            log.warning("apps.connections.open failed at start-up (%s); Socket Mode will keep trying", error)
            return
        raise ConfigError(
            f"SLACK_APP_TOKEN was refused by Slack ({error}): create an app-level token with "
            "connections:write (Basic Information → App-Level Tokens) and put it in .env."
        ) from None
    except OSError as exc:
        raise _unreachable(exc, settings) from None


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load(path.read_text())
    return manifest


def manifest_scopes(manifest: dict[str, Any] | None = None) -> list[str]:
    manifest = manifest if manifest is not None else load_manifest()
    return list(manifest["oauth_config"]["scopes"]["bot"])


def scope_report(identity: SlackIdentity, wanted: list[str]) -> tuple[str, list[str]]:
    """One line on the scopes granted against those the manifest asks for; the missing ones."""
    missing = [s for s in wanted if s not in identity.scopes]
    extra = [s for s in identity.scopes if s not in wanted]
    line = f"scopes granted: {', '.join(identity.scopes) or 'none reported'}"
    if missing:
        line += f"; MISSING from manifest.yml: {', '.join(missing)} (add them to the app and reinstall it)"
    if extra:
        line += f"; not needed: {', '.join(extra)}"
    return line, missing


def http_manifest(base_url: str, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest for HTTP mode: every request URL at ``base_url``/slack/events, the OAuth
    redirect (a person's consent to show leave in their status) at ``base_url``/slack/oauth_redirect,
    Socket Mode off."""
    out = copy.deepcopy(manifest if manifest is not None else load_manifest())
    url = base_url.rstrip("/") + "/slack/events"
    if "oauth_config" in out:
        out["oauth_config"]["redirect_urls"] = [base_url.rstrip("/") + "/slack/oauth_redirect"]
    for command in out["features"].get("slash_commands", []):
        command["url"] = url
    out["settings"]["interactivity"]["request_url"] = url
    out["settings"]["event_subscriptions"]["request_url"] = url
    out["settings"]["socket_mode_enabled"] = False
    return out


def dump_manifest(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
