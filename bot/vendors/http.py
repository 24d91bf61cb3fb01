"""The one HTTP path every vendor connector uses: timeouts, safe retries and a circuit breaker.

Retries follow one rule: a request is repeated only when repeating it cannot double an action —
reads (idempotent), or any request the vendor provably did not process (connection refused,
429/503 answered before work). A write whose answer was lost raises ``OutcomeUnknown`` so the
use case can check with the vendor before trying again.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.errors import OutcomeUnknown, VendorError, VendorUnavailable
from bot.telemetry import metrics, progress

log = logging.getLogger(__name__)

_RETRYABLE_STATUS = {429, 503}
_READ_RETRYABLE_STATUS = {429, 500, 502, 503, 504}
_GATEWAY_STATUS = {502, 504}  # a proxy answered: the vendor behind it may still be working


DEFAULT_CONCURRENCY = 500  # 1,000 clock-ins = 2,000 calls of 2 s: 8 s of vendor time at this cap (bench/ack.py)


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts, retry and breaker settings shared by every vendor (from ``TIMEBOT_HTTP_*``)."""

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    max_retries: int = 2
    backoff_base: float = 0.2
    max_retry_after: float = 5.0
    breaker_failures: int = 5
    breaker_cooldown: float = 30.0
    concurrency: int = DEFAULT_CONCURRENCY
    vendor_concurrency: Mapping[str, int] = field(default_factory=dict)  # by vendor name, e.g. "timeclock"

    def concurrency_for(self, vendor: str) -> int:
        """Requests in flight to ``vendor`` at once (``TIMEBOT_<VENDOR>_CONCURRENCY``)."""
        return self.vendor_concurrency.get(vendor.lower(), self.concurrency)


