"""What handlers get to work with: the use cases, and the pool that runs them after the ack.

Built once by the composition root (``bot/runtime/app.py``) and handed to every listener through Bolt's
context (``context["services"]``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.digests.admin import DigestAdmin
from bot.runtime.intake import Intake
from bot.runtime.work import WorkPool
from bot.usecases.away_status import AwayStatus
from bot.usecases.calendar import Calendars
from bot.usecases.clock import Clock
from bot.usecases.followup import LeaveFollowup
from bot.usecases.home import Home
from bot.usecases.hours import Hours
from bot.usecases.hygiene import ClockHygiene
from bot.usecases.leave import Leave
from bot.usecases.morning import MorningView
from bot.usecases.people import People
from bot.usecases.reports import Reports
from bot.usecases.whos_in import WhosIn
from bot.usecases.whos_off import WhosOff
from bot.vendors.registry import Router
from storage.store import Store


@dataclass(frozen=True, kw_only=True)
class Services:
    """Every field is given, in one call: each feature a handler can reach is always built. Only
    the consent link of the away status can be missing (``away_status_connect_url``)."""

    settings: Settings
    store: Store
    pool: WorkPool
    router: Router
    intake: Intake  # the durable intake: accepted actions outlive the process
    people: People
    clock: Clock
    leave: Leave
    whos_off: WhosOff
    home: Home
    hours: Hours
    whos_in: WhosIn
    morning: MorningView  # /whosin #team
    hygiene: ClockHygiene  # forgotten clock-outs and clock-ins
    followup: LeaveFollowup  # leave follow-up: approvals, reminders, balances
    away_status: AwayStatus  # leave in the Slack status
    # Where Home's consent button sends the browser; None: the consent routes are not set up
    # (no TIMEBOT_PUBLIC_URL or OAuth client credentials), and ``away_status_missing`` names
    # the settings an admin must add for them.
    away_status_connect_url: str | None
    away_status_missing: tuple[str, ...]
    calendars: Calendars  # calendar feeds
    reports: Reports  # team reports
    digests: DigestAdmin  # /timebot digest (posting on a schedule needs TIMEBOT_SCHEDULER)

    def now(self) -> datetime:
        return self.people.now()

    def claim_delivery(self, key: str) -> bool:
        """Claim a Slack delivery for this process, once across all of them (retries, double clicks)."""
        return self.store.claim_request(key)

    def delivery_seen(self, key: str) -> bool:
        return self.store.request_seen(key)
