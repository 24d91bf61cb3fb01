"""A small threaded HTTP server that every local simulator (Slack stand-in, vendors) runs on.

Simulators are plain functions of ``Request -> Response``; this module owns the sockets, the
threads and fault injection (latency, errors, hung or dropped connections), so tests and
benchmarks can break any simulator the same way.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def data(self) -> dict[str, Any]:
        """The body as a dict, whether it was sent as JSON or as a form."""
        if not self.body:
            return {}
        if self.headers.get("content-type", "").startswith("application/json"):
            data = self.json()
            return data if isinstance(data, dict) else {}
        return self.form()


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        h = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
        return cls(status, json.dumps(data).encode(), h)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode(), {"Content-Type": content_type})


@dataclass
class Faults:
    """What a test asks the server to do wrong. ``script`` entries are consumed one request each:
    a ``Response`` is returned instead of the real handler, ``"drop"`` runs the real handler then
    closes the connection without answering, ``"pass"`` lets one request through untouched,
    ``"garble"`` runs it then answers 200 with a page that
    isn't the API's JSON (a proxy in the way), ``"hang"`` never answers (until ``hang_seconds``)."""

    latency: float = 0.0
    method_latency: dict[str, float] = field(default_factory=dict)  # extra per method: a slow write, a quick read
    hang_seconds: float = 60.0
    script: deque[Response | str] = field(default_factory=deque)
    only_methods: frozenset[str] | None = None  # apply ``script`` only to these methods
    only_path: str | None = None  # apply ``script`` only to paths starting with this

    def take(self, method: str, path: str = "") -> Response | str | None:
        if not self.script:
            return None
        if self.only_methods is not None and method not in self.only_methods:
            return None
        if self.only_path is not None and not path.startswith(self.only_path):
            return None
        try:
            return self.script.popleft()
        except IndexError:
            return None


Handler = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 2048
    allow_reuse_address = True


class SimServer:
    """Runs ``handler`` on 127.0.0.1 in a background thread; ``base_url`` is ready after start."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0, name: str = "sim") -> None:
        self.handler = handler
        self.faults = Faults()
        self.name = name
        self.requests: list[Request] = []  # recorded when handled (after any latency)
        self.arrived: list[tuple[str, str]] = []  # (method, path) as each request arrives, before latency
        self.in_flight = 0  # requests being handled right now, latency included
        self.max_in_flight = 0  # the most at once since start: what a client's concurrency cap must bound
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), self._make_handler())
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()  # open client connections, closed by stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SimServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.name}-http", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Go down like a real server: stop listening *and* close the keep-alive connections
        clients still hold (their handler threads would otherwise go on answering)."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes; Nagle would add ~40 ms each

            def log_message(self, format: str, *args: Any) -> None:
                return  # requests are recorded, not printed (queries can carry keys)

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server._connections.add(self.connection)

            def finish(self) -> None:
                with server._lock:
                    server._connections.discard(self.connection)
                super().finish()

            def _handle(self) -> None:
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                self._counted = True
                try:
                    self._answer()
                finally:
                    self._done()

            def _done(self) -> None:
                """Out of flight just *before* the client can see the answer (or the drop): after
                it, the client may send its next request before this thread gets to count down."""
                if self._counted:
                    self._counted = False
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Encoding", "").lower() == "gzip" and body:
                    body = gzip.decompress(body)
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with server._lock:
                    server.arrived.append((request.method, request.path))
                fault = server.faults.take(self.command, request.path)
                delay = server.faults.latency + server.faults.method_latency.get(self.command, 0.0)
                if delay:
                    time.sleep(delay)
                if fault == "hang":
                    server._stopping.wait(server.faults.hang_seconds)
                    self.close_connection = True
                    return
                if isinstance(fault, Response):
                    server._record(request)
                    self._send(fault)
                    return
                server._record(request)
                try:
                    response = server.handler(request)
                except Exception:  # a simulator bug must still answer, like a real server would
                    log.exception("%s simulator failed on %s %s", server.name, request.method, request.path)
                    response = Response.json({"error": "simulator error"}, 500)
                if fault == "garble":
                    response = Response.text("<html><body>Gateway</body></html>", 200, "text/html")
                if fault == "drop":
                    self.close_connection = True
                    self._done()
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._send(response)

            def _send(self, response: Response) -> None:
                body = response.body
                headers = dict(response.headers)
                if "gzip" in self.headers.get("Accept-Encoding", "") and headers.pop("X-Sim-Gzip", None):
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                headers.pop("X-Sim-Gzip", None)
                self.log_request(response.status)
                self._done()
                self.send_response_only(response.status)
                headers.setdefault("Date", self.date_time_string())  # simulators may set their own clock's
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        return _H
