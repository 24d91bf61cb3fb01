"""``timebot``: run the bot, migrate, start a sandbox vendor, manage keys.

A configuration problem ends the command with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from bot.cli import digest as digest_cli
from bot.config import ConfigError, Settings, load_settings, routing_setting
from bot.telemetry import logs
from bot.vendors.registry import VENDOR_MODULES
from storage.db import DatabaseUnusable

if TYPE_CHECKING:
    from bot.errors import VendorError
    from bot.runtime.app import Runtime
    from bot.runtime.health import OpsRoutes
    from bot.vendors.base import VendorSpec

log = logging.getLogger("timebot")

COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {}


def command(name: str) -> Callable[[Callable[[argparse.Namespace, Settings], int]], Callable[..., int]]:
    def deco(fn: Callable[[argparse.Namespace, Settings], int]) -> Callable[..., int]:
        COMMANDS[name] = fn
        return fn

    return deco


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timebot", description="Clock in, request leave and see who's off, from Slack."
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="cmd", required=True)

    run = sub.add_parser("run", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)")
    run.add_argument("--port", type=int, default=3000)
    run.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server listens on all interfaces

    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "current"])

    sandbox = sub.add_parser("sandbox", help="run a local simulator of a vendor to try the bot")
    sandbox.add_argument("vendor", choices=VENDOR_MODULES)
    sandbox.add_argument("--port", type=int, required=True)

    console = sub.add_parser(
        "console",
        help="try Timebot here: the real bot, a stand-in Slack and a vendor "
        "sandbox with demo data; type slash commands",
    )
    console.add_argument("--vendor", choices=VENDOR_MODULES, default="timeclock")
    console.add_argument("--as", dest="person", default="ada", help="demo person (ada, grace, alan, katherine, linus)")

    keys = sub.add_parser("keys", help="encryption keys for stored vendor credentials")
    keys.add_argument("action", choices=["generate", "rotate"])

    sub.add_parser("check", help="check the Slack token and scopes, then each configured vendor (one read call)")

    manifest = sub.add_parser("manifest", help="print the Slack app manifest (Socket Mode, or HTTP mode with --http)")
    manifest.add_argument(
        "--http",
        metavar="URL",
        default=None,
        help="the bot's public base URL, e.g. https://bot.example.com: every request URL filled in",
    )

    users = sub.add_parser("users", help="match Slack users to vendor users by email")
    users.add_argument("action", choices=["sync", "unmatched"])
    users.add_argument("--team", default=None, help="Slack team id (default: the bot's own)")

    reminders = sub.add_parser("reminders", help="forgotten clock-out/clock-in reminders: run one check now")
    reminders.add_argument("action", choices=["check"])

    leave = sub.add_parser("leave", help="leave follow-up: one status poll, or the approvers' reminder, now")
    leave.add_argument("action", choices=["poll", "remind"])

    report = sub.add_parser("report", help="print a team report as CSV (the same as /timebot report)")
    report.add_argument("kind", choices=["hours", "absence"])
    report.add_argument("period", nargs="+", help="this month, last month, 2026-11, week, last week or A..B")
    report.add_argument(
        "--scope",
        default="everyone",
        help="everyone (default), a channel id (C0123…: its members), @group or dept=NAME",
    )
    report.add_argument("--team", default=None, help="Slack team id (default: the bot's own)")

    digest_cli.add_parser(sub)
    return parser


def _no_slack_debug(record: logging.LogRecord) -> bool:
    """Slack's libraries log whole payloads at DEBUG (a PIN typed into the link form, response_urls,
    the Socket Mode URL), and Bolt sets its loggers' levels itself: --log-level DEBUG is for
    Timebot's own loggers only."""
    return record.levelno >= logging.INFO or not record.name.startswith(("slack_bolt", "slack_sdk"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every full URL at INFO; some vendors sign in the query string, so keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin, every start
    # APScheduler says "Added job …" and "Running job …" at INFO: dozens of lines a start, more each minute
    if args.log_level.upper() == "INFO":
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_no_slack_debug)
    try:
        if args.cmd == "sandbox":
            return _sandbox(args)
        if args.cmd == "manifest":
            return _manifest(args)
        if args.cmd == "console":  # needs no settings: it makes its own
            from sandbox.console import run_console

            return run_console(args.vendor, args.person)
        if args.cmd == "keys" and args.action == "generate":
            from bot.crypto import SecretBox

            print(SecretBox.generate_key())
            return 0
        settings = load_settings(args.env_file)
        logs.use_format(settings.ops_log_format)
        return COMMANDS[args.cmd](args, settings)
    except ConfigError as exc:
        print(f"timebot: {exc}", file=sys.stderr)
        return 2
    except (ArgumentError, NoSuchModuleError) as exc:
        print(
            f"timebot: DATABASE_URL is invalid ({_first_line(exc)}): use sqlite:///timebot.db or "
            "postgresql+psycopg://user:password@host/dbname.",
            file=sys.stderr,
        )
        return 2
    except OperationalError as exc:
        print(f"timebot: can't use the database at DATABASE_URL: {_first_line(exc.orig or exc)}.", file=sys.stderr)
        return 2
    except DatabaseUnusable as exc:
        print(f"timebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")


def _sandbox(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"sandbox.{args.vendor}")
    # the port is tried before the banner: a busy one is a line, not a banner and a traceback
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", args.port))
        except OSError as exc:
            raise ConfigError(
                f"can't listen on port {args.port} ({exc.strerror or exc}): pick another with --port."
            ) from None
    try:
        module.serve(args.port)
    except OSError as exc:  # taken between the check and the start
        raise ConfigError(
            f"can't listen on port {args.port} ({exc.strerror or exc}): pick another with --port."
        ) from None
    except KeyboardInterrupt:
        return 0
    return 0


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _manifest(args: argparse.Namespace) -> int:
    from bot.slack.setup import dump_manifest, http_manifest, load_manifest

    if args.http is None:
        print(dump_manifest(load_manifest()), end="")
        return 0
    target = urlsplit(args.http)
    if target.scheme not in ("https", "http") or not target.hostname:
        raise ConfigError(f"--http {args.http}: give the bot's public base URL, like https://bot.example.com.")
    if target.scheme == "http" and target.hostname not in LOCAL_HOSTS:
        # Slack sends requests and OAuth redirects to https only; plain http is for a bot on this machine
        raise ConfigError(
            f"--http {args.http}: Slack only calls https URLs. Use https://{target.netloc}"
            f"{target.path} (plain http works for localhost only)."
        )
    print(dump_manifest(http_manifest(args.http)), end="")
    return 0


def _summary(runtime: Runtime, mode: str, team: str) -> None:
    """What an operator wants to see once: where it runs and which vendor serves what."""
    from bot.domain import Action

    router = runtime.services.router
    served = ", ".join(f"{action.phrase} → {v.label}" for action in Action if (v := router.maybe(action)))
    log.info("Timebot is running in %s for %s; %s", mode, team or "this workspace", served or "no vendor configured")
    if not served:  # as `check` says it: the bot runs, and every command answers that nothing is set up
        log.warning("no vendor is configured: every command will say so (`timebot check` names the settings)")


@contextmanager
def _one_shot(args: argparse.Namespace, settings: Settings) -> Iterator[Runtime]:
    """The bot without its scheduler, for one pass of a scheduled job run from the command line."""
    from bot.runtime.app import create_app

    runtime = create_app(settings.model_copy(update={"scheduler_enabled": False}), env_file=args.env_file)
    try:
        yield runtime
    finally:
        runtime.close()


@command("reminders")
def _reminders(args: argparse.Namespace, settings: Settings) -> int:
    """One clock-hygiene check, as the scheduler runs it (claims make it safe beside running bots)."""
    with _one_shot(args, settings) as runtime:
        sent = runtime.services.hygiene.check()
    print(f"reminders sent by this process: {sent}")
    return 0


@command("report")
def _report(args: argparse.Namespace, settings: Settings) -> int:
    """The team report /timebot report uploads, printed: the operator's, so for everyone."""
    import re
    from datetime import datetime

    from bot.errors import UserError, VendorError
    from bot.parse import InputError
    from bot.usecases.reports import parse_report_period
    from bot.usecases.scope import Scope, parse_scope

    raw = args.scope.strip()
    try:
        if raw.lower() in {"everyone", "all", ""}:
            scope = Scope()
        elif re.fullmatch(r"[CG][A-Z0-9]+", raw):
            scope = Scope("members", raw)
        else:
            found = parse_scope(raw)
            if found is None:
                raise InputError(f"--scope {raw!r}: use everyone, a channel id (C0123…), @group or dept=NAME.")
            scope = found
        with _one_shot(args, settings) as runtime:
            services = runtime.services
            assert services.reports is not None
            tz = services.people.zone(None)
            start, end = parse_report_period(" ".join(args.period), datetime.now(tz).date())
            team = args.team or str(runtime.client.auth_test()["team_id"])
            report = services.reports.build(None, team, args.kind, start, end, scope, tz)
    except (InputError, UserError, VendorError) as exc:
        print(f"timebot: {getattr(exc, 'user_message', None) or getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return 2
    sys.stdout.write(report.csv)
    for note in report.notes:
        print(f"timebot: {note}", file=sys.stderr)
    return 0


@command("leave")
def _leave(args: argparse.Namespace, settings: Settings) -> int:
    """One leave status poll (or approvers' reminder), as the scheduler runs it: the claims make it
    safe beside running bots, and a cron job can drive it when no process keeps a scheduler."""
    with _one_shot(args, settings) as runtime:
        followup = runtime.services.followup
        assert followup is not None
        sent = followup.poll() if args.action == "poll" else followup.remind()
    print(f"leave {'changes announced' if args.action == 'poll' else 'reminders sent'} by this process: {sent}")
    return 0


@command("run")
def _run(args: argparse.Namespace, settings: Settings) -> int:
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


@command("db")
def _db(args: argparse.Namespace, settings: Settings) -> int:
    from storage.db import current_revision, make_engine, upgrade

    engine = make_engine(settings.database_url)
    if args.action == "upgrade":
        upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0


@command("keys")
def _keys(args: argparse.Namespace, settings: Settings) -> int:
    """Re-encrypt every stored credential under TIMEBOT_SECRET_KEY (old keys in TIMEBOT_OLD_SECRET_KEYS)."""
    settings.require_secret_key()
    assert settings.secret_key is not None
    from bot.crypto import SecretBox
    from storage.db import make_engine, upgrade
    from storage.store import Store

    engine = make_engine(settings.database_url)
    upgrade(engine)
    store = Store(engine)
    box = SecretBox(settings.secret_key.get_secret_value(), settings.old_keys)
    rotated = failed = 0
    for row in store.all_identities():
        if not row.secret_enc or row.id is None:
            continue
        try:
            rotated += store.replace_secret(row.id, row.secret_enc, box.rotate(row.secret_enc))
        except ValueError:
            failed += 1
    print(f"re-encrypted {rotated} stored credentials" + (f"; {failed} could not be decrypted" if failed else ""))
    return 1 if failed else 0


@command("check")
def _check(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from bot.errors import NotSupported, VendorError
    from bot.vendors.registry import load_vendors, spec, specs

    vendors = load_vendors(settings.http_policy, args.env_file)
    worst = _check_slack(settings)
    if not vendors:  # as `run` takes it: the bot starts, and its commands say no vendor is set up
        hints = "; ".join(s.settings_hint for s in specs())
        print(f"vendors: none configured, so `run` starts but every command will say so: set one of {hints}")
    try:
        settings.require_secret_key()
    except ConfigError as exc:  # `run` would stop on it: say so here too
        worst = 1
        print(f"settings: {exc}")
    for action, name in settings.routing.items():
        setting = f"{routing_setting(action)}={name}"
        if name not in vendors:
            worst = 1
            print(f"routing: {setting}, but {name} is not configured (set its {name.upper()}_* settings)")
        elif action not in vendors[name].capabilities:
            worst = 1
            print(f"routing: {setting}, but {NotSupported(vendors[name].label, action).user_message}")
    for name, vendor in vendors.items():
        started = time.perf_counter()
        try:
            what = vendor.check()
            print(f"{vendor.label}: ok in {(time.perf_counter() - started) * 1000:.0f} ms ({what})")
        except VendorError as exc:
            worst = 1
            print(f"{vendor.label}: FAILED: {operator_advice(spec(name), exc)}")
        finally:
            vendor.close()
    return worst


def operator_advice(vendor: VendorSpec[Any], exc: VendorError) -> str:
    """What went wrong for the person running ``check``, naming the setting at fault (the
    connector's ``user_message`` is written for someone in Slack)."""
    from bot.errors import VendorAuthError, VendorUnavailable

    detail = f" ({exc.detail})" if exc.detail else ""
    if isinstance(exc, VendorAuthError):
        where = vendor.credentials_hint or vendor.settings_hint
        return f"{vendor.label} refused the credentials{detail}: check {where}."
    if isinstance(exc, VendorUnavailable):
        return f"{vendor.label} could not be reached{detail}: check {vendor.url_hint or vendor.settings_hint}."
    return f"{exc.user_message}{detail} (check {vendor.settings_hint})"


def _check_slack(settings: Settings) -> int:
    """The bot token (who the bot is) and its scopes against manifest.yml; 1 when anything is off."""
    from bot.runtime.app import slack_client
    from bot.slack.setup import manifest_scopes, scope_report, verify_app_token, verify_bot_token

    if settings.slack_bot_token is None:
        print("Slack: not checked (SLACK_BOT_TOKEN is not set; `run` needs it)")
        return 0
    try:
        identity = verify_bot_token(slack_client(settings), settings)
        if settings.slack_app_token is not None:
            verify_app_token(settings)
    except ConfigError as exc:
        print(f"Slack: FAILED: {exc}")
        return 1
    line, missing = scope_report(identity, manifest_scopes())
    print(f"Slack: ok, @{identity.user} ({identity.user_id}) in {identity.team} ({identity.team_id}); {line}")
    return 1 if missing else 0


command("digest")(digest_cli.run_digest_command)


@command("users")
def _users(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.users import run_users_command

    return run_users_command(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
