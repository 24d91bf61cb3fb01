"""One pass of a scheduled job, now: ``timebot reminders check`` (clock hygiene) and ``timebot leave
poll|remind`` (leave follow-up). The claims in the database make them safe beside running bots, and a
cron job can drive them when no process keeps a scheduler."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.config import Settings

if TYPE_CHECKING:
    from bot.runtime.app import Runtime


@contextmanager
def one_shot(args: argparse.Namespace, settings: Settings) -> Iterator[Runtime]:
    """The bot without its scheduler, for one pass of a scheduled job run from the command line."""
    from bot.runtime.app import create_app

    runtime = create_app(settings.model_copy(update={"scheduler_enabled": False}), env_file=args.env_file)
    try:
        yield runtime
    finally:
        runtime.close()


def reminders(args: argparse.Namespace, settings: Settings) -> int:
    """One clock-hygiene check, as the scheduler runs it (claims make it safe beside running bots)."""
    with one_shot(args, settings) as runtime:
        sent = runtime.services.hygiene.check()
    print(f"reminders sent by this process: {sent}")
    return 0


def leave(args: argparse.Namespace, settings: Settings) -> int:
    """One leave status poll (or approvers' reminder), as the scheduler runs it: the claims make it
    safe beside running bots, and a cron job can drive it when no process keeps a scheduler."""
    with one_shot(args, settings) as runtime:
        followup = runtime.services.followup
        sent = followup.poll() if args.action == "poll" else followup.remind()
    print(f"leave {'changes announced' if args.action == 'poll' else 'reminders sent'} by this process: {sent}")
    return 0
