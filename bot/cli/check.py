"""``timebot check``: the Slack token and its scopes, the settings ``run`` would refuse, the routing,
then one read call to each configured vendor. Exit code 1 when anything needs fixing."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Settings, routing_setting

if TYPE_CHECKING:
    from bot.errors import VendorError
    from bot.vendors.base import VendorSpec


def check(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from bot.errors import NotSupported, VendorError
    from bot.vendors.registry import load_vendors, spec, specs

    vendors = load_vendors(settings.http_policy, args.env_file)
    worst = check_slack(settings)
    if not vendors:  # as `run` takes it: the bot starts, and its commands say no vendor is set up
        hints = "; ".join(s.settings_hint for s in specs())
        print(f"vendors: none configured, so `run` starts but every command will say so: set one of {hints}")
    try:
        settings.require_secret_key()
    except ConfigError as exc:  # `run` would stop on it: say so here too
        worst = 1
        print(f"settings: {exc}")
    for action, name in settings.routing.items():
        setting = f"{routing_setting(action)}={name}"
        if name not in vendors:
            worst = 1
            print(f"routing: {setting}, but {name} is not configured (set its {name.upper()}_* settings)")
        elif action not in vendors[name].capabilities:
            worst = 1
            print(f"routing: {setting}, but {NotSupported(vendors[name].label, action).user_message}")
    for name, vendor in vendors.items():
        started = time.perf_counter()
        try:
            what = vendor.check()
            print(f"{vendor.label}: ok in {(time.perf_counter() - started) * 1000:.0f} ms ({what})")
        except VendorError as exc:
            worst = 1
            print(f"{vendor.label}: FAILED: {operator_advice(spec(name), exc)}")
        finally:
            vendor.close()
    return worst


def operator_advice(vendor: VendorSpec[Any], exc: VendorError) -> str:
    """What went wrong for the person running ``check``, naming the setting at fault (the
    connector's ``user_message`` is written for someone in Slack)."""
    from bot.errors import VendorAuthError, VendorUnavailable

    detail = f" ({exc.detail})" if exc.detail else ""
    if isinstance(exc, VendorAuthError):
        where = vendor.credentials_hint or vendor.settings_hint
        return f"{vendor.label} refused the credentials{detail}: check {where}."
    if isinstance(exc, VendorUnavailable):
        return f"{vendor.label} could not be reached{detail}: check {vendor.url_hint or vendor.settings_hint}."
    return f"{exc.user_message}{detail} (check {vendor.settings_hint})"


def check_slack(settings: Settings) -> int:
    """The bot token (who the bot is) and its scopes against manifest.yml; 1 when anything is off."""
    from bot.runtime.app import slack_client
    from bot.slack.setup import manifest_scopes, scope_report, verify_app_token, verify_bot_token

    if settings.slack_bot_token is None:
        print("Slack: not checked (SLACK_BOT_TOKEN is not set; `run` needs it)")
        return 0
    try:
        identity = verify_bot_token(slack_client(settings), settings)
        if settings.slack_app_token is not None:
            verify_app_token(settings)
    except ConfigError as exc:
        print(f"Slack: FAILED: {exc}")
        return 1
    line, missing = scope_report(identity, manifest_scopes())
    print(f"Slack: ok, @{identity.user} ({identity.user_id}) in {identity.team} ({identity.team_id}); {line}")
    return 1 if missing else 0
