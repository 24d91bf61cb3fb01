"""``timebot report hours|absence <period> [--scope …]``: the team report ``/timebot report`` uploads,
printed as CSV on standard output."""

from __future__ import annotations

import argparse
import sys

from bot.cli.jobs import one_shot
from bot.config import Settings


def report(args: argparse.Namespace, settings: Settings) -> int:
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
        with one_shot(args, settings) as runtime:
            services = runtime.services
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
