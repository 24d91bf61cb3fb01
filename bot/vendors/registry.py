"""Finds the configured vendors and routes each action to one of them.

Adding a vendor: write ``bot/vendors/<name>.py`` exposing ``SPEC: VendorSpec`` and add the
name to ``VENDOR_MODULES``. Nothing in ``handlers/`` changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from pydantic import ValidationError

from bot.domain import Action
from bot.errors import NotSupported, NoVendorCan
from bot.vendors.base import (
    ClockVendor,
    CompanyClockState,
    DepartmentsVendor,
    HolidaysVendor,
    IdentityVendor,
    LeaveDecisionVendor,
    LeaveVendor,
    SessionsReader,
    Vendor,
    VendorSpec,
    WhosOffVendor,
    undeclared,
)
from bot.vendors.http import HttpPolicy
from bot.vendors.settings import ConfigError, env_name, one_line

VendorName = Literal["timeclock", "timetap", "swipeclock", "whosoff"]
VENDOR_MODULES: tuple[VendorName, ...] = get_args(VendorName)  # the one list of vendor names, in routing order


def specs() -> list[VendorSpec[Any]]:
    """Every vendor Timebot knows, in preference order for default routing."""
    found = []
    for name in VENDOR_MODULES:
        try:
            module = importlib.import_module(f"bot.vendors.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bot.vendors.{name}":
                continue
            raise
        found.append(module.SPEC)
    return found


def spec(name: str) -> VendorSpec[Any]:
    for s in specs():
        if s.name == name:
            return s
    raise KeyError(name)


def load_vendors(policy: HttpPolicy, env_file: str | None = ".env") -> dict[str, Vendor]:
    """Build a connector for each vendor whose settings are present in the environment."""
    vendors: dict[str, Vendor] = {}
    for s in specs():
        try:
            settings = s.settings_cls(_env_file=env_file)
        except ValidationError as exc:
            raise ConfigError(one_line(exc, s.settings_cls)) from None
        if not s.is_configured(settings) and settings.model_fields_set:
            missing = ", ".join(s.missing(settings)) or s.settings_hint
            given = ", ".join(sorted(env_name(s.settings_cls, f) for f in settings.model_fields_set))
            raise ConfigError(
                f"{s.label} is partly configured ({given} set): also set {missing}, "
                f"or remove the {s.name.upper()}_* settings."
            )
        if s.is_configured(settings):
            try:
                vendors[s.name] = s.build(settings, policy)
            except ValueError as exc:  # the connector's own check, which names the setting
                raise ConfigError(str(exc)) from None
    return vendors


@dataclass
class Router:
    """Which vendor serves which action: explicit choices first, else the first configured
    vendor (in ``VENDOR_MODULES`` order) that declares the capability."""

    vendors: Mapping[str, Vendor]
    choices: Mapping[Action, str]

    def __post_init__(self) -> None:
        for vendor in self.vendors.values():
            if missing := undeclared(vendor):
                raise TypeError(f"{vendor.label} declares {', '.join(missing)} without implementing it")

    def for_action(self, action: Action) -> Vendor:
        """The vendor for ``action``; raises NotSupported when the chosen one lacks it."""
        chosen = self.choices.get(action)
        if chosen:
            vendor = self.vendors[chosen]
            if action not in vendor.capabilities:
                raise NotSupported(vendor.label, action)
            return vendor
        for vendor in self.vendors.values():
            if action in vendor.capabilities:
                return vendor
        if len(self.vendors) == 1:
            only = next(iter(self.vendors.values()))
            raise NotSupported(only.label, action)
        raise NoVendorCan(action)

    def maybe(self, action: Action) -> Vendor | None:
        try:
            return self.for_action(action)
        except NotSupported:
            return None

    # Typed for the action: safe casts, as ``__post_init__`` checked every declaration.

    def clock(self) -> ClockVendor:
        return cast(ClockVendor, self.for_action(Action.CLOCK))

    def leave(self) -> LeaveVendor:
        return cast(LeaveVendor, self.for_action(Action.LEAVE))

    def maybe_leave(self) -> LeaveVendor | None:
        return cast(LeaveVendor | None, self.maybe(Action.LEAVE))

    def decision(self) -> LeaveDecisionVendor | None:
        return cast(LeaveDecisionVendor | None, self.maybe(Action.LEAVE_DECISION))

    def whos_off(self) -> WhosOffVendor:
        return cast(WhosOffVendor, self.for_action(Action.WHOS_OFF))

    def holidays(self) -> HolidaysVendor | None:
        return cast(HolidaysVendor | None, self.maybe(Action.HOLIDAYS))

    def identity(self) -> IdentityVendor | None:
        return cast(IdentityVendor | None, self.maybe(Action.IDENTITY))

    def departments(self) -> DepartmentsVendor | None:
        return cast(DepartmentsVendor | None, self.maybe(Action.DEPARTMENTS))

    def clock_capability(self, action: Action) -> Vendor:
        """The clock vendor, for an action that reads its sessions (hours, who's in): those go
        wherever clocking goes; NotSupported when that vendor can't do ``action``."""
        try:
            vendor = self.for_action(Action.CLOCK)
        except NotSupported as exc:  # no clock at all: say what was asked for
            raise NotSupported(exc.vendor, action) from None
        if action not in vendor.capabilities:
            raise NotSupported(vendor.label, action)
        return vendor

    def sessions(self) -> SessionsReader:
        return cast(SessionsReader, self.clock_capability(Action.HOURS))

    def whos_in(self) -> CompanyClockState:
        return cast(CompanyClockState, self.clock_capability(Action.WHOS_IN))

    def label_for(self, action: Action) -> str:
        """The routed vendor's name for messages, before anything is asked of it."""
        vendor = self.maybe(action)
        return vendor.label if vendor else "the vendor"

    def close(self) -> None:
        for vendor in self.vendors.values():
            vendor.close()
