"""Socket Mode: several WebSocket connections to Slack feeding one Bolt app.

Why not slack-bolt's ``SocketModeHandler``: when Slack sends ``disconnect`` (a refresh, every few
hours), slack-sdk's built-in client opens the new connection and then closes the old one from its
single message-processing thread, waiting for the old connection's receive lock, which its reader
thread holds in a blocking read until ``receive_timeout`` (3 s) or the next frame. Until then the
new connection is not read and no envelope is dispatched: acks took 1.6 s half a second after a
refresh (``bench/socket_ack.py``). Here each connection has its own reader thread. On
``disconnect`` the replacement opens alongside and the old connection is read until Slack closes
it, so nothing sent on it is lost; and with two or more connections (Slack's advice, up to 10)
Slack always has another open connection to send to.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

log = logging.getLogger("timebot.socket")
# websockets logs the handshake (the URL's ticket) and every frame (PINs typed into modals) at DEBUG.
wire_log = logging.getLogger("timebot.socket.wire")
wire_log.setLevel(logging.INFO)

# apps.connections.open errors that retrying cannot fix: the token or the app's set-up is wrong.
PERMANENT = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "not_allowed_token_type",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
    }
)
MAX_BACKOFF = 30.0
SHORT_LIVED = 5.0  # a connection that dies sooner than this is retried with a back-off


class SocketModeRunner:
    """``connections`` Socket Mode connections, each kept open by its own thread."""

    def __init__(
        self,
        app: App,
        app_token: str,
        *,
        connections: int = 2,
        workers: int = 32,
        on_fatal: Callable[[], None] | None = None,
        ping_interval: float = 10.0,
        drain_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.connections = connections
        self.ping_interval = ping_interval
        self.drain_seconds = drain_seconds  # a refreshed connection Slack never closes is closed by us
        self.fatal: str | None = None
        self._on_fatal = on_fatal
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="socket-envelope")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: list[ClientConnection] = []
        self._threads: list[threading.Thread] = []

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        for slot in range(self.connections):
            self._spawn(slot)

    def close(self) -> None:
        """Close every connection and wait for the readers; envelopes being handled finish first."""
        self._stop.set()
        with self._lock:
            conns, threads = list(self._open), list(self._threads)
        for ws in conns:
            ws.close()
        for thread in threads:
            thread.join(timeout=5)
        self._pool.shutdown(wait=True)

    def open_count(self) -> int:
        with self._lock:
            return len(self._open)

    def _spawn(self, slot: int) -> None:
        thread = threading.Thread(target=self._keep, args=(slot,), name=f"socket-mode-{slot}", daemon=True)
        with self._lock:
            if self._stop.is_set():
                return
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _fail(self, message: str) -> None:
        log.error("%s", message)
        self.fatal = message
        self._stop.set()
        if self._on_fatal:
            self._on_fatal()

    # --- one connection --------------------------------------------------------------------------

    def _keep(self, slot: int) -> None:
        """Keep one connection open: open it, read it; after a drop, open another."""
        delay = 1.0
        while not self._stop.is_set():
            ws = self._open_connection(slot)
            if ws is None:
                return
            opened = time.monotonic()
            if self._read(ws, slot) != "dropped" or self._stop.is_set():
                return
            if time.monotonic() - opened < SHORT_LIVED:  # dropping at once, again and again: back off
                if self._stop.wait(delay * random.uniform(0.5, 1.0)):
                    return
                delay = min(delay * 2, MAX_BACKOFF)
            else:
                delay = 1.0
            log.warning("Socket Mode connection %d dropped; opening a new one", slot)

    def _open_connection(self, slot: int) -> ClientConnection | None:
        """apps.connections.open, then the WebSocket; any failure is retried with a growing back-off."""
        delay = 1.0
        while not self._stop.is_set():
            try:
                url = self.app.client.apps_connections_open(app_token=self.app_token)["url"]
                ws = connect(
                    url,
                    open_timeout=10,
                    close_timeout=1,
                    ping_interval=self.ping_interval,
                    ping_timeout=self.ping_interval,
                    max_size=None,
                    logger=wire_log,
                )
                with self._lock:
                    if not self._stop.is_set():
                        self._open.append(ws)
                        return ws
                ws.close()
                return None
            except SlackApiError as exc:
                error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
                if error in PERMANENT:
                    self._fail(
                        f"Slack refused SLACK_APP_TOKEN for Socket Mode ({error}): use the app-level token "
                        "(xapp-…) with the connections:write scope."
                    )
                    return None
                retry_after = exc.response.headers.get("Retry-After") if exc.response.status_code == 429 else None
                delay = max(delay, float(retry_after or 0))
                log.warning(
                    "apps.connections.open failed (%s); connection %d retries in about %.0f s", error, slot, delay
                )
            except Exception as exc:  # network or handshake; the URL holds a ticket: log only the kind
                log.warning(
                    "could not open Socket Mode connection %d (%s); retrying in about %.0f s",
                    slot,
                    type(exc).__name__,
                    delay,
                )
            if self._stop.wait(delay * random.uniform(0.5, 1.0)):
                return None
            delay = min(delay * 2, MAX_BACKOFF)
        return None

    def _read(self, ws: ClientConnection, slot: int) -> str:
        """Read until the connection ends: ``replaced`` (after Slack's disconnect), ``dropped`` or ``stopped``."""
        replaced = False
        try:
            for raw in ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                kind = message.get("type")
                if message.get("envelope_id"):
                    self._pool.submit(self._dispatch, ws, message)
                elif kind == "hello":
                    log.info(
                        "Socket Mode connection %d open (%s open for the app)", slot, message.get("num_connections")
                    )
                elif kind == "disconnect":
                    reason = message.get("reason")
                    if reason == "link_disabled":
                        self._fail(
                            "Socket Mode was turned off for this app in Slack (link_disabled): turn it on, "
                            "or leave SLACK_APP_TOKEN out to run in HTTP mode."
                        )
                        return "stopped"
                    if not replaced:
                        replaced = True
                        log.info(
                            "Slack asked to refresh Socket Mode connection %d (%s); opening its replacement",
                            slot,
                            reason,
                        )
                        self._spawn(slot)
                        timer = threading.Timer(self.drain_seconds, ws.close)
                        timer.daemon = True
                        timer.start()
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                if ws in self._open:
                    self._open.remove(ws)
            ws.close()
        if self._stop.is_set():
            return "stopped"
        return "replaced" if replaced else "dropped"

    # --- one envelope ----------------------------------------------------------------------------

    def _dispatch(self, ws: ClientConnection, message: dict[str, Any]) -> None:
        request = SocketModeRequest.from_dict(message)
        if request is None:
            return
        response = run_bolt_app(self.app, request)
        if response.status != 200:  # as slack-bolt's handler: no ack, Slack sees the failure
            log.info("envelope not acknowledged (Bolt answered %s)", response.status)
            return
        ack: dict[str, Any] = {"envelope_id": request.envelope_id}
        if response.body:
            content_type = (response.headers.get("content-type") or [""])[0]
            ack["payload"] = (
                json.loads(response.body) if content_type.startswith("application/json") else {"text": response.body}
            )
        self._send(ws, json.dumps(ack))

    def _send(self, ws: ClientConnection, text: str) -> None:
        """On the envelope's own connection; if it has just closed, on another of the app's."""
        with self._lock:
            others = [other for other in self._open if other is not ws]
        for conn in (ws, *others):
            try:
                conn.send(text)
                return
            except ConnectionClosed:
                continue
        log.warning("an ack could not be sent: no Socket Mode connection is open")
