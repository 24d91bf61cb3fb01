"""The app factory: settings in, a wired Bolt app (plus its services) out."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.oauth import OAuthFlow
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from sqlalchemy.engine import Engine

import handlers
from bot.config import ConfigError, Settings, routing_setting
from bot.crypto import SecretBox
from bot.digests.admin import DigestAdmin
from bot.digests.content import DigestBuilder
from bot.digests.poster import Digests
from bot.digests.scheduler import start_scheduler
from bot.domain import QuietHours
from bot.jobs.away_status import start_away_status_job
from bot.jobs.followup import start_followup_scheduler
from bot.jobs.housekeeping import KEEP_REQUEST_KEYS, start_housekeeping
from bot.jobs.hygiene import start_reminders
from bot.runtime.calendar_http import CalendarRoutes
from bot.runtime.intake import Intake
from bot.runtime.keycheck import check_stored_keys
from bot.runtime.observe import ObservedApp
from bot.runtime.services import Services
from bot.runtime.webhooks import Webhook, whosoff_webhook
from bot.runtime.work import WorkPool
from bot.slack.bolt import FOREIGN_WORKSPACE, WorkspaceGate, hidden_slack_environment
from bot.slack.client import SlackClient
from bot.slack.oauth import START_PATH, away_status_oauth_flow, missing_settings
from bot.telemetry import metrics
from bot.telemetry.logs import ContextThreadPool
from bot.usecases.away_status import AwayStatus, AwayStatusOptions
from bot.usecases.calendar import Calendars
from bot.usecases.clock import Clock
from bot.usecases.directory import Directory
from bot.usecases.followup import FollowupSettings, LeaveFollowup
from bot.usecases.home import Home
from bot.usecases.hours import Hours
from bot.usecases.hygiene import ClockHygiene, HygienePolicy
from bot.usecases.leave import Leave
from bot.usecases.morning import MorningView
from bot.usecases.people import People
from bot.usecases.reports import Reports
from bot.usecases.whos_in import WhosIn
from bot.usecases.whos_off import WhosOff
from bot.vendors.base import Vendor
from bot.vendors.registry import Router, load_vendors
from handlers.render import hygiene as hygiene_render
from handlers.render.leave import LeaveRender
from handlers.render.whos_off import render_digest
from handlers.turn import request_key
from storage.away_status import AwayStatusStore
from storage.calendar import CalendarStore
from storage.db import make_engine, upgrade
from storage.digests import DigestStore
from storage.followup import FollowupStore
from storage.hygiene import HygieneStore
from storage.intake import IntakeStore
from storage.models import utcnow
from storage.store import Store

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
    directory: Directory | None = None  # the Slack directory read into person rows
    digests: Digests | None = None  # the exactly-once poster (the scheduler's, the CLI's)
    webhooks: dict[str, Webhook] = field(default_factory=dict)  # HTTP mode: path -> verified handler
    away_status: AwayStatus | None = None
    away_status_oauth: OAuthFlow | None = None  # the consent routes bot/runtime/web.py serves; None: not set up
    gate: WorkspaceGate | None = None  # which workspaces' requests are served
    calendar: CalendarRoutes | None = None  # GET /calendar/<token>.ics, served beside them

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


def slack_client(settings: Settings, *, with_token: bool = True) -> WebClient:
    """The Web API client every Slack call uses: configurable base URL and 429/5xx retries.

    Over HTTPS, one TLS context for every call, ``respond()`` included (Bolt hands it on):
    without one, urllib builds a fresh context per connection and loads the CA store each time,
    about 20 ms of CPU per Slack call, three calls per clock-in (slack_sdk opens a new connection
    per call). Not over plain HTTP (local stand-ins): there a context only makes urllib build a
    new opener per call."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token and with_token else None
    tls = ssl.create_default_context() if settings.api_url.lower().startswith("https:") else None
    client = WebClient(token=token, base_url=settings.api_url, timeout=10, ssl=tls)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=2))
    return metrics.count_rate_limits(client)


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


class DropRepeats(Middleware):
    """First of the app's middleware: a repeat this process has seen gets a bare 200 without touching
    the database, and every other request counts as an ack in progress (vendor work waits for acks)."""

    def __init__(self, pool: WorkPool) -> None:
        self.pool = pool
        self.recent = RecentKeys()

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        key = request_key(req.body)
        if key is not None and not self.recent.first_time(key):
            log.info("ignored a repeated delivery (%s)", key.split(":", 1)[0])
            return BoltResponse(status=200, body="")
        with self.pool.acks.acking():
            return next()


