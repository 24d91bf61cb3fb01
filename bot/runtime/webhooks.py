"""Vendor webhooks in HTTP mode: ``POST /webhooks/whosoff``. Nothing is read from a call whose
signature fails; it gets a 401 and changes nothing.

A valid signature does not make a delivery new: anyone who once saw a signed body could send it
again. So a delivery whose ``event_id`` was seen is acknowledged and ignored, one whose
``created_At`` is further than ``MAX_SKEW`` from now is refused, and a status older than the one
recorded does not replace it (``LeaveFollowup.vendor_event``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.usecases.followup import LeaveFollowup
from bot.vendors.whosoff import webhook_change, webhook_delivery, webhook_verified

log = logging.getLogger(__name__)

Webhook = Callable[[bytes, Mapping[str, str]], int]  # raw body, lower-cased headers -> HTTP status

# How far an event's time may be from ours: WhosOff's retries come within hours, and its times may
# be a company's local time read as UTC (up to 14 h off). Seen event ids are kept for two days
# (the housekeeping's request keys), longer than this window on either side.
MAX_SKEW = timedelta(hours=24)


def whosoff_webhook(followup: LeaveFollowup, secret: str, header: str) -> Webhook:
    def handle(body: bytes, headers: Mapping[str, str]) -> int:
        if not webhook_verified(secret, body, headers.get(header.lower())):
            log.warning("refused a WhosOff webhook with a missing or wrong signature")
            return 401
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, bad UTF-8, or nested past the parser's depth
            log.info("refused a signed WhosOff webhook whose body is not an event")
            return 400
        if not isinstance(payload, dict):
            return 400
        event_id, at = webhook_delivery(payload)
        if at is not None and abs(followup.people.now() - at) > MAX_SKEW:
            log.warning(
                "refused a WhosOff webhook from %s: too old or too far ahead to be a delivery",
                at.isoformat(timespec="seconds"),
            )
            return 400
        if event_id is not None and not followup.people.store.claim_request(f"whosoff-webhook:{event_id}"):
            log.info("ignored a WhosOff webhook seen before (event %r)", event_id)
            return 200
        change = webhook_change(payload)
        if change is not None:
            followup.vendor_event("whosoff", *change, at=at)
        return 200

    return handle
