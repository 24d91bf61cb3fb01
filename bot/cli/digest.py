"""``timebot digest send --channel C… [--date YYYY-MM-DD] [--force]`` and ``timebot digest list``.

``send`` goes through the same (channel, local date) claim as the scheduler, so running it
while a bot process is up can't double-post. On a ``partial`` run (Slack refused one of its
messages) it resumes: it posts only the messages not yet in the channel. ``--force`` is the
admin's explicit resend from the start (after an ``unknown`` alert, once they have checked the
channel).
"""

from __future__ import annotations

import argparse
from datetime import date

from bot.config import ConfigError, Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    digest = sub.add_parser("digest", help="daily who's-off digests: post one now, list subscriptions")
    actions = digest.add_subparsers(dest="digest_action", required=True)
    send = actions.add_parser("send", help="post a channel's digest now (once per channel and local date)")
    send.add_argument("--channel", required=True, help="Slack channel id, like C0123ABCD")
    send.add_argument(
        "--date", type=_date, default=None, help="the local date to report (default: today in the channel's time zone)"
    )
    send.add_argument(
        "--force",
        action="store_true",
        help="post it all again even if that day's digest was already posted (in whole or in part)",
    )
    send.add_argument("--team", default=None, help="Slack team id, for a channel without a subscription")
    actions.add_parser("list", help="list subscribed channels and their latest run")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-09") from None


def run_digest_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.digests.schedule import next_run
    from bot.digests.spec import describe_days
    from bot.parse import InputError, parse_channel
    from bot.runtime.app import create_app

    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        raise ConfigError("SLACK_BOT_TOKEN is not set: digests are posted with the bot token.")
    runtime = create_app(
        settings.model_copy(update={"scheduler_enabled": False}),  # a one-shot: no scheduler
        env_file=args.env_file,
    )
    try:
        digests = runtime.digests
        if args.digest_action == "list":
            subs = digests.store.subscriptions()
            for s in subs:
                upcoming = next_run(s, digests.now())
                print(
                    f"{s.team_id} {s.channel_id} {s.hour:02d}:{s.minute:02d} {s.tz} {describe_days(s.days)}"
                    f"{' skip-empty' if s.skip_empty else ''} next {upcoming:%Y-%m-%d %H:%M %Z}"
                    if upcoming
                    else f"{s.team_id} {s.channel_id} (no next run)"
                )
            if not subs:
                print("no digest subscriptions")
            return 0
        try:
            channel = parse_channel(args.channel)
        except InputError as exc:
            raise ConfigError(str(exc)) from None
        result = digests.send(channel, day=args.date, force=args.force, team_id=args.team)
        if result.outcome == "sent" and result.resumed:
            print(
                f"posted the remaining {result.messages - result.resumed} of {result.messages} message(s) to "
                f"{channel} for {result.local_date} (ts {', '.join(result.ts[result.resumed :])}); the first "
                f"{result.resumed} were already there"
            )
            return 0
        if result.outcome == "sent":
            print(
                f"posted {result.messages} message(s) to {channel} for {result.local_date} (ts {', '.join(result.ts)})"
            )
            return 0
        if result.outcome == "empty":
            print(f"nothing posted to {channel} for {result.local_date}: nobody is off and it skips empty days")
            return 0
        if result.outcome == "partial":
            print(
                f"stopped part-way: {result.messages} message(s) of the digest for {result.local_date} are in "
                f"{channel}, not the rest ({result.reason}); "
                + (
                    "it changed since they were posted: check the channel, then use --force to post it all again"
                    if result.reason == "changed"
                    else "once that is fixed, run this again to post the rest"
                )
            )
            return 1
        existing = result.run
        if result.outcome == "skipped" and existing is not None:
            print(
                f"not posted: the digest for {channel} on {result.local_date} is {existing.status}"
                + (f" (ts {existing.message_ts})" if existing.message_ts else "")
                + ("; use --force to post it again" if existing.status != "posting" else "")
            )
            return 1
        print(f"not posted to {channel} for {result.local_date}: {result.outcome} {result.reason}".rstrip())
        return 1
    finally:
        runtime.close()