def create_app(
    settings: Settings,
    *,
    vendors: Mapping[str, Vendor] | None = None,
    clock: Callable[[], float] = time.time,
    migrate: bool = True,
    env_file: str | None = ".env",
    prestart: bool = False,
) -> Runtime:
    """``prestart``: start every worker thread before anything can submit work (``timebot run``):
    started later, the takeovers recovery submits at once would hold the start-up, and the acks."""
    settings.require_secret_key()
    assert settings.secret_key is not None
    if settings.ops_metrics:
        metrics.enable()
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
    people = People(settings, store, router, box, SlackClient(client), clock=clock)
    clock_cases = Clock(people, store, router)
    whos_off = WhosOff(people, store, router)
    directory = Directory(store, people.slack)
    whos_off.meet = directory.meet
    pool = WorkPool(settings.workers, settings.slow_notice_seconds, settings.ack_first_seconds)
    if prestart:
        pool.prestart()
    services = Services(
        settings,
        store,
        pool,
        router,
        people,
        clock_cases,
        Leave(people, router),
        whos_off,
        Home(people, clock_cases, store, router),
    )
    intake = _install_intake(services, engine)

    gate = WorkspaceGate(client, settings.allowed_team_ids)
    with hidden_slack_environment():  # Bolt takes only what is passed here (see bot/slack/bolt.py)
        app = ObservedApp(  # the action id for the logs, the ack time for metrics
            request_key=request_key,
            signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else "",
            # no token of its own: each request's client gets the bot token from the gate, and a
            # token here beside `authorize` only earns a warning that it is ignored
            client=slack_client(settings, with_token=False),
            authorize=gate,
            user_facing_authorize_error_message=FOREIGN_WORKSPACE,
            raise_error_for_unhandled_request=True,  # handlers.errors answers those with a 200
            listener_executor=ContextThreadPool(max_workers=settings.listener_threads, thread_name_prefix="bolt"),
        )

    app.use(DropRepeats(pool))

    _install_hygiene(services, engine, client)
    handlers.register(app, services, client)
    runtime = Runtime(settings, engine, app, services, client, gate=gate, directory=directory)
    runtime.on_close.append(engine.dispose)
    runtime.on_close.append(router.close)
    runtime.on_close.append(intake.close)  # after the pool finished its jobs: hands back what is left
    runtime.on_close.append(lambda: pool.shutdown(wait=True))
    runtime.digests = _install_digests(runtime)
    followup = _install_followup(runtime)
    _install_away_status(runtime, box)
    _install_calendar(runtime)
    services.reports = Reports(
        services.people,
        store,
        router,
        whos_off,
        services.morning,  # type: ignore[arg-type]
        approvers=followup._configured_approvers,
        sick=settings.sick_leave,
    )
    if runtime.away_status is not None:  # a cancelled or refused leave puts the Slack status back at once
        followup.leave_gone.append(runtime.away_status.leave_changed)
    if settings.scheduler_enabled:
        start_housekeeping(
            store,
            runtime.on_close,
            refresh=directory.refresh,
            also=[
                ("intake:recover", lambda: intake.recover(pool.submit), intake.recover_every),
                ("intake:forget", lambda: intake.store.forget_done_before(utcnow() - KEEP_REQUEST_KEYS), 3600.0),
            ],
        )
        start_reminders(services.hygiene, runtime.on_close, every=timedelta(seconds=settings.hygiene_check_seconds))
    return runtime


def _install_intake(services: Services, engine: Engine) -> Intake:
    """The durable intake (bot/runtime/intake.py): accepted actions in the database, heartbeats, takeover.
    The per-person clock lease lapses with the takeover window and is renewed by the heartbeat."""
    settings = services.settings
    intake = Intake(
        IntakeStore(engine), takeover=settings.takeover_seconds, resume_within=settings.resume_within_minutes * 60
    )
    services.intake = intake
    clock = services.clock
    clock.lease_ttl = timedelta(seconds=intake.stale_after)  # a dead holder's lease lapses with its work
    clock.waiting_note = lambda actor: intake.waiting_note(actor.team_id, actor.user_id, actor.tz)
    intake.renewers.append(clock.renew_leases)
    return intake


def hygiene_policy(settings: Settings) -> HygienePolicy:
    auto = settings.auto_clockout_hours
    return HygienePolicy(
        remind_after=timedelta(hours=settings.clockout_reminder_hours),
        quiet=QuietHours.parse(settings.quiet_hours),
        auto_after=timedelta(hours=auto) if auto else None,
        sweep_every=timedelta(minutes=settings.session_sweep_minutes),
    )