class CircuitBreaker:
    """Opens after ``threshold`` consecutive transport failures so that an outage answers at
    once instead of every person waiting on a timeout; one trial call after ``cooldown``."""

    def __init__(
        self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic, name: str = "vendor"
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None and self._clock() - self._opened_at < self.cooldown

    @property
    def half_open(self) -> bool:
        """The cooldown is over: the next call is the one trial (or it is on its way)."""
        with self._lock:
            return self._opened_at is not None and self._clock() - self._opened_at >= self.cooldown

    def allow(self) -> bool:
        with self._lock:
            if self._opened_at is None:
                return True
            if self._clock() - self._opened_at < self.cooldown or self._trial_in_flight:
                return False
            self._trial_in_flight = True  # half-open: let exactly one call through
            return True

    def success(self) -> None:
        with self._lock:
            if self._opened_at is not None:
                log.warning("%s answers again; calls resume", self.name)
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_in_flight = False
            if self._failures >= self.threshold or self._opened_at is not None:
                if self._opened_at is None:
                    log.warning(
                        "%s failed %d times in a row: pausing calls for %.0f s",
                        self.name,
                        self._failures,
                        self.cooldown,
                    )
                self._opened_at = self._clock()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def unreadable_answer(
    label: str, response: httpx.Response, setting: str, *, changes: bool | None = None
) -> VendorError:
    """A 2xx answer that isn't the API's JSON (a proxy's sign-in page, a base URL that isn't the
    API). After a request that changes something (default: any method but GET/HEAD/OPTIONS) the
    change may have happened, so the outcome is unknown and gets checked, never "try again"."""
    if changes is None:
        changes = response.request.method.upper() not in SAFE_METHODS
    log.warning("%s answered HTTP %s with something that isn't JSON (check %s)", label, response.status_code, setting)
    if changes:
        return OutcomeUnknown(
            label,
            f"{label} sent an answer Timebot couldn't read, so this may or may not have gone through.",
            vendor_finished=True,
        )
    return VendorError(
        label,
        f"{label} sent an answer Timebot couldn't read. Nothing was changed; an admin should check {setting}.",
        detail=f"HTTP {response.status_code}, not JSON",
    )


def retry_after_seconds(response: httpx.Response, ceiling: float) -> float | None:
    """Seconds the vendor asked us to wait (delta-seconds or HTTP date), capped at ``ceiling``."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, ceiling))


class VendorHttp:
    """An httpx client bound to one vendor's base URL, with that vendor's breaker and its cap on
    requests in flight (``TIMEBOT_<VENDOR>_CONCURRENCY``), so a rush never floods a company's own
    server. Every attempt, retries included, holds a slot only while it is on the wire; a caller
    over the cap waits on a queue, which costs nothing while it waits.

    The slots are spread over small httpx clients (``SHARD`` connections each): httpx's pool
    scans all its connections, and for each idle one all of them again, on every request and
    every response, which at a few hundred connections cost more CPU than the whole clock-in
    (profiled with bench/ack.py). Slots are handed out last-in first-out, so one caller at a time
    always uses ``client`` (the first shard) and its warm connection."""

    SHARD = 8

    def __init__(
        self,
        vendor_label: str,
        base_url: str,
        policy: HttpPolicy | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.label = vendor_label
        self.policy = policy or HttpPolicy()
        self.breaker = CircuitBreaker(self.policy.breaker_failures, self.policy.breaker_cooldown, name=vendor_label)
        self._sleep = sleep
        self.concurrency = self.policy.concurrency_for(vendor_label)
        shards = -(-self.concurrency // self.SHARD)
        self._client_args: dict[str, Any] = {
            "base_url": base_url,
            "headers": dict(headers or {}),
            "timeout": httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout),
            "verify": httpx.create_ssl_context(),  # one TLS context (CA bundle loaded once) for every shard
        }
        self._shard_lock = threading.Lock()
        self._shards: list[httpx.Client | None] = [None] * shards
        self._slots: queue.LifoQueue[int] = queue.LifoQueue()
        for i in reversed(range(self.concurrency)):  # shard 0's slots end on top
            self._slots.put(i % shards)
        self.client = self._shard(0)
        metrics.watch_vendor(self)

    def in_flight(self) -> int:
        """Requests on the wire right now (slots taken)."""
        return self.concurrency - self._slots.qsize()

    def _shard(self, index: int) -> httpx.Client:
        """The httpx client of one shard, made on first use: a quiet bot never opens the rest."""
        with self._shard_lock:
            client = self._shards[index]
            if client is None:
                size = len(range(index, self.concurrency, len(self._shards)))  # as many connections as slots
                client = httpx.Client(
                    **self._client_args, limits=httpx.Limits(max_connections=size, max_keepalive_connections=size)
                )
                self._shards[index] = client
            return client

    def close(self) -> None:
        with self._shard_lock:
            for client in self._shards:
                if client is not None:
                    client.close()

    @contextmanager
    def _slot(self) -> Iterator[httpx.Client]:
        """Hold one of the vendor's slots for one attempt; waits (without spinning) when all are taken."""
        index = self._slots.get()
        try:
            yield self._shards[index] or self._shard(index)
        finally:
            self._slots.put(index)

    @contextmanager
    def _measured(self, url: str) -> Iterator[Callable[[int], None]]:
        """Time one attempt on the wire (metrics: vendor, templated route, status or failure kind)."""
        if not metrics.enabled():
            yield lambda _status: None
            return
        started = time.perf_counter()
        try:
            yield lambda status: metrics.vendor_request(self.label, url, status, time.perf_counter() - started)
        except httpx.TransportError as exc:
            metrics.vendor_request(self.label, url, _failure_status(exc), time.perf_counter() - started)
            raise

    def _unavailable(self, what: str) -> VendorUnavailable:
        log.warning("%s unavailable: %s", self.label, what)
        return VendorUnavailable(
            self.label,
            f"{self.label} isn't answering right now ({what}). Nothing was changed; try again shortly.",
            what=what,
        )

    def _unknown(self, method: str, url: str, what: str, status: int | None = None) -> OutcomeUnknown:
        log.warning("%s %s on %s %s: the outcome is unknown", self.label, what, method, _path(url))
        return OutcomeUnknown(
            self.label,
            f"{self.label} {what}, so this may or may not have gone through.",
            vendor_finished=status is not None and status not in _GATEWAY_STATUS,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool | None = None,
        changes: bool | None = None,
        sign: Callable[[], Mapping[str, str]] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries that are safe for this request; ``sign`` builds fresh auth headers
        per attempt (signatures carry timestamps and nonces, so a retry must re-sign).

        ``idempotent``: sending it twice does no harm, so it may be retried after a lost answer.
        ``changes``: it changes something at the vendor (default: any method but GET/HEAD/OPTIONS),
        so a lost answer means the outcome is unknown, never "nothing was changed".

        Returns any HTTP response the vendor sent (including 4xx) for the connector to interpret.
        """
        safe_method = method.upper() in SAFE_METHODS
        if idempotent is None:
            idempotent = safe_method
        if changes is None:
            changes = not safe_method
        if not self.breaker.allow():
            metrics.vendor_request(self.label, url, "breaker_open", None)
            raise self._unavailable("too many recent failures, pausing calls for a moment")
        progress.vendor_call(self.label)
        attempt = 0
        while True:
            attempt += 1
            headers = dict(kwargs.pop("headers", None) or {})
            if sign is not None:
                headers.update(sign())
            try:
                with self._slot() as client, self._measured(url) as answered:
                    response = client.request(method, url, headers=headers, **kwargs)
                    answered(response.status_code)
            except httpx.ConnectError as exc:
                # Not sent: safe to retry for any method.
                self.breaker.failure()
                if attempt <= self.policy.max_retries and not self.breaker.is_open:
                    self._backoff(attempt)
                    kwargs["headers"] = headers
                    continue
                raise self._unavailable("connection refused") from exc
            except httpx.TimeoutException as exc:
                self.breaker.failure()
                if idempotent and attempt <= self.policy.max_retries and not self.breaker.is_open:
                    self._backoff(attempt)
                    kwargs["headers"] = headers
                    continue
                if changes and not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                    raise self._unknown(method, url, "didn't answer in time") from exc
                raise self._unavailable("timed out") from exc
            except httpx.TransportError as exc:
                self.breaker.failure()
                if idempotent and attempt <= self.policy.max_retries and not self.breaker.is_open:
                    self._backoff(attempt)
                    kwargs["headers"] = headers
                    continue
                if changes:
                    raise self._unknown(method, url, "dropped the connection") from exc
                raise self._unavailable("connection dropped") from exc
            status = response.status_code
            retryable = _READ_RETRYABLE_STATUS if idempotent else _RETRYABLE_STATUS
            if status >= 500:
                self.breaker.failure()
            else:
                self.breaker.success()
            if status in retryable and attempt <= self.policy.max_retries and not self.breaker.is_open:
                wait = retry_after_seconds(response, self.policy.max_retry_after)
                log.info("%s answered %s to %s %s; retrying", self.label, status, method, _path(url))
                if wait is None:
                    self._backoff(attempt)
                else:
                    self._sleep(wait + random.uniform(0, 0.1))
                kwargs["headers"] = headers
                continue
            if status >= 500 or status == 429:
                if changes and status not in _RETRYABLE_STATUS:
                    raise self._unknown(method, url, "had an internal error", status=status)
                raise self._unavailable(f"HTTP {status}")
            return response

    def _backoff(self, attempt: int) -> None:
        base = self.policy.backoff_base * (2 ** (attempt - 1))
        self._sleep(random.uniform(0, base) + base / 2)


def _failure_status(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "transport_error"


def _path(url: str) -> str:
    """The path only: query strings can carry signatures and keys, which never reach logs."""
    return url.split("?", 1)[0]
