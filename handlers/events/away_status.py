"""Slack revoked user tokens (``tokens_revoked``) or the app (``app_uninstalled``): the status
feature turns off for those people, and each is told once."""

from __future__ import annotations

from typing import Any

from bot.runtime.services import Services


def tokens_revoked(event: dict[str, Any], body: dict[str, Any], services: Services) -> None:
    users = [u for u in (event.get("tokens") or {}).get("oauth") or [] if isinstance(u, str)]
    away = services.away_status
    if users:
        services.pool.submit(lambda: away.revoked(body.get("team_id", ""), users))


def app_uninstalled(body: dict[str, Any], services: Services) -> None:
    away = services.away_status
    services.pool.submit(lambda: away.revoked(body.get("team_id", ""), None))
