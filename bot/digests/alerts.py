"""What an admin hears about a digest run: the audit log, the metric, and, when a run needs them,
an ERROR line and a DM to whoever set the digest up, with the command that fixes it."""

from __future__ import annotations

import logging
from datetime import date

from bot.domain import Action
from bot.telemetry import metrics
from bot.usecases.people import People
from bot.vendors.registry import Router
from storage.models import DigestSubscription

log = logging.getLogger(__name__)


class DigestAlerts:
    def __init__(self, people: People, router: Router) -> None:
        self.people = people
        self.router = router

    def alert(self, sub: DigestSubscription, day: date, text: str, outcome: str, *, resend: bool = False) -> None:
        """Log at ERROR, write the audit log, and DM the admin who set the digest up, with the
        command that fixes it (``resend``: only a whole resend, ``--force``, can)."""
        send = f"timebot digest send --channel {sub.channel_id} --date {day.isoformat()}"
        hint = (
            f"Once that is fixed, `{send}` posts it."
            if outcome == "failed" and not resend
            else f"Once that is fixed, `{send}` posts the rest (not what already went out)."
            if outcome == "partial" and not resend
            else f"Check <#{sub.channel_id}>; if the digest is missing there, resend it with `{send} --force`."
        )
        full = f":warning: {text} {hint}"
        log.error("digest alert (%s) for %s on %s: %s", outcome, sub.channel_id, day, text)
        self.audit(sub, outcome, f"{sub.channel_id} {day}: {text}")
        if sub.created_by and sub.created_by.startswith(("U", "W")):
            try:
                self.people.slack.post(sub.created_by, full)
            except Exception as exc:
                log.warning("could not DM %s about the digest: %s", sub.created_by, type(exc).__name__)

    def audit(self, sub: DigestSubscription, outcome: str, detail: str) -> None:
        metrics.digest(outcome)
        vendor = self.router.maybe(Action.WHOS_OFF)
        self.people.audit(sub.team_id, "timebot", vendor.name if vendor else "-", "digest", outcome, detail)
