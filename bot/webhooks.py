"""Vendor webhooks in HTTP mode: ``POST /webhooks/whosoff``. Nothing is read from a call whose
signature fails; it gets a 401 and changes nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping

from bot.usecases.leave_followup import LeaveFollowup
from bot.vendors.whosoff import webhook_change, webhook_verified

log = logging.getLogger(__name__)

Webhook = Callable[[bytes, Mapping[str, str]], int]  # raw body, lower-cased headers -> HTTP status


def whosoff_webhook(followup: LeaveFollowup, secret: str, header: str) -> Webhook:
    def handle(body: bytes, headers: Mapping[str, str]) -> int:
        if not webhook_verified(secret, body, headers.get(header.lower())):
            log.warning("refused a WhosOff webhook with a missing or wrong signature")
            return 401
        try:
            payload = json.loads(body)
        except ValueError:
            return 400
        change = webhook_change(payload) if isinstance(payload, dict) else None
        if change is not None:
            followup.vendor_event("whosoff", *change)
        return 200
    return handle
