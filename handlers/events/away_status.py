"""Slack revoked user tokens (``tokens_revoked``) or the app (``app_uninstalled``): the status
feature turns off for those people, and each is told once."""

from __future__ import annotations

from typing import Any

from bot.runtime.services import Services


def tokens_revoked(event: dict[str, Any], body: dict[str, Any], services: Services) -> None:
    users = [u for u in (event.get("tokens") or {}).get("oauth") or [] if isinstance(u, str)]
    if users and services.away_status is not None:
        services.pool.submit(lambda: services.away_status.revoked(body.get("team_id", ""), users))  # type: ignore[union-attr]


def app_uninstalled(body: dict[str, Any], services: Services) -> None:
    if services.away_status is not None:
        services.pool.submit(lambda: services.away_status.revoked(body.get("team_id", ""), None))  # type: ignore[union-attr]
