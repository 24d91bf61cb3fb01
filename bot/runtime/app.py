"""The app factory: settings in, a wired Bolt app (plus its services) out."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
from bot.domain import QuietHours
from bot.jobs import away_status as away_status_jobs
from bot.jobs import digests as digest_jobs
from bot.jobs import followup as followup_jobs
from bot.jobs import housekeeping
from bot.jobs import hygiene as hygiene_jobs
from bot.jobs import intake as intake_jobs
from bot.jobs.scheduler import Scheduler, run_jobs
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
from bot.usecases import typed_leave
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
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Runtime:
    """Everything ``timebot run`` starts, built in one call; ``close()`` stops it in order."""

    settings: Settings
    engine: Engine
    app: App
    services: Services
    client: WebClient
    gate: WorkspaceGate  # which workspaces' requests are served
    directory: Directory  # the Slack directory read into person rows
    digests: Digests  # the exactly-once poster (the scheduler's, the CLI's)
    away_status: AwayStatus
    webhooks: dict[str, Webhook]  # HTTP mode: path -> verified handler
    calendar: CalendarRoutes  # GET /calendar/<token>.ics, served beside them
    # The consent routes bot/runtime/web.py serves; None: not set up (no TIMEBOT_PUBLIC_URL or
    # OAuth client credentials).
    away_status_oauth: OAuthFlow | None
    scheduler: Scheduler | None  # the process's one scheduler; None: TIMEBOT_SCHEDULER is off
    on_close: list[Callable[[], None]]

    def close(self) -> None:
        _close(self.on_close)


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
    started later, the takeovers recovery submits at once would hold the start-up, and the acks;
    and load what the ack path would otherwise load on first use. One-shot commands skip both."""
    settings.require_secret_key()
    assert settings.secret_key is not None
    if settings.ops_metrics:
        metrics.enable()
    engine = make_engine(settings.database_url)
    on_close: list[Callable[[], None]] = [engine.dispose]
    try:
        return _build(
            settings,
            engine,
            on_close,
            vendors=vendors,
            clock=clock,
            migrate=migrate,
            env_file=env_file,
            prestart=prestart,
        )
    except BaseException:
        _close(on_close)  # what was started so far: the engine, the vendors' clients, the pool
        raise


def _build(
    settings: Settings,
    engine: Engine,
    on_close: list[Callable[[], None]],
    *,
    vendors: Mapping[str, Vendor] | None,
    clock: Callable[[], float],
    migrate: bool,
    env_file: str | None,
    prestart: bool,
) -> Runtime:
    """Everything in dependency order, each part built whole; what must be stopped goes on
    ``on_close`` as soon as it exists (stopped in reverse)."""
    assert settings.secret_key is not None
    if migrate:
        upgrade(engine)
    store = Store(engine)
    box = SecretBox(settings.secret_key.get_secret_value(), settings.old_keys)
    check_stored_keys(store, box)
    away_options = _away_status_options(settings)
    client = slack_client(settings)
    configured = dict(vendors) if vendors is not None else load_vendors(settings.http_policy, env_file)
    for action, name in settings.routing.items():
        if name not in configured:
            raise ConfigError(
                f"{routing_setting(action)}={name}, but {name} is not configured: "
                f"set its {name.upper()}_* settings or choose another vendor."
            )
    router = Router(configured, settings.routing)
    on_close.append(router.close)
    pool = WorkPool(settings.workers, settings.slow_notice_seconds, settings.ack_first_seconds)
    intake = Intake(
        IntakeStore(engine),
        takeover=settings.takeover_seconds,
        resume_within=settings.resume_within_minutes * 60,
        settle=settings.http_connect_timeout + settings.http_read_timeout,
    )
    on_close.append(intake.close)  # after the pool finished its jobs: hands back what is left
    on_close.append(lambda: pool.shutdown(wait=True))
    if prestart:  # a serving process: ready before its first request
        pool.prestart()
        typed_leave.warm_up()  # dateparser's language data now, not on the first /timeoff's ack path

    people = People(settings, store, router, box, SlackClient(client), clock=clock)
    clock_cases = _clock(people, store, router, intake)
    whos_off = WhosOff(people, store, router)
    directory = Directory(store, people.slack)
    whos_off.meet = directory.meet
    leave = Leave(people, router)
    whos_in = WhosIn(people, store, router, whos_off)
    morning = MorningView(
        people, store, router, whos_in, whos_off, show_kind=settings.show_leave_kind, sick=settings.sick_leave
    )
    hygiene = ClockHygiene(
        people,
        store,
        HygieneStore(engine),
        router,
        clock_cases,
        hygiene_policy(settings),
        hygiene_render.Render(),
        SlackClient(client).posting_once(),
        idle=pool.wait_idle,
    )
    digests = Digests(
        DigestBuilder(whos_off, render_digest, settings.show_leave_kind, settings.sick_leave),
        DigestStore(engine),
        people,
        router,
        SlackClient(client).posting_once(),
        default_tz=settings.default_tz,
    )
    followup = _followup(settings, engine, people, whos_off, leave)
    away_status = AwayStatus(people, AwayStatusStore(engine), router, box, people.slack, away_options)
    followup.leave_gone.append(away_status.leave_changed)  # a cancelled or refused leave: the status back at once
    away_status_oauth = away_status_oauth_flow(settings, away_status, pool.submit)
    calendars = Calendars(
        people,
        whos_off,
        CalendarStore(engine),
        settings.secret_key.get_secret_value().encode(),
        settings.public_url,
        show_kind=settings.show_leave_kind,
        sick=settings.sick_leave,
    )
    services = Services(
        settings=settings,
        store=store,
        pool=pool,
        router=router,
        intake=intake,
        people=people,
        clock=clock_cases,
        leave=leave,
        whos_off=whos_off,
        home=Home(people, clock_cases, store, router),
        hours=Hours(people, router),
        whos_in=whos_in,
        morning=morning,
        hygiene=hygiene,
        followup=followup,
        away_status=away_status,
        away_status_connect_url=(
            settings.public_url + START_PATH if away_status_oauth is not None and settings.public_url else None
        ),
        away_status_missing=tuple(missing_settings(settings)),
        calendars=calendars,
        reports=Reports(
            people,
            store,
            router,
            whos_off,
            morning,
            approvers=followup._configured_approvers,
            sick=settings.sick_leave,
        ),
        digests=DigestAdmin(digests, people),
    )

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
    handlers.register(app, services, client)

    scheduler = None
    if settings.scheduler_enabled:
        scheduler = run_jobs(
            lambda scheduler: (
                *housekeeping.jobs(store, directory.refresh),
                *intake_jobs.jobs(intake, pool.submit),
                *hygiene_jobs.jobs(hygiene, every=timedelta(seconds=settings.hygiene_check_seconds)),
                *digest_jobs.jobs(digests, scheduler),
                *followup_jobs.jobs(followup, settings.leave_poll_seconds),
                *away_status_jobs.jobs(away_status),
            )
        )
        on_close.append(scheduler.shutdown)  # first on close: no job runs on a closed pool or engine
    return Runtime(
        settings=settings,
        engine=engine,
        app=app,
        services=services,
        client=client,
        gate=gate,
        directory=directory,
        digests=digests,
        away_status=away_status,
        webhooks=_webhooks(settings, router, followup),
        calendar=CalendarRoutes(calendars),
        away_status_oauth=away_status_oauth,
        scheduler=scheduler,
        on_close=on_close,
    )


