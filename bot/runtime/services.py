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


@dataclass
class Services:
    settings: Settings
    store: Store
    pool: WorkPool
    router: Router
    people: People
    clock: Clock
    leave: Leave
    whos_off: WhosOff
    home: Home
    digests: DigestAdmin | None = None  # set when digests are installed
    # These three are set by bot/runtime/app.py (clock hygiene) before the first request: typed as
    # never None for their readers, which the None placeholder contradicts until then.
    hours: Hours = None  # type: ignore[assignment]
    whos_in: WhosIn = None  # type: ignore[assignment]
    hygiene: ClockHygiene = None  # type: ignore[assignment]
    followup: LeaveFollowup | None = None  # set by the composition root (leave follow-up)
    away_status: AwayStatus | None = None  # leave in the Slack status (set by bot/runtime/app.py)
    away_status_connect_url: str | None = None  # where Home's consent button sends the browser; None: not set up
    away_status_missing: tuple[str, ...] = ()  # the settings an admin must add for it
    calendars: Calendars | None = None  # calendar feeds (set by bot/runtime/app.py)
    morning: MorningView | None = None  # /whosin #team (set by bot/runtime/app.py)
    reports: Reports | None = None  # team reports (set by bot/runtime/app.py)
    intake: Intake | None = None  # the durable intake (set by bot/runtime/app.py)

    def now(self) -> datetime:
        return self.people.now()

    def claim_delivery(self, key: str) -> bool:
        """Claim a Slack delivery for this process, once across all of them (retries, double clicks)."""
        return self.store.claim_request(key)

    def delivery_seen(self, key: str) -> bool:
        return self.store.request_seen(key)
