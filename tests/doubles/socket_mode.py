"""Slack's side of Socket Mode, for the Slack stand-in.

``apps.connections.open`` (app-level token only) hands out a single-use WebSocket URL; the bot
connects, gets ``hello``, and from then on envelopes go out over the socket and its acks come
back. A test can time each ack and read its payload: in Socket Mode a modal's
``response_action: errors`` travels in the ack, not in an HTTP response.

Needs the ``websockets`` package (a test dependency); the bot itself uses slack-sdk's own client.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


@dataclass
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float  # from sending the envelope to receiving its ack


class SocketModeStandIn:
    def __init__(self, app_token: str, app_id: str = "A0TIMEBOT") -> None:
        self.app_token = app_token
        self.app_id = app_id
        self._tickets: set[str] = set()
        self._connections: list[ServerConnection] = []
        self._acks: dict[str, Ack] = {}
        self._sent: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SocketModeStandIn:
        self._server = serve(self._serve, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-socket", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            conn.close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.socket.getsockname()[1])

    # --- the Web API method ------------------------------------------------------------------

    def connections_open(self, token: str | None) -> dict[str, Any]:
        """``apps.connections.open``: only the app-level token may open a connection."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        ticket = secrets.token_hex(8)
        with self._lock:
            self._tickets.add(ticket)
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}"}

    # --- driving the bot ---------------------------------------------------------------------

    def wait_connected(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._connections:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the bot never opened a Socket Mode connection")
                self._lock.wait(left)

    def deliver(self, kind: str, payload: dict[str, Any], *, retry_attempt: int | None = None,
                timeout: float = 10.0) -> Ack:
        """Send one envelope (``slash_commands``, ``interactive`` or ``events_api``) and wait for its ack."""
        envelope_id = f"env-{next(self._ids)}-{secrets.token_hex(4)}"
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt or 0, "retry_reason": "timeout" if retry_attempt else ""}
        self.wait_connected(timeout)
        with self._lock:
            conn = self._connections[-1]
            self._sent[envelope_id] = time.monotonic()
        conn.send(json.dumps(envelope))
        deadline = time.monotonic() + timeout
        with self._lock:
            while envelope_id not in self._acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no ack for {kind} envelope within {timeout} s")
                self._lock.wait(left)
            return self._acks[envelope_id]

    # --- the socket ---------------------------------------------------------------------------

    def _serve(self, conn: ServerConnection) -> None:
        query = parse_qs(urlsplit(conn.request.path).query) if conn.request else {}
        ticket = query.get("ticket", [""])[0]
        with self._lock:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)  # single use, like Slack's
        if not valid:
            conn.close(code=4001, reason="invalid ticket")
            return
        conn.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": self.app_id},
                              "debug_info": {"host": "stand-in", "approximate_connection_time": 3600}}))
        with self._lock:
            self._connections.append(conn)
            self._lock.notify_all()
        try:
            for message in conn:
                self._on_message(message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._connections.remove(conn)

    def _on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        with self._lock:
            sent = self._sent.pop(envelope_id, None) if envelope_id else None
            if sent is None:
                return
            self._acks[envelope_id] = Ack(envelope_id, data.get("payload"), time.monotonic() - sent)
            self._lock.notify_all()
