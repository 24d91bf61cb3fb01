"""Slack's side of Socket Mode, for the Slack stand-in.

``apps.connections.open`` (app-level token only) hands out a single-use WebSocket URL with a
ticket; the bot connects, gets ``hello``, and from then on envelopes go out over the sockets and
its acks come back. A test can time each ack and read its payload: in Socket Mode a modal's
``response_action: errors`` travels in the ack, not in an HTTP response.

What Slack does that can bite, modelled here:
- an app may hold up to 10 connections; envelopes are spread across all open ones (round robin
  here), including one that has been told to refresh, until it is actually closed;
- ``{"type": "disconnect", "reason": "refresh_requested" | "warning"}`` comes first, and the
  connection is closed some seconds later (about 10 s at Slack; ``refresh_close_after`` here);
- a link can drop without a word (no close frame);
- ``apps.connections.open`` can fail (``fail_next_open``), and the app must back off and retry.

Needs the ``websockets`` package.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

MAX_CONNECTIONS = 10


@dataclass
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float  # from sending the envelope to receiving its ack


@dataclass
class Link:
    """One open Socket Mode connection, as Slack sees it."""

    number: int
    conn: ServerConnection
    told_to_refresh: bool = False


class SocketModeStandIn:
    def __init__(self, app_token: str, app_id: str = "A0TIMEBOT", *, refresh_close_after: float = 10.0) -> None:
        self.app_token = app_token
        self.app_id = app_id
        self.refresh_close_after = refresh_close_after
        self.opened = 0  # connections the app has opened, ever
        self.open_failures: list[tuple[int, str]] = []  # (HTTP status, error) for the next apps.connections.open
        self._tickets: set[str] = set()
        self._links: list[Link] = []
        self._acks: dict[str, Ack] = {}
        self._sent: dict[str, float] = {}
        self.ack_counts: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._rr = itertools.count()
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
        for link in self.links():
            link.conn.close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.socket.getsockname()[1])

    # --- the Web API method ------------------------------------------------------------------

    def connections_open(self, token: str | None) -> tuple[dict[str, Any], int]:
        """``apps.connections.open``: only the app-level token may open a connection."""
        if not token:
            return {"ok": False, "error": "not_authed"}, 200
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}, 200
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}, 200
        with self._lock:
            if self.open_failures:
                status, error = self.open_failures.pop(0)
                return {"ok": False, "error": error}, status
            ticket = secrets.token_hex(16)
            self._tickets.add(ticket)
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"}, 200

    def fail_next_open(self, times: int = 1, *, status: int = 200, error: str = "internal_error") -> None:
        """The next ``times`` calls to ``apps.connections.open`` fail (``ok: false``, or a 5xx)."""
        with self._lock:
            self.open_failures.extend([(status, error)] * times)

    # --- driving the bot ---------------------------------------------------------------------

    def links(self) -> list[Link]:
        with self._lock:
            return list(self._links)

    def wait_connected(self, timeout: float = 30.0, count: int = 1, *, steady: bool = True) -> None:
        """Wait until ``count`` connections are open (``steady``: not counting ones told to refresh)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while sum(1 for link in self._links if not (steady and link.told_to_refresh)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the bot never had {count} Socket Mode connection(s) open")
                self._lock.wait(left)

    def disconnect(
        self, link: Link | None = None, reason: str = "refresh_requested", close_after: float | None = None
    ) -> Link:
        """Send Slack's ``disconnect`` message on a connection (the oldest by default), then close
        it ``close_after`` seconds later, as Slack does."""
        link = link or self.links()[0]
        with self._lock:
            link.told_to_refresh = True
            count = len(self._links)
        link.conn.send(
            json.dumps(
                {
                    "type": "disconnect",
                    "reason": reason,
                    "num_connections": count,
                    "debug_info": {"host": f"applink-stand-in-{link.number}"},
                }
            )
        )
        delay = self.refresh_close_after if close_after is None else close_after
        timer = threading.Timer(delay, lambda: link.conn.close(code=1001, reason="refresh"))
        timer.daemon = True
        timer.start()
        return link

    def drop(self, link: Link | None = None) -> Link:
        """Drop a connection without a word: no disconnect message, no close frame."""
        link = link or self.links()[0]
        with contextlib.suppress(OSError):
            link.conn.socket.shutdown(socket.SHUT_RDWR)
        return link

    def send(
        self, kind: str, payload: dict[str, Any], *, retry_attempt: int | None = None, timeout: float = 10.0
    ) -> str:
        """Send one envelope over the next open connection (round robin); returns its id."""
        envelope_id = f"env-{next(self._ids)}-{secrets.token_hex(4)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt or 0, "retry_reason": "timeout" if retry_attempt else ""}
        deadline = time.monotonic() + timeout
        while True:
            self.wait_connected(max(0.0, deadline - time.monotonic()), steady=False)
            with self._lock:
                links = self._links
                link = links[next(self._rr) % len(links)] if links else None
                self._sent[envelope_id] = time.monotonic()
            if link is None:
                continue
            try:
                link.conn.send(json.dumps(envelope))
                return envelope_id
            except ConnectionClosed:  # not delivered: Slack tries another connection
                continue

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        deadline = time.monotonic() + timeout
        with self._lock:
            while envelope_id not in self._acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout} s")
                self._lock.wait(left)
            return self._acks[envelope_id]

    def deliver(
        self, kind: str, payload: dict[str, Any], *, retry_attempt: int | None = None, timeout: float = 10.0
    ) -> Ack:
        """Send one envelope (``slash_commands``, ``interactive`` or ``events_api``) and wait for its ack."""
        return self.wait_ack(self.send(kind, payload, retry_attempt=retry_attempt, timeout=timeout), timeout)

    # --- the socket ---------------------------------------------------------------------------

    def _serve(self, conn: ServerConnection) -> None:
        query = parse_qs(urlsplit(conn.request.path).query) if conn.request else {}
        ticket = query.get("ticket", [""])[0]
        with self._lock:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)  # single use, like Slack's
            full = len(self._links) >= MAX_CONNECTIONS
        if not valid:
            conn.close(code=4001, reason="invalid ticket")
            return
        if full:
            conn.send(json.dumps({"type": "disconnect", "reason": "too_many_websockets"}))
            conn.close()
            return
        with self._lock:
            self.opened += 1
            link = Link(self.opened, conn)
            self._links.append(link)
            count = len(self._links)
        conn.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": count,
                    "connection_info": {"app_id": self.app_id},
                    "debug_info": {"host": f"applink-stand-in-{link.number}", "approximate_connection_time": 18060},
                }
            )
        )
        with self._lock:
            self._lock.notify_all()
        try:
            for message in conn:
                self._on_message(message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._links.remove(link)
                self._lock.notify_all()

    def _on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        if not isinstance(envelope_id, str):
            return
        with self._lock:
            self.ack_counts[envelope_id] = self.ack_counts.get(envelope_id, 0) + 1
            sent = self._sent.pop(envelope_id, None)
            if sent is None:
                return
            self._acks[envelope_id] = Ack(envelope_id, data.get("payload"), time.monotonic() - sent)
            self._lock.notify_all()
