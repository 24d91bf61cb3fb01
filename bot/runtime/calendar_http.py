"""``GET /calendar/<token>.ics``: the calendar feeds, beside ``/slack/events`` in HTTP mode and
beside ``/healthz`` on ``--port`` in Socket Mode.

Calendar apps poll: ``ETag``/``Last-Modified`` let them ask "changed?" (304 when not), and the
body comes from the feed's last build (``bot.usecases.calendar``). The token is the secret, so
it is never logged: a failure is logged by the feed's row id at most."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from bot.usecases.calendar import PATH_PREFIX, SUFFIX, Calendars, FeedBusy, Served

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class CalendarRoutes:
    def __init__(self, calendars: Calendars) -> None:
        self.calendars = calendars

    @staticmethod
    def serves(path: str) -> bool:
        return path.startswith(PATH_PREFIX) and path.endswith(SUFFIX)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        if method not in {"GET", "HEAD"}:
            return _plain(start_response, "405 Method Not Allowed", b"", [("Allow", "GET, HEAD")])
        token = path[len(PATH_PREFIX) : -len(SUFFIX)]
        if not _TOKEN.match(token):
            return _plain(start_response, "404 Not Found", b"Not Found")
        try:
            served = self.calendars.serve(token)
        except FeedBusy:
            return _plain(
                start_response,
                "503 Service Unavailable",
                b"The calendar is being built; try again soon.",
                [("Retry-After", "60")],
            )
        except Exception as exc:
            log.error("calendar feed failed: %s", type(exc).__name__)
            return _plain(start_response, "500 Internal Server Error", b"")
        if served is None:
            return _plain(start_response, "404 Not Found", b"Not Found")
        headers = [
            ("ETag", served.etag),
            ("Last-Modified", format_datetime(served.modified, usegmt=True)),
            ("Cache-Control", "private, max-age=300"),
        ]
        if _not_modified(environ, served):
            start_response("304 Not Modified", headers)
            return [b""]
        body = served.body.encode()
        start_response(
            "200 OK", [("Content-Type", "text/calendar; charset=utf-8"), ("Content-Length", str(len(body))), *headers]
        )
        return [b"" if method == "HEAD" else body]


def _not_modified(environ: dict[str, Any], served: Served) -> bool:
    match = environ.get("HTTP_IF_NONE_MATCH")
    if match:  # takes precedence over If-Modified-Since (RFC 9110 13.2.2)
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or served.etag in tags
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            return served.modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _plain(
    start_response: Callable[..., Any], status: str, body: bytes, extra: list[tuple[str, str]] | None = None
) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body))), *(extra or [])])
    return [body]
