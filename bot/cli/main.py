"""``timebot``: the parser and the dispatch. Each command lives in its own module of ``bot/cli/``
(run, db, trial for sandbox and console, keys, check, manifest, users, jobs for reminders and leave,
report, digest); each imports what it needs when it runs, so a command pays for no other's imports.

A configuration problem ends the command with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from bot.cli import check, db, digest, jobs, keys, manifest, report, run, trial
from bot.config import ConfigError, Settings, load_settings
from bot.telemetry import logs
from bot.vendors.registry import VENDOR_MODULES
from storage.db import DatabaseUnusable


def _users(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.users import run_users_command  # it builds a Slack client: imported only when it runs

    return run_users_command(args, settings)


# The commands that read the settings first.
COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "run": run.run,
    "db": db.db,
    "keys": keys.rotate,
    "check": check.check,
    "users": _users,
    "reminders": jobs.reminders,
    "leave": jobs.leave,
    "report": report.report,
    "digest": digest.run_digest_command,
}
# The ones that need none: trying the bot, and printing what configures it.
NO_SETTINGS: dict[str, Callable[[argparse.Namespace], int]] = {
    "sandbox": trial.sandbox,
    "console": trial.console,  # it makes its own
    "manifest": manifest.manifest,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timebot", description="Clock in, request leave and see who's off, from Slack."
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="cmd", required=True)

    run_cmd = sub.add_parser("run", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)")
    run_cmd.add_argument("--port", type=int, default=3000)
    run_cmd.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server listens on all interfaces

    db_cmd = sub.add_parser("db", help="database migrations")
    db_cmd.add_argument("action", choices=["upgrade", "current"])

    sandbox_cmd = sub.add_parser("sandbox", help="run a local simulator of a vendor to try the bot")
    sandbox_cmd.add_argument("vendor", choices=VENDOR_MODULES)
    sandbox_cmd.add_argument("--port", type=int, required=True)

    console_cmd = sub.add_parser(
        "console",
        help="try Timebot here: the real bot, a stand-in Slack and a vendor "
        "sandbox with demo data; type slash commands",
    )
    console_cmd.add_argument("--vendor", choices=VENDOR_MODULES, default="timeclock")
    console_cmd.add_argument(
        "--as", dest="person", default="ada", help="demo person (ada, grace, alan, katherine, linus)"
    )

    keys_cmd = sub.add_parser("keys", help="encryption keys for stored vendor credentials")
    keys_cmd.add_argument("action", choices=["generate", "rotate"])

    sub.add_parser("check", help="check the Slack token and scopes, then each configured vendor (one read call)")

    manifest_cmd = sub.add_parser(
        "manifest", help="print the Slack app manifest (Socket Mode, or HTTP mode with --http)"
    )
    manifest_cmd.add_argument(
        "--http",
        metavar="URL",
        default=None,
        help="the bot's public base URL, e.g. https://bot.example.com: every request URL filled in",
    )

    users_cmd = sub.add_parser("users", help="match Slack users to vendor users by email")
    users_cmd.add_argument("action", choices=["sync", "unmatched"])
    users_cmd.add_argument("--team", default=None, help="Slack team id (default: the bot's own)")

    reminders_cmd = sub.add_parser("reminders", help="forgotten clock-out/clock-in reminders: run one check now")
    reminders_cmd.add_argument("action", choices=["check"])

    leave_cmd = sub.add_parser("leave", help="leave follow-up: one status poll, or the approvers' reminder, now")
    leave_cmd.add_argument("action", choices=["poll", "remind"])

    report_cmd = sub.add_parser("report", help="print a team report as CSV (the same as /timebot report)")
    report_cmd.add_argument("kind", choices=["hours", "absence"])
    report_cmd.add_argument("period", nargs="+", help="this month, last month, 2026-11, week, last week or A..B")
    report_cmd.add_argument(
        "--scope",
        default="everyone",
        help="everyone (default), a channel id (C0123…: its members), @group or dept=NAME",
    )
    report_cmd.add_argument("--team", default=None, help="Slack team id (default: the bot's own)")

    digest.add_parser(sub)
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
        if args.cmd in NO_SETTINGS:
            return NO_SETTINGS[args.cmd](args)
        if args.cmd == "keys" and args.action == "generate":
            return keys.generate(args)
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


if __name__ == "__main__":
    raise SystemExit(main())
