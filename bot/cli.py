"""``timebot``: run the bot, migrate, start a sandbox vendor, manage keys.

A configuration problem ends the command with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from bot import digest_cli
from bot.config import ConfigError, Settings, load_settings, routing_setting
from bot.vendors.registry import VENDOR_MODULES
from storage.db import DatabaseUnusable

log = logging.getLogger("timebot")

COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {}


def command(name: str) -> Callable[[Callable[[argparse.Namespace, Settings], int]], Callable[..., int]]:
    def deco(fn: Callable[[argparse.Namespace, Settings], int]) -> Callable[..., int]:
        COMMANDS[name] = fn
        return fn
    return deco


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="timebot",
                                     description="Clock in, request leave and see who's off, from Slack.")
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

    keys = sub.add_parser("keys", help="encryption keys for stored vendor credentials")
    keys.add_argument("action", choices=["generate", "rotate"])

    sub.add_parser("check", help="authenticate with each configured vendor and make one read call")

    users = sub.add_parser("users", help="match Slack users to vendor users by email")
    users.add_argument("action", choices=["sync", "unmatched"])
    users.add_argument("--team", default=None, help="Slack team id (default: the bot's own)")

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
    for handler in logging.getLogger().handlers:
        handler.addFilter(_no_slack_debug)
    try:
        if args.cmd == "sandbox":
            return _sandbox(args)
        if args.cmd == "keys" and args.action == "generate":
            from bot.crypto import SecretBox

            print(SecretBox.generate_key())
            return 0
        settings = load_settings(args.env_file)
        return COMMANDS[args.cmd](args, settings)
    except ConfigError as exc:
        print(f"timebot: {exc}", file=sys.stderr)
        return 2
    except (ArgumentError, NoSuchModuleError) as exc:
        print(f"timebot: DATABASE_URL is invalid ({_first_line(exc)}): use sqlite:///timebot.db or "
              "postgresql+psycopg://user:password@host/dbname.", file=sys.stderr)
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
    module.serve(args.port)
    return 0


@command("run")
def _run(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_slack()
    from bot.app import create_app

    runtime = create_app(settings, env_file=args.env_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            # Envelopes are handled by as many threads as HTTP mode serves requests with.
            handler = SocketModeHandler(runtime.app, settings.slack_app_token.get_secret_value(),
                                        concurrency=settings.http_threads)
            log.info("Timebot is running in Socket Mode")
            handler.connect()
            runtime.on_close.append(handler.close)
            if runtime.status_oauth is not None:  # the status consent's browser routes, beside Socket Mode
                from bot.web import HttpServer, OAuthRoutes

                routes = HttpServer(OAuthRoutes(runtime.status_oauth, runtime.engine), args.host, args.port,
                                    settings.http_threads).start()
                runtime.on_close.append(routes.stop)
                log.info("Timebot serves its OAuth routes on http://%s:%s", args.host, routes.port)
            stop.wait()
        else:
            from bot.web import HttpServer, SlackWsgi

            secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
            server = HttpServer(SlackWsgi(runtime.app, runtime.engine, signing_secret=secret,
                                          oauth=runtime.status_oauth), args.host, args.port,
                                settings.http_threads).start()
            runtime.on_close.append(server.stop)
            log.info("Timebot is listening on http://%s:%s/slack/events", args.host, server.port)
            stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()
    return 0


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
    from storage.queries import Store

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
    from bot.vendors.registry import load_vendors, specs

    vendors = load_vendors(settings.http_policy, args.env_file)
    if not vendors:
        hints = "; ".join(s.settings_hint for s in specs())
        print(f"no vendor is configured: set one of {hints}")
        return 2
    worst = 0
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
    hints = {s.name: s.settings_hint for s in specs()}
    for name, vendor in vendors.items():
        started = time.perf_counter()
        try:
            what = vendor.check()
            print(f"{vendor.label}: ok in {(time.perf_counter() - started) * 1000:.0f} ms ({what})")
        except VendorError as exc:
            worst = 1
            print(f"{vendor.label}: FAILED: {exc.user_message} {exc.detail} (check {hints.get(name, name)})".rstrip())
        finally:
            vendor.close()
    return worst


command("digest")(digest_cli.run_digest_command)


@command("users")
def _users(args: argparse.Namespace, settings: Settings) -> int:
    from bot.identity_sync import run_users_command

    return run_users_command(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
