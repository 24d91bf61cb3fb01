"""Prometheus metrics (``TIMEBOT_METRICS=true``), served at ``/metrics`` beside ``/healthz``.

Off by default, and then every hook below returns at its first line: the 9:00 rush pays nothing.
On, each hook is one counter or histogram update (a lock and an add). Gauges that describe a
state (breakers, calls in flight, the work queue) are read when Prometheus scrapes, not kept up
to date on every call.

Labels never carry a Slack user or channel id, nor a vendor's ids: vendor routes are templated
(``/api/users/{id}/sessions``) and scheduled jobs are named by kind (``digest:post``), so the
number of series stays small however many people and channels there are.
"""

from __future__ import annotations

import functools
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ParamSpec, Protocol, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

__all__ = ["CONTENT_TYPE_LATEST", "enable", "enabled", "render"]

P = ParamSpec("P")
R = TypeVar("R")

_on = False
_lock = threading.Lock()
registry = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=registry)  # process_cpu_seconds_total, process_resident_memory_bytes, open fds
PlatformCollector(registry=registry)  # python_info

# Acks within Slack's 3 s, the buckets where a burst shows.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0)
VENDOR_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

ack_seconds = Histogram(
    "timebot_slack_ack_seconds",
    "Time from Bolt's dispatch to the ack Slack gets, by surface",
    ["surface"],
    buckets=ACK_BUCKETS,
    registry=registry,
)
actions = Counter(
    "timebot_actions_total",
    "Vendor actions people asked for, by kind and outcome (ok, rejected, unavailable, unknown)",
    ["kind", "outcome"],
    registry=registry,
)
vendor_requests = Counter(
    "timebot_vendor_requests_total",
    "HTTP requests to vendors (each attempt, retries "
    "included), by vendor, templated route and status (an HTTP code, or timeout, "
    "connect_error, transport_error, breaker_open)",
    ["vendor", "route", "status"],
    registry=registry,
)
vendor_seconds = Histogram(
    "timebot_vendor_request_seconds",
    "Time of one vendor request on the wire",
    ["vendor", "route"],
    buckets=VENDOR_BUCKETS,
    registry=registry,
)
job_runs = Counter("timebot_scheduled_job_runs_total", "Runs of scheduled jobs", ["scheduled_job"], registry=registry)
job_failures = Counter(
    "timebot_scheduled_job_failures_total", "Runs of scheduled jobs that failed", ["scheduled_job"], registry=registry
)
job_last_success = Gauge(
    "timebot_scheduled_job_last_success_timestamp_seconds",
    "When each scheduled job last finished without failing (Unix time)",
    ["scheduled_job"],
    registry=registry,
)
digests_posted = Counter("timebot_digests_posted_total", "Digests posted in full", registry=registry)
digest_runs = Counter(
    "timebot_digest_runs_total",
    "Digest runs by outcome (ok, partial, failed, unknown, not_resumed)",
    ["outcome"],
    registry=registry,
)
reminders_sent = Counter(
    "timebot_reminders_sent_total",
    "Reminders sent, by kind (clock_out, clock_in, approval)",
    ["kind"],
    registry=registry,
)
status_changes = Counter(
    "timebot_slack_status_changes_total",
    "Slack statuses changed for leave, by change (set, restored)",
    ["change"],
    registry=registry,
)
leave_news = Counter(
    "timebot_leave_status_changes_total",
    "Leave request status changes announced (approved, declined, cancelled)",
    registry=registry,
)
slack_rate_limited = Counter(
    "timebot_slack_rate_limited_total", "Slack Web API answers of HTTP 429, by method", ["method"], registry=registry
)

OUTCOMES = {
    "ok": "ok",
    "rejected": "rejected",
    "refused": "rejected",
    "failed": "unavailable",
    "unavailable": "unavailable",
    "unknown": "unknown",
}
NOT_ACTIONS = frozenset({"digest"})  # digests have their own counters


def enable() -> None:
    """Turn the hooks on (``create_app`` with ``TIMEBOT_METRICS=true``); the zero series show at once."""
    global _on
    with _lock:
        if _on:
            return
        _on = True
    for kind in ("clock_in", "clock_out", "request_leave", "cancel_leave"):
        for outcome in ("ok", "rejected", "unavailable", "unknown"):
            actions.labels(kind, outcome)
    for kind in ("clock_out", "clock_in", "approval"):
        reminders_sent.labels(kind)
    for change in ("set", "restored"):
        status_changes.labels(change)
    for outcome in ("ok", "partial", "failed", "unknown"):
        digest_runs.labels(outcome)


