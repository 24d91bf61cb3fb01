"""How the bot reaches its vendors, as settings: timeouts, retries, the circuit breaker, the cap on
requests in flight to each vendor, and which vendor serves each action. ``Settings`` (bot/config.py)
extends these, so they are read from the same environment and ``.env``."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings

from bot.domain import Action
from bot.vendors.http import DEFAULT_CONCURRENCY, HttpPolicy
from bot.vendors.registry import VendorName


def routing_setting(action: Action) -> str:
    """The setting that routes ``action`` to a vendor: ``TIMEBOT_WHOSOFF_VENDOR`` …"""
    return f"TIMEBOT_{action.name.replace('WHOS_OFF', 'WHOSOFF')}_VENDOR"


def _in_flight(vendor: str, more: str = "") -> str:
    return f"Requests in flight to {vendor} at once, from the whole bot, retries included{more}"


def _route(action: str) -> dict[str, Any]:
    return {
        "description": f"Which vendor serves {action}: `timeclock`, `timetap`, `swipeclock` or `whosoff`",
        "json_schema_extra": {"doc_default": "first configured vendor that can"},
    }


class VendorAccess(BaseSettings):
    http_connect_timeout: float = Field(
        default=3.0, gt=0, alias="TIMEBOT_HTTP_CONNECT_TIMEOUT", description="Seconds to connect, every vendor call"
    )
    http_read_timeout: float = Field(
        default=10.0,
        gt=0,
        alias="TIMEBOT_HTTP_READ_TIMEOUT",
        description="Seconds to wait for an answer, every vendor call",
    )
    http_max_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        alias="TIMEBOT_HTTP_MAX_RETRIES",
        description="Retries of reads, and of writes the vendor provably did not process",
    )
    breaker_failures: int = Field(
        default=5,
        ge=1,
        alias="TIMEBOT_BREAKER_FAILURES",
        description="Consecutive failures that open a vendor's circuit",
    )
    breaker_cooldown: float = Field(
        default=30.0, gt=0, alias="TIMEBOT_BREAKER_COOLDOWN", description="Seconds a vendor's open circuit stays open"
    )
    # requests in flight to each vendor at once, across the whole bot (each retry included)
    in_flight_timeclock: int = Field(
        default=DEFAULT_CONCURRENCY,
        ge=1,
        le=4096,
        alias="TIMEBOT_TIMECLOCK_CONCURRENCY",
        description=_in_flight(
            "TimeClock",
            ". Lower it for a small self-hosted TimeClock; a rush then "
            "queues in the bot instead of flooding the server",
        ),
    )
    in_flight_timetap: int = Field(
        default=DEFAULT_CONCURRENCY,
        ge=1,
        le=4096,
        alias="TIMEBOT_TIMETAP_CONCURRENCY",
        description=_in_flight("TimeTap"),
    )
    in_flight_swipeclock: int = Field(
        default=DEFAULT_CONCURRENCY,
        ge=1,
        le=4096,
        alias="TIMEBOT_SWIPECLOCK_CONCURRENCY",
        description=_in_flight("SwipeClock", " (per host: its sign-in and API count separately)"),
    )
    in_flight_whosoff: int = Field(
        default=DEFAULT_CONCURRENCY,
        ge=1,
        le=4096,
        alias="TIMEBOT_WHOSOFF_CONCURRENCY",
        description=_in_flight("WhosOff"),
    )

    clock_vendor: VendorName | None = Field(
        default=None, alias="TIMEBOT_CLOCK_VENDOR", **_route("clocking in and out, hours and who's in")
    )
    leave_vendor: VendorName | None = Field(default=None, alias="TIMEBOT_LEAVE_VENDOR", **_route("leave requests"))
    whosoff_vendor: VendorName | None = Field(default=None, alias="TIMEBOT_WHOSOFF_VENDOR", **_route("who's off"))
    holidays_vendor: VendorName | None = Field(
        default=None, alias="TIMEBOT_HOLIDAYS_VENDOR", **_route("public holidays")
    )
    identity_vendor: VendorName | None = Field(
        default=None, alias="TIMEBOT_IDENTITY_VENDOR", **_route("matching people by email")
    )

    @property
    def http_policy(self) -> HttpPolicy:
        return HttpPolicy(
            connect_timeout=self.http_connect_timeout,
            read_timeout=self.http_read_timeout,
            max_retries=self.http_max_retries,
            breaker_failures=self.breaker_failures,
            breaker_cooldown=self.breaker_cooldown,
            vendor_concurrency={
                "timeclock": self.in_flight_timeclock,
                "timetap": self.in_flight_timetap,
                "swipeclock": self.in_flight_swipeclock,
                "whosoff": self.in_flight_whosoff,
            },
        )

    @property
    def routing(self) -> dict[Action, str]:
        chosen = {
            Action.CLOCK: self.clock_vendor,
            Action.LEAVE: self.leave_vendor,
            Action.WHOS_OFF: self.whosoff_vendor,
            Action.HOLIDAYS: self.holidays_vendor,
            Action.IDENTITY: self.identity_vendor,
        }
        return {a: v for a, v in chosen.items() if v}
