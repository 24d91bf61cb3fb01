"""HTTP mode: a WSGI app (Bolt at ``POST /slack/events``, ``GET /healthz``) served by waitress.

Bolt's own ``App.start`` is a single-threaded dev server, so a burst of slash commands would
queue behind each other; waitress gives a thread pool and a deep accept queue.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest
from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from sqlalchemy.engine import Engine
from waitress.server import create_server

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 413: "Payload Too Large",
            500: "Internal Server Error", 503: "Service Unavailable"}


def bolt_request(raw: str, query: str, headers: dict[str, str]) -> BoltRequest:
    """A BoltRequest, working around slack-bolt 1.30 parsing any form body that merely
    contains the word "payload" (``/clockin payload team``) as an empty dict."""
    request = BoltRequest(body=raw, query=query, headers=headers)
    if not request.body and raw and not raw.lstrip().startswith("{"):
        fields = dict(parse_qsl(raw, keep_blank_values=True))
        if "payload" not in fields:
            request.body = fields
            request.context = build_context(BoltContext({}), fields)
    return request


class SlackWsgi:
    def __init__(self, app: App, engine: Engine, path: str = "/slack/events", *,
                 signing_secret: str | None = None,
                 webhooks: Mapping[str, Callable[[bytes, Mapping[str, str]], int]] | None = None) -> None:
        self.app = app
        self.engine = engine
        self.path = path
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self.webhooks = dict(webhooks or {})  # path -> handler(raw body, headers) -> status; they verify

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        if path == "/healthz" and method in {"GET", "HEAD"}:
            return self._health(start_response)
        if path in self.webhooks and method == "POST":
            return self._webhook(environ, start_response, self.webhooks[path])
        if path != self.path or method != "POST":
            return _reply(start_response, 404, b"Not Found", "text/plain")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            return _reply(start_response, 413, b"Too large", "text/plain")
        raw = environ["wsgi.input"].read(length).decode("utf-8", errors="replace") if length else ""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            request = bolt_request(raw, environ.get("QUERY_STRING", ""), headers)
        except (ValueError, TypeError, AttributeError):  # Bolt parses before it checks the signature
            signed = self.verifier is not None and self.verifier.is_valid_request(raw, headers)
            log.info("refused a request body Slack would not send (%s)", "signed" if signed else "unsigned")
            return _reply(start_response, 400 if signed or self.verifier is None else 401, b"", "text/plain")
        response = self.app.dispatch(request)
        out_headers = [(k, v) for k, values in response.headers.items() for v in values]
        body = response.body.encode() if isinstance(response.body, str) else (response.body or b"")
        start_response(f"{response.status} {_REASONS.get(response.status, 'OK')}", out_headers)
        return [body]

    def _webhook(self, environ: dict[str, Any], start_response: Callable[..., Any],
                 handler: Callable[[bytes, Mapping[str, str]], int]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            return _reply(start_response, 413, b"Too large", "text/plain")
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        try:
            status = handler(raw, headers)
        except Exception:
            log.exception("webhook %s failed", environ.get("PATH_INFO"))
            status = 500
        return _reply(start_response, status, b"", "text/plain")

    def _health(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("health check: database unreachable (%s)", type(exc).__name__)
            return _reply(start_response, 503, json.dumps({"ok": False, "database": "unreachable"}).encode())
        return _reply(start_response, 200, json.dumps({"ok": True}).encode())


def _reply(start_response: Callable[..., Any], status: int, body: bytes,
           content_type: str = "application/json") -> Iterable[bytes]:
    start_response(f"{status} {_REASONS.get(status, 'OK')}",
                   [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class HttpServer:
    """waitress in a background thread (tests, benchmarks) or the foreground (``timebot run``)."""

    def __init__(self, wsgi: SlackWsgi, host: str = "0.0.0.0", port: int = 3000, threads: int = 32) -> None:  # noqa: S104
        # poll(), not waitress's default select(): select() cannot watch a descriptor above 1023 and
        # kills the server thread ("filedescriptor out of range") once a burst opens that many sockets.
        self.server = create_server(wsgi, host=host, port=port, threads=threads, connection_limit=4000,
                                    backlog=2048, channel_timeout=60, ident="timebot", asyncore_use_poll=True)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.effective_port)  # type: ignore[union-attr]

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.server.run, name="timebot-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.run()

    def stop(self) -> None:
        self.server.close()
