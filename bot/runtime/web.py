"""HTTP mode: a WSGI app (Bolt at ``POST /slack/events``; ``/healthz``, ``/readyz``, ``/metrics`` from
bot.runtime.health) served by waitress.

Bolt's own ``App.start`` is a single-threaded dev server, so a burst of slash commands would
queue behind each other; waitress gives a thread pool and a deep accept queue.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.context import BoltContext
from slack_bolt.oauth import OAuthFlow
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.engine import Engine
from waitress.server import create_server

from bot.runtime.calendar_http import CalendarRoutes
from bot.runtime.health import OpsRoutes, Readiness
from bot.slack.signing import VERIFIED, signed_by_slack

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20
_REASONS = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def bolt_request(raw: str, query: str, headers: dict[str, str | Sequence[str]]) -> BoltRequest:
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
    """Refuses before it reads, verifies before it parses: nothing of a request that fails
    Slack's signature check reaches Bolt (no listener, middleware or error handler runs)."""

    def __init__(
        self,
        app: App,
        engine: Engine,
        path: str = "/slack/events",
        *,
        signing_secret: str,
        webhooks: Mapping[str, Callable[[bytes, Mapping[str, str]], int]] | None = None,
        oauth: OAuthFlow | None = None,
        ops: OpsRoutes | None = None,
        calendar: CalendarRoutes | None = None,
    ) -> None:
        self.app = app
        self.engine = engine
        self.path = path
        self.verifier = SignatureVerifier(signing_secret)
        self.webhooks = dict(webhooks or {})  # path -> handler(raw body, headers) -> status; they verify
        self.ops = ops or OpsRoutes(Readiness(engine))  # without one: readiness without the Slack check
        self.oauth = OAuthRoutes(oauth, engine, self.ops, calendar)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return _no_body_for_head(environ, self._route(environ, start_response))

    def _route(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        if self.ops.serves(path, method):
            return self.ops(environ, start_response)
        if path in self.webhooks and method == "POST":
            return self._webhook(environ, start_response, self.webhooks[path])
        if method == "GET" and self.oauth.serves(path):
            return self.oauth(environ, start_response)
        if self.oauth.calendar is not None and self.oauth.calendar.serves(path):
            return self.oauth.calendar(environ, start_response)
        if path != self.path or method != "POST":
            return _reply(start_response, 404, b"Not Found", "text/plain")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _reply(start_response, 400, b"", "text/plain")
        if length > MAX_BODY:  # waitress refuses these first (max_request_body_size); kept for other servers
            return _reply(start_response, 413, b"Too large", "text/plain")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if not signed_by_slack(self.verifier, raw, headers):
            log.info("refused a request that failed Slack's signature check")
            return _reply(start_response, 401, b"", "text/plain")
        try:
            request = bolt_request(raw.decode("utf-8"), environ.get("QUERY_STRING", ""), headers)
        except Exception:  # deep nesting (RecursionError), bad UTF-8, a list for a body …
            log.info("refused a signed request body Slack would not send")
            return _reply(start_response, 400, b"", "text/plain")
        request.context[VERIFIED] = True
        return _bolt_reply(start_response, self.app.dispatch(request))

    def _webhook(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        handler: Callable[[bytes, Mapping[str, str]], int],
    ) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _reply(start_response, 400, b"", "text/plain")
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


class OAuthRoutes:
    """The status consent's browser routes (Bolt's OAuthFlow: start, redirect), ``/healthz``,
    ``/readyz``, ``/metrics`` and the calendar feeds. Served beside ``/slack/events`` in HTTP mode,
    alone on ``--port`` in Socket Mode."""

    def __init__(
        self,
        flow: OAuthFlow | None,
        engine: Engine,
        ops: OpsRoutes | None = None,
        calendar: CalendarRoutes | None = None,
    ) -> None:
        self.flow = flow
        self.engine = engine
        self.ops = ops or OpsRoutes(Readiness(engine))
        self.calendar = calendar  # the calendar feeds, served here too

    def serves(self, path: str) -> bool:
        return self.flow is not None and path in {self.flow.install_path, self.flow.redirect_uri_path}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return _no_body_for_head(environ, self._route(environ, start_response))

    def _route(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        if self.ops.serves(path, method):
            return self.ops(environ, start_response)
        if self.calendar is not None and self.calendar.serves(path):
            return self.calendar(environ, start_response)
        if method != "GET" or self.flow is None or not self.serves(path):
            return _reply(start_response, 404, b"Not Found", "text/plain")
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        try:
            request = BoltRequest(body="", query=environ.get("QUERY_STRING", ""), headers=headers)
            if path == self.flow.install_path:
                return _bolt_reply(start_response, self.flow.handle_installation(request))
            return _bolt_reply(start_response, self.flow.handle_callback(request))
        except Exception as exc:  # anyone can open these: a failure is a line, not a traceback and a 500
            log.error("status consent route %s failed: %s", path, type(exc).__name__)
            return _reply(start_response, 503, b"Timebot couldn't finish this; try again shortly.", "text/plain")


def _no_body_for_head(environ: dict[str, Any], body: Iterable[bytes]) -> Iterable[bytes]:
    """waitress sends whatever body the app returns, HEAD or not; a client reading a HEAD answer
    expects none, and would read those bytes as the start of its next answer on the connection."""
    return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else body


def _bolt_reply(start_response: Callable[..., Any], response: BoltResponse) -> Iterable[bytes]:
    out_headers = [(k, v) for k, values in response.headers.items() for v in values]
    body = response.body.encode() if isinstance(response.body, str) else (response.body or b"")
    start_response(f"{response.status} {_REASONS.get(response.status, 'OK')}", out_headers)
    return [body]


def _reply(
    start_response: Callable[..., Any], status: int, body: bytes, content_type: str = "application/json"
) -> Iterable[bytes]:
    start_response(
        f"{status} {_REASONS.get(status, 'OK')}", [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    )
    return [body]


class QueueDepthSummary(logging.Filter):
    """waitress warns "Task queue depth is N" for every request queued behind busy threads: 256
    lines for one 9:00 burst, which is expected and not news. The first goes through; the rest
    are counted and summed up in one line a minute later (or when the server stops)."""

    def __init__(self, every: float = 60.0) -> None:
        super().__init__()
        self.every = every
        self._lock = threading.Lock()
        self._held = 0
        self._deepest = 0
        self._since: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        depth = record.args[0] if isinstance(record.args, tuple) and record.args else 0
        now = time.monotonic()
        with self._lock:
            if self._since is not None and now - self._since < self.every:
                self._held += 1
                self._deepest = max(self._deepest, depth if isinstance(depth, int) else 0)
                return False
            self._since = now
            held, deepest, self._held, self._deepest = self._held, self._deepest, 0, 0
        if held:
            record.msg, record.args = (
                "%s; %d more queue warnings before it (deepest %d)",
                (record.getMessage(), held, deepest),
            )
        return True

    def flush(self) -> None:
        with self._lock:
            held, deepest, self._held, self._deepest, self._since = self._held, self._deepest, 0, 0, None
        if held:
            logging.getLogger("waitress.queue").warning(
                "requests queued behind busy threads: %d more queue warnings (deepest %d)", held, deepest
            )


_queue_summary = QueueDepthSummary()
logging.getLogger("waitress.queue").addFilter(_queue_summary)


class HttpServer:
    """waitress in a background thread (tests, benchmarks) or the foreground (``timebot run``)."""

    def __init__(
        self,
        wsgi: SlackWsgi | OAuthRoutes,
        host: str = "0.0.0.0",  # noqa: S104
        port: int = 3000,
        threads: int = 32,
    ) -> None:
        # poll(), not waitress's default select(): select() cannot watch a descriptor above 1023 and
        # kills the server thread ("filedescriptor out of range") once a burst opens that many sockets.
        # max_request_body_size: waitress answers 413 to a larger declared length (or chunked body)
        # before reading it, instead of buffering up to its default 1 GiB for the app to refuse.
        self.server = create_server(
            wsgi,
            host=host,
            port=port,
            threads=threads,
            connection_limit=4000,
            backlog=2048,
            channel_timeout=60,
            ident="timebot",
            asyncore_use_poll=True,
            max_request_body_size=MAX_BODY + 1,
        )  # waitress refuses ">=" its limit
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        # waitress sets effective_port on the (single-socket) server it builds; its stubs leave it out
        return int(self.server.effective_port)  # type: ignore[union-attr]

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.server.run, name="timebot-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.run()

    def stop(self) -> None:
        """Close every socket from inside waitress's own loop, then let its threads finish.
        Closing them from here, while the loop is polling them, is what once logged
        "OSError: Bad file descriptor" on SIGTERM."""
        server: Any = self.server
        if self._thread is not None and self._thread.is_alive():
            try:
                server.trigger.pull_trigger(lambda: _close_all(server))
            except OSError:  # the trigger's pipe is gone already: close from here, the loop then ends
                log.debug("waitress trigger unavailable at shutdown; closing its sockets directly")
                _close_all(server)
            self._thread.join(timeout=5)
        if self._thread is None or not self._thread.is_alive():
            _close_all(server)
        server.task_dispatcher.shutdown(timeout=5)
        _queue_summary.flush()


def _close_all(server: Any) -> None:
    """Close the listener, the trigger and open connections: waitress's loop ends with its map empty."""
    for channel in list(server._map.values()):
        with contextlib.suppress(OSError):
            channel.close()
