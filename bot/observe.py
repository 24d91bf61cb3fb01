"""The first middleware of the app: names the request's action for the logs and times its ack."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot import logs, metrics


class Observe(Middleware):
    """Every line logged for a request carries its key as the action id (``bot.logs``; Slack's
    retries share it), and with metrics on the time to its ack is observed by surface."""

    def __init__(self, key: Callable[[Mapping[str, Any]], str | None]) -> None:
        self.key = key

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:
        with logs.action(self.key(req.body)):
            if not metrics.enabled():
                return next()
            started = time.perf_counter()
            try:
                return next()
            finally:
                metrics.ack(req.body, time.perf_counter() - started)
