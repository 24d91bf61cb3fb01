"""``timebot run``: the bot, in Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode on ``--port``.

Settings, the database and the Slack tokens are checked before anything starts, so each problem is
one line; then it serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings

if TYPE_CHECKING:
    from bot.runtime.app import Runtime
    from bot.runtime.health import OpsRoutes

log = logging.getLogger("timebot")


def _summary(runtime: Runtime, mode: str, team: str) -> None:
    """What an operator wants to see once: where it runs and which vendor serves what."""
    from bot.domain import Action

    router = runtime.services.router
    served = ", ".join(f"{action.phrase} → {v.label}" for action in Action if (v := router.maybe(action)))
    log.info("Timebot is running in %s for %s; %s", mode, team or "this workspace", served or "no vendor configured")
    if not served:  # as `check` says it: the bot runs, and every command answers that nothing is set up
        log.warning("no vendor is configured: every command will say so (`timebot check` names the settings)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_slack()
    from bot.runtime.app import create_app, slack_client
    from bot.slack.setup import verify_app_token, verify_bot_token
    from bot.vendors.registry import load_vendors
    from storage.db import make_engine, upgrade

    # Settings first (a vendor half set up stops here, before Slack is asked anything), then the
    # tokens: a refused token is one line, before any scheduler has started and logged.
    settings.require_secret_key()
    vendors = load_vendors(settings.http_policy, args.env_file)
    try:
        engine = make_engine(settings.database_url)  # an unusable database is said before Slack is asked
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        identity = verify_bot_token(slack_client(settings), settings)
        if settings.slack_app_token is not None:
            verify_app_token(settings)
    except BaseException:
        for vendor in vendors.values():
            vendor.close()
        raise
    # migrated above; the workers start before recovery can hand them a takeover
    runtime = create_app(settings, vendors=vendors, env_file=args.env_file, migrate=False, prestart=True)
    stop = threading.Event()
    terminated: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: terminated.append(signum))
    try:
        if runtime.gate is not None:  # the workspace served is known before the first request
            runtime.gate.know(vars(identity))
        if runtime.directory is not None:
            runtime.directory.refresh_in_background(runtime.services.pool.submit)
        team = f"{identity.team} as @{identity.user}" if identity.team else ""
        if settings.slack_app_token is not None:
            from bot.runtime.socket_mode import SocketModeRunner

            # Envelopes are handled by as many threads as HTTP mode serves requests with.
            runner = SocketModeRunner(
                runtime.app,
                settings.slack_app_token.get_secret_value(),
                connections=settings.socket_connections,
                workers=settings.http_threads,
                on_fatal=stop.set,
            )
            runtime.on_close.append(runner.close)
            runner.start()
            # browser routes beside Socket Mode: the status consent, the calendar feeds (with a public
            # URL) and /metrics, with /healthz and /readyz
            if runtime.away_status_oauth is not None or settings.ops_metrics or settings.public_url:
                from bot.runtime.web import HttpServer, OAuthRoutes

                routes = HttpServer(
                    OAuthRoutes(runtime.away_status_oauth, runtime.engine, _ops(runtime), runtime.calendar),
                    args.host,
                    args.port,
                    settings.http_threads,
                ).start()
                runtime.on_close.append(routes.stop)
                what = "OAuth routes" if runtime.away_status_oauth is not None else "ops routes"
                log.info("Timebot serves its %s on http://%s:%s", what, args.host, routes.port)
            _summary(runtime, f"Socket Mode ({settings.socket_connections} connections)", team)
            _wait_for_stop(stop, terminated)
            if runner.fatal:
                print(f"timebot: {runner.fatal}", file=sys.stderr)
                return 2
        else:
            from bot.runtime.web import HttpServer, SlackWsgi

            secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
            try:
                server = HttpServer(
                    SlackWsgi(
                        runtime.app,
                        runtime.engine,
                        signing_secret=secret,
                        webhooks=runtime.webhooks,
                        oauth=runtime.away_status_oauth,
                        ops=_ops(runtime),
                        calendar=runtime.calendar,
                    ),
                    args.host,
                    args.port,
                    settings.http_threads,
                ).start()
            except OSError as exc:
                raise ConfigError(
                    f"can't listen on {args.host}:{args.port} ({exc.strerror or exc}): the port is "
                    "probably in use; stop what is using it or pick another with --port."
                ) from None
            runtime.on_close.append(server.stop)
            _summary(runtime, f"HTTP mode on http://{args.host}:{server.port}/slack/events", team)
            _wait_for_stop(stop, terminated)
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()
    return 0


def _ops(runtime: Runtime) -> OpsRoutes:
    """/healthz, /readyz (the database, auth.test, the migrations) and /metrics of this process."""
    from slack_sdk import WebClient

    from bot.runtime.health import OpsRoutes, Readiness, SlackAuth

    # its own client: no retries and a short timeout, so a probe answers within its own timeout
    client = runtime.client
    probe = WebClient(token=client.token, base_url=client.base_url, timeout=5, ssl=client.ssl, retry_handlers=[])
    return OpsRoutes(Readiness(runtime.engine, SlackAuth(probe, runtime.settings.ops_readyz_slack_seconds)))


def _wait_for_stop(stop: threading.Event, terminated: list[int]) -> None:
    """Until SIGTERM (``terminated``) or a fatal error elsewhere (``stop``). Linux may hand the signal
    to any thread, and a main thread blocked in ``Event.wait()`` without a timeout then never runs
    Python's handler; a handler calling ``stop.set()`` could also deadlock on the lock ``wait`` holds.
    So the handler only appends (no lock) and this looks four times a second."""
    while not terminated and not stop.wait(0.25):
        pass