def enabled() -> bool:
    return _on


def render() -> bytes:
    """The text exposition format, for ``GET /metrics``."""
    return generate_latest(registry)


# --- hooks (each returns at once while metrics are off) -----------------------------------------


def ack(body: dict[str, Any], seconds: float) -> None:
    if _on:
        ack_seconds.labels(surface(body)).observe(seconds)


def action(kind: str, outcome: str) -> None:
    """An action's audited outcome (``ok``, ``rejected``, ``failed``, ``unknown`` …)."""
    if _on and kind not in NOT_ACTIONS:
        actions.labels(kind, OUTCOMES.get(outcome, "rejected")).inc()
        _attempt.counted = True


_attempt = threading.local()


def attempted(kind: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Count an action of ``kind`` that failed before anything was audited (a read before the
    write failed, the person isn't linked …): the audit hook counts the rest, each once."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            _attempt.counted = False
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if _on and not getattr(_attempt, "counted", False):
                    actions.labels(kind, failure_outcome(exc)).inc()
                raise

        return run

    return wrap


def failure_outcome(exc: BaseException) -> str:
    """``rejected`` (the vendor or the bot refused: bad input, not linked, not supported),
    ``unknown`` (the answer was lost), else ``unavailable``."""
    from bot.errors import NotSupported, OutcomeUnknown, UserError, VendorError, VendorRejected

    if isinstance(exc, OutcomeUnknown):
        return "unknown"
    if isinstance(exc, VendorRejected | NotSupported | UserError):
        return "rejected"
    return "unavailable" if isinstance(exc, VendorError) else "error"


def vendor_request(vendor: str, url: str, status: int | str, seconds: float | None) -> None:
    if not _on:
        return
    name, path = vendor_name(vendor), route(url)
    vendor_requests.labels(name, path, str(status)).inc()
    if seconds is not None:
        vendor_seconds.labels(name, path).observe(seconds)


def digest(outcome: str) -> None:
    if _on:
        digest_runs.labels(outcome).inc()
        if outcome == "ok":
            digests_posted.inc()


def reminders(kind: str, sent: int) -> None:
    if _on and sent:
        reminders_sent.labels(kind).inc(sent)


def status_change(change: str) -> None:
    if _on:
        status_changes.labels(change).inc()


def leave_changes(announced: int) -> None:
    if _on and announced:
        leave_news.inc(announced)


# --- labels -----------------------------------------------------------------------------------

_SURFACES = {
    "block_actions": "action",
    "view_submission": "view",
    "view_closed": "view",
    "event_callback": "event",
    "shortcut": "shortcut",
    "message_action": "shortcut",
    "block_suggestion": "options",
    "interactive_message": "action",
}


def surface(body: dict[str, Any]) -> str:
    """Which kind of Slack request this is: command, action, view, event, shortcut, options, other."""
    if body.get("command"):
        return "command"
    return _SURFACES.get(str(body.get("type")), "other")


def vendor_name(label: str) -> str:
    return label.lower().replace(" ", "")


_ID_SEGMENT = re.compile(r"[0-9@%]|^[A-Za-z0-9_-]{20,}$")
_VERSION = re.compile(r"^v\d+(\.\d+)?$")  # /v1/: part of the route, not an id


def route(url: str) -> str:
    """The path with every id-like segment (digits, an email, a long token) as ``{id}``; no query."""
    path = url.split("?", 1)[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    parts = ["{id}" if _ID_SEGMENT.search(part) and not _VERSION.match(part) else part for part in path.split("/")]
    return "/".join(parts) or "/"


_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]*[0-9][A-Z0-9]*$")  # T0DEMO, C0123ABCD: capitals with a digit
_UUID_HEX = re.compile(r"^[0-9a-f]{32}$")


def job_label(job_id: str) -> str:
    """A scheduled job's name without the team and channel in its id (``digest:T1:C2`` → ``digest:post``)."""
    if _UUID_HEX.match(job_id):
        return "unnamed"
    parts = job_id.split(":")
    if parts[0] == "digest" and len(parts) == 3:  # digest:<team>:<channel>, one per subscription
        return "digest:post"
    parts = [p for p in parts if not _SLACK_ID.match(p)]
    return ":".join(parts) or "unnamed"


# --- scheduled jobs ---------------------------------------------------------------------------

_job_state = threading.local()


def note_job_failure() -> None:
    """A job that logs its own failure and returns (so the scheduler keeps it) says so here."""
    _job_state.failed = True


def watch_scheduler(scheduler: Any) -> None:
    """Count runs and failures of every job of an APScheduler 3 scheduler.

    The listener runs in the worker thread that ran the job, right after it, so a failure the job
    caught itself and noted (``note_job_failure``) is seen there."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    def listen(event: Any) -> None:
        failed = getattr(_job_state, "failed", False) or event.exception is not None
        _job_state.failed = False
        if not _on:
            return
        name = job_label(str(event.job_id))
        job_runs.labels(name).inc()
        if failed:
            job_failures.labels(name).inc()
        else:
            job_last_success.labels(name).set(time.time())

    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)


# --- Slack 429s -------------------------------------------------------------------------------


class CountRateLimits(RetryHandler):
    """First of a WebClient's retry handlers: counts each 429 by API method and never retries
    itself, so the handlers after it decide as before."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=1 << 30)

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _on and response is not None and response.status_code == 429:
            method = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            slack_rate_limited.labels(method if re.fullmatch(r"[a-zA-Z.]{1,60}", method) else "other").inc()
        return False


class _Retrying(Protocol):
    retry_handlers: list[RetryHandler]


_Client = TypeVar("_Client", bound=_Retrying)


def count_rate_limits(client: _Client) -> _Client:
    """Put ``CountRateLimits`` first among ``client``'s retry handlers; returns the client."""
    if not any(isinstance(h, CountRateLimits) for h in client.retry_handlers):
        client.retry_handlers.insert(0, CountRateLimits())
    return client


# --- gauges read at scrape time ---------------------------------------------------------------


_vendors: weakref.WeakSet[Any] = weakref.WeakSet()
_pools: weakref.WeakSet[Any] = weakref.WeakSet()


def watch_vendor(http: Any) -> None:
    """A vendor client (``label``, ``breaker``, ``concurrency``, ``in_flight()``) to report while it lives."""
    _vendors.add(http)


def watch_pool(pool: Any) -> None:
    """A work pool (``pending``, ``workers``) to report while it lives."""
    _pools.add(pool)


def live_vendors() -> list[Any]:
    return list(_vendors)


class _StateCollector:
    """Breakers, calls in flight against each vendor's cap, and the work pool's queue, read from
    the live objects each time Prometheus scrapes."""

    def __init__(self, vendors: Callable[[], Iterable[Any]], pools: Callable[[], Iterable[Any]]) -> None:
        self.vendors = vendors
        self.pools = pools

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(self._families())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = self._families()
        breaker, in_flight, cap, pending, workers = families
        per_vendor: dict[str, list[float]] = {}
        for http in list(self.vendors()):
            state = per_vendor.setdefault(vendor_name(http.label), [0.0, 0.0, 0.0])
            state[0] = max(state[0], breaker_state(http.breaker))
            state[1] += http.in_flight()
            state[2] += http.concurrency
        for name, (b, f, c) in sorted(per_vendor.items()):
            breaker.add_metric([name], b)
            in_flight.add_metric([name], f)
            cap.add_metric([name], c)
        pools = list(self.pools())
        pending.add_metric([], sum(pool.pending for pool in pools))
        workers.add_metric([], sum(pool.workers for pool in pools))
        return iter(families)

    @staticmethod
    def _families() -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily(
                "timebot_vendor_breaker_state",
                "Each vendor's circuit: 0 closed, 1 half-open (one trial call), 2 open",
                labels=["vendor"],
            ),
            GaugeMetricFamily("timebot_vendor_in_flight", "Requests on the wire to each vendor now", labels=["vendor"]),
            GaugeMetricFamily(
                "timebot_vendor_concurrency_limit",
                "Each vendor's cap on requests in flight (TIMEBOT_<VENDOR>_CONCURRENCY, per host)",
                labels=["vendor"],
            ),
            GaugeMetricFamily(
                "timebot_work_pending", "Jobs handed to the work pool and not finished (running or queued)"
            ),
            GaugeMetricFamily("timebot_work_workers", "Threads of the work pool (TIMEBOT_WORKERS)"),
        ]


def breaker_state(breaker: Any) -> int:
    if breaker.is_open:
        return 2
    return 1 if breaker.half_open else 0


state = _StateCollector(live_vendors, lambda: list(_pools))
registry.register(state)
