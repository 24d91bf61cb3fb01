"""The Bolt app with every request observed: its action named for the logs, its ack timed."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.telemetry import logs, metrics


class ObservedApp(App):
    """Every line logged for a request carries its key as the action id (``bot.telemetry.logs``; Slack's
    retries share it), and with metrics on the time to its ack is observed by surface.

    ``dispatch`` returns when the listener has acked, and it is where the listener thread is
    handed the request; a middleware can't do either (Bolt runs a middleware's ``next()`` after
    the middleware has returned)."""

    def __init__(self, *, request_key: Callable[[Mapping[str, Any]], str | None], **kwargs: Any) -> None:
        self._request_key = request_key
        super().__init__(**kwargs)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        with logs.action(self._request_key(req.body)):
            if not metrics.enabled():
                return super().dispatch(req)
            started = time.perf_counter()
            try:
                return super().dispatch(req)
            finally:
                metrics.ack(req.body, time.perf_counter() - started)
