"""The app factory: settings in, a wired Bolt app (plus its services) out."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from sqlalchemy.engine import Engine

import handlers
from bot.config import ConfigError, Settings, routing_setting
from bot.crypto import SecretBox
from bot.digests.admin import DigestAdmin
from bot.digests.content import DigestBuilder
from bot.digests.poster import Digests, digest_client
from bot.digests.scheduler import start_scheduler
from bot.housekeeping import start_housekeeping
from bot.keycheck import check_stored_keys
from bot.services import Services
from bot.usecases.clock import Clock
from bot.usecases.home import Home
from bot.usecases.leave import Leave
from bot.usecases.people import People
from bot.usecases.whos_off import WhosOff
from bot.vendors.base import Vendor
from bot.vendors.registry import Router, load_vendors
from bot.work import WorkPool
from handlers.render.whos_off import render_digest
from handlers.turn import request_key
from storage.db import make_engine, upgrade
from storage.digests import DigestStore
from storage.queries import Store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything ``timebot run`` starts; ``close()`` stops it in order."""

    settings: Settings
    engine: Engine
    app: App
    services: Services
    client: WebClient
    on_close: list[Callable[[], None]] = field(default_factory=list)
    digests: Digests | None = None  # the exactly-once poster (the scheduler's, the CLI's)

    def close(self) -> None:
        for fn in reversed(self.on_close):
            try:
                fn()
            except Exception:
                log.exception("error while shutting down")


class _WithholdRejectedBodies(logging.Filter):
    """Bolt logs the whole body of a request whose signature fails; a genuine request that was
    merely late (clock skew) could carry what someone typed into the link form (a PIN)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid request signature detected"):
            record.msg, record.args = "Invalid request signature detected (request details withheld)", ()
        return True


logging.getLogger("slack_bolt.RequestVerification").addFilter(_WithholdRejectedBodies())


def slack_client(settings: Settings) -> WebClient:
    """The Web API client every Slack call uses: configurable base URL and 429/5xx retries.

    Over HTTPS, one TLS context for every call, ``respond()`` included (Bolt hands it on):
    without one, urllib builds a fresh context per connection and loads the CA store each time,
    about 20 ms of CPU per Slack call, three calls per clock-in (slack_sdk opens a new connection
    per call). Not over plain HTTP (local stand-ins): there a context only makes urllib build a
    new opener per call."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    tls = ssl.create_default_context() if settings.api_url.lower().startswith("https:") else None
    client = WebClient(token=token, base_url=settings.api_url, timeout=10, ssl=tls)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=2))
    return client


class RecentKeys:
    """Request keys this process has seen lately: a retry or double click reaching the same process
    is dropped in the ack path without touching the database (the durable, cross-process check is
    the claim made on the work pool, see ``handlers.turn.Turn.later``)."""

    def __init__(self, size: int = 20_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return True


def create_app(settings: Settings, *, vendors: Mapping[str, Vendor] | None = None,
               clock: Callable[[], float] = time.time, migrate: bool = True, env_file: str | None = ".env") -> Runtime:
    settings.require_secret_key()
    assert settings.secret_key is not None
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    store = Store(engine)
    box = SecretBox(settings.secret_key.get_secret_value(), settings.old_keys)
    try:
        check_stored_keys(store, box)
    except ConfigError:
        engine.dispose()
        raise
    client = slack_client(settings)
    configured = dict(vendors) if vendors is not None else load_vendors(settings.http_policy, env_file)
    for action, name in settings.routing.items():
        if name not in configured:
            raise ConfigError(
                f"{routing_setting(action)}={name}, but {name} is not configured: "
                f"set its {name.upper()}_* settings or choose another vendor."
            )
    router = Router(configured, settings.routing)
    people = People(settings, store, router, box, client, clock=clock)
    clock_cases = Clock(people, store, router)
    whos_off = WhosOff(people, store, router)
    pool = WorkPool(settings.workers, settings.slow_notice_seconds, settings.ack_first_seconds)
    services = Services(settings, store, pool, router, people, clock_cases, Leave(people, router), whos_off,
                        Home(people, clock_cases, store, router))

    app = App(
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
        client=client,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=True,  # handlers.errors answers those with a 200
        listener_executor=ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="bolt"),
    )

    recent = RecentKeys()

    @app.middleware
    def drop_repeats(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:
        key = request_key(body)
        if key is not None and not recent.first_time(key):
            log.info("ignored a repeated delivery (%s)", key.split(":", 1)[0])
            return BoltResponse(status=200, body="")
        with pool.acks.acking():
            return next()

    handlers.register(app, services)
    runtime = Runtime(settings, engine, app, services, client)
    runtime.on_close.append(engine.dispose)
    runtime.on_close.append(router.close)
    runtime.on_close.append(lambda: pool.shutdown(wait=True))
    runtime.digests = _install_digests(runtime)
    if settings.scheduler_enabled:
        start_housekeeping(store, runtime.on_close)
    return runtime


def _install_digests(runtime: Runtime) -> Digests:
    """Daily digests: ``/timebot digest`` (through ``services.digests``), and the scheduler when
    ``TIMEBOT_SCHEDULER`` is on (stopped first on close, before the engine and vendors)."""
    services = runtime.services
    builder = DigestBuilder(services.whos_off, render_digest, runtime.settings.show_leave_kind)
    digests = Digests(builder, DigestStore(runtime.engine), services.people, services.router,
                      digest_client(runtime.client), default_tz=runtime.settings.default_tz)
    services.digests = DigestAdmin(digests, services.people)
    if runtime.settings.scheduler_enabled:
        start_scheduler(digests, runtime.on_close)
    return digests