def _close(on_close: list[Callable[[], None]]) -> None:
    for fn in reversed(on_close):
        try:
            fn()
        except Exception:
            log.exception("error while shutting down")


def _clock(people: People, store: Store, router: Router, intake: Intake) -> Clock:
    """Clock in and out, on the durable intake: the per-person clock lease lapses with the takeover
    window and is renewed by the intake's heartbeat."""
    clock = Clock(people, store, router)
    clock.lease_ttl = timedelta(seconds=intake.stale_after)  # a dead holder's lease lapses with its work
    clock.waiting_note = lambda actor: intake.waiting_note(actor.team_id, actor.user_id, actor.tz)
    intake.renewers.append(clock.renew_leases)
    return clock


def hygiene_policy(settings: Settings) -> HygienePolicy:
    auto = settings.auto_clockout_hours
    return HygienePolicy(
        remind_after=timedelta(hours=settings.clockout_reminder_hours),
        quiet=QuietHours.parse(settings.quiet_hours),
        auto_after=timedelta(hours=auto) if auto else None,
        sweep_every=timedelta(minutes=settings.session_sweep_minutes),
    )


def _followup(settings: Settings, engine: Engine, people: People, whos_off: WhosOff, leave: Leave) -> LeaveFollowup:
    """Leave follow-up, hooked after each request."""
    followup = LeaveFollowup(
        people,
        whos_off,
        FollowupStore(engine),
        LeaveRender(),
        FollowupSettings(
            settings.leave_approvers, settings.approval_remind_hours, settings.leave_backdate_days, settings.sick_leave
        ),
    )
    leave.after.append(followup.requested)
    return followup


def _webhooks(settings: Settings, router: Router, followup: LeaveFollowup) -> dict[str, Webhook]:
    """HTTP mode's verified webhook routes: WhosOff's when its secret is set."""
    secret = settings.whosoff_webhook_secret.get_secret_value() if settings.whosoff_webhook_secret else ""
    if secret and "whosoff" in router.vendors:
        return {"/webhooks/whosoff": whosoff_webhook(followup, secret, settings.whosoff_webhook_header)}
    return {}


def _away_status_options(settings: Settings) -> AwayStatusOptions:
    try:
        return AwayStatusOptions.parse(
            settings.away_statuses,
            show_kind=settings.show_leave_kind,
            dnd=settings.leave_dnd,
            poll_seconds=settings.away_status_poll_seconds,
            sick=settings.sick_leave,
        )
    except ValueError as exc:
        raise ConfigError(f"TIMEBOT_LEAVE_STATUSES: {exc}; e.g. sick=:face_with_thermometer: Out sick") from None
