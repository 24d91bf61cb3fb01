"""The App Home tab, drawn whole from what the use cases say about one person: linking, the clock,
hours and the clock-in reminder, their leave and balances, and leave in their Slack status.
``handlers.app_home`` gathers that (a ``HomeTab``) and publishes what ``home_view`` draws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.parse import esc
from bot.usecases.followup import Balances, MyLeave
from bot.usecases.home import HomeState, StatusReport
from bot.usecases.hours import HoursReport
from handlers import ids
from handlers.render.away_status import status_section
from handlers.render.blocks import Blocks, actions, button, context, divider, header, section
from handlers.render.hygiene import home_hygiene_blocks
from handlers.render.leave import home_leave_blocks

MAX_BLOCKS = 100  # a Home tab holds 100 blocks


@dataclass(frozen=True)
class HomeHygiene:
    """Hours worked (today and this week; None when the vendor can't say) and the clock-in reminder."""

    hours: tuple[HoursReport, HoursReport] | None
    reminder_at: time | None


@dataclass(frozen=True)
class HomeLeave:
    """The person's leave (None: they can't request leave yet) and the balances a vendor keeps."""

    mine: MyLeave | None
    balances: Balances | None


@dataclass(frozen=True)
class HomeAwayStatus:
    """Leave in the Slack status: on | off | revoked, and how to turn it on (``AwayStatus.connected``)."""

    state: str
    connect_url: str | None
    missing: tuple[str, ...]
    admin: bool


@dataclass(frozen=True)
class HomeTab:
    """Everything the tab shows; a part is None when its feature isn't set up (or doesn't apply)."""

    state: HomeState
    tz: ZoneInfo
    now: datetime
    hygiene: HomeHygiene | None = None
    leave: HomeLeave | None = None
    away_status: HomeAwayStatus | None = None


def home_view(tab: HomeTab) -> dict[str, Any]:
    blocks: Blocks = [header("Timebot"), *_links(tab.state.status), *_clock(tab)]
    if tab.hygiene is not None:
        blocks += home_hygiene_blocks(tab.hygiene.hours, tab.hygiene.reminder_at)
    if tab.leave is not None:
        leave = home_leave_blocks(tab.leave.mine, tab.leave.balances)
        # no divider straight under the header (a vendor without a clock has nothing above the leave)
        if leave and blocks[-1]["type"] != "header":
            blocks.append(divider())
        blocks += leave
    blocks.append(context(f"Times in your time zone ({tab.tz.key}). Updated {fmt.clock(tab.now, tab.tz)}."))
    if tab.away_status is not None:
        away = tab.away_status
        blocks += status_section(away.state, away.connect_url, away.missing, away.admin)
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def _links(status: StatusReport) -> Blocks:
    blocks: Blocks = []
    for _, label in status.needs_link:
        blocks.append(section(f":link: Connect your {esc(label)} account to clock in and request leave."))
        blocks.append(actions(button(ids.HOME_LINK, f"Link {label}", style="primary")))
    for label, what in status.unmatched:
        blocks.append(section(f":link: *{esc(label)}*: {esc(what)}"))
    return blocks


def _clock(tab: HomeTab) -> Blocks:
    status, tz = tab.state.status, tab.tz
    if not status.clock_linked:
        return []
    vendor = esc(status.clock_vendor)
    if status.clock_error:
        return [section(f"*Clock* ({vendor})\n{esc(status.clock_error)}")]
    if status.session:
        since = fmt.clock(status.session.started_at, tz, with_day=True, today=tab.now.astimezone(tz).date())
        return [
            section(f"*Clock* ({vendor})\n:large_green_circle: Clocked in since {since}"),
            actions(button(ids.HOME_CLOCK_OUT, "Clock out", style="danger")),
        ]
    return [
        section(f"*Clock* ({vendor})\n:white_circle: Not clocked in"),
        actions(button(ids.HOME_CLOCK_IN, "Clock in", style="primary")),
    ]