def _install_hygiene(services: Services, engine: Engine, client: WebClient) -> None:
    """Hours worked, who's in now, and the forgotten clock-out/clock-in reminders."""
    services.hours = Hours(services.people, services.router)
    services.whos_in = WhosIn(services.people, services.store, services.router, services.whos_off)
    settings = services.settings
    services.morning = MorningView(
        services.people,
        services.store,
        services.router,
        services.whos_in,
        services.whos_off,
        show_kind=settings.show_leave_kind,
        sick=settings.sick_leave,
    )
    services.hygiene = ClockHygiene(
        services.people,
        services.store,
        HygieneStore(engine),
        services.router,
        services.clock,
        hygiene_policy(services.settings),
        hygiene_render.Render(),
        SlackClient(client).posting_once(),
        idle=services.pool.wait_idle,
    )


def _install_digests(runtime: Runtime) -> Digests:
    """Daily digests: ``/timebot digest`` (through ``services.digests``), and the scheduler when
    ``TIMEBOT_SCHEDULER`` is on (stopped first on close, before the engine and vendors)."""
    services = runtime.services
    builder = DigestBuilder(
        services.whos_off, render_digest, runtime.settings.show_leave_kind, runtime.settings.sick_leave
    )
    digests = Digests(
        builder,
        DigestStore(runtime.engine),
        services.people,
        services.router,
        SlackClient(runtime.client).posting_once(),
        default_tz=runtime.settings.default_tz,
    )
    services.digests = DigestAdmin(digests, services.people)
    if runtime.settings.scheduler_enabled:
        start_scheduler(digests, runtime.on_close)
    return digests


def _install_followup(runtime: Runtime) -> LeaveFollowup:
    """Leave follow-up: hooked after each request, the status poll and reminders on the scheduler,
    and WhosOff's webhook route when its secret is set."""
    services, settings = runtime.services, runtime.settings
    followup = LeaveFollowup(
        services.people,
        services.whos_off,
        FollowupStore(runtime.engine),
        LeaveRender(),
        FollowupSettings(
            settings.leave_approvers, settings.approval_remind_hours, settings.leave_backdate_days, settings.sick_leave
        ),
    )
    services.followup = followup
    services.leave.after.append(followup.requested)
    secret = settings.whosoff_webhook_secret.get_secret_value() if settings.whosoff_webhook_secret else ""
    if secret and "whosoff" in services.router.vendors:
        runtime.webhooks["/webhooks/whosoff"] = whosoff_webhook(followup, secret, settings.whosoff_webhook_header)
    if settings.scheduler_enabled:
        start_followup_scheduler(followup, settings.leave_poll_seconds, runtime.on_close)
    return followup


def _install_away_status(runtime: Runtime, box: SecretBox) -> None:
    """Leave in the Slack status: the use case, the consent routes (when TIMEBOT_PUBLIC_URL and the
    client credentials are set) and, with ``TIMEBOT_SCHEDULER``, the job that sets and restores."""
    settings, services = runtime.settings, runtime.services
    try:
        options = AwayStatusOptions.parse(
            settings.away_statuses,
            show_kind=settings.show_leave_kind,
            dnd=settings.leave_dnd,
            poll_seconds=settings.away_status_poll_seconds,
            sick=settings.sick_leave,
        )
    except ValueError as exc:
        runtime.close()
        raise ConfigError(f"TIMEBOT_LEAVE_STATUSES: {exc}; e.g. sick=:face_with_thermometer: Out sick") from None
    away_status = AwayStatus(
        services.people, AwayStatusStore(runtime.engine), services.router, box, services.people.slack, options
    )
    runtime.away_status = services.away_status = away_status
    runtime.away_status_oauth = away_status_oauth_flow(settings, away_status, services.pool.submit)
    services.away_status_missing = tuple(missing_settings(settings))
    if runtime.away_status_oauth is not None and settings.public_url:
        services.away_status_connect_url = settings.public_url + START_PATH
    if settings.scheduler_enabled:
        start_away_status_job(away_status, runtime.on_close)


def _install_calendar(runtime: Runtime) -> None:
    """Calendar feeds: ``/timebot calendar`` (through ``services.calendars``) and their route."""
    services, settings = runtime.services, runtime.settings
    assert settings.secret_key is not None
    services.calendars = Calendars(
        services.people,
        services.whos_off,
        CalendarStore(runtime.engine),
        settings.secret_key.get_secret_value().encode(),
        settings.public_url,
        show_kind=settings.show_leave_kind,
        sick=settings.sick_leave,
    )
    runtime.calendar = CalendarRoutes(services.calendars)
