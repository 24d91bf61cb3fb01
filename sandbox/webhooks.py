"""Outbound webhooks as WhosOff sends them (docs/vendors/whosoff.md §11): a JSON event POSTed to
the configured endpoint, signed with HMAC SHA-256 of the raw body under the endpoint's client secret.

The signature header's name is not in the excerpt of WhosOff's page we could read, so it is a
parameter here and a setting of the bot (``WHOSOFF_WEBHOOK_HEADER``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)


@dataclass
class WebhookSender:
    url: str
    secret: str
    header: str = "X-WhosOff-Signature"
    sent: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    _next_id: int = 1

    def send(self, event_type: str, data: dict[str, Any]) -> int:
        """POST one event, signed; returns the endpoint's HTTP status (0 when unreachable)."""
        event = {
            "event_id": str(self._next_id),
            "event_type": event_type,
            "created_At": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "data": data,
        }
        self._next_id += 1
        body = json.dumps(event).encode()
        signature = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        self.sent.append(event)
        try:
            status = httpx.post(
                self.url, content=body, timeout=10, headers={"Content-Type": "application/json", self.header: signature}
            ).status_code
        except httpx.HTTPError as exc:
            log.info("webhook to %s failed: %s", self.url, exc)
            status = 0
        self.answers.append(status)
        return status
