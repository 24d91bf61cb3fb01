"""manifest.yml asks for exactly the scopes the code needs: every scope is used by a Web API
method the code calls (or a feature that needs it), and every method called is covered — bot
scopes for the bot token's calls, user scopes for the calls made with a person's own token."""

from __future__ import annotations

import re
from pathlib import Path

from bot.slack.setup import load_manifest, manifest_scopes
from sandbox.slack import METHOD_SCOPES, SCOPE_OF

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
CALL = re.compile(
    r"\.((?:chat|users|usergroups|views|auth|conversations|apps|team|im|dnd|reactions|files|pins)_[A-Za-z0-9_]+)\("
)
API_CALL = re.compile(r"api_call\(\s*[\"']([\w.]+)[\"']")
EVENT = re.compile(r"app\.event\(\s*[\"'](\w+)[\"']")
USER_TOKEN_METHODS = set(SCOPE_OF)  # users.profile.get/set, dnd.setSnooze/endSnooze
APP_TOKEN_METHODS = {"apps.connections.open"}  # called with the app-level token (connections:write), not the bot's
# slack_sdk helpers that are no Web API method themselves: the methods each one calls
SDK_HELPERS = {"files.upload.v2": {"files.getUploadURLExternal", "files.completeUploadExternal"}}

# Scopes a feature needs beyond the methods' own (docs.slack.dev/reference/scopes/<scope>):
FEATURE_SCOPES = {
    "commands": "slash commands (features.slash_commands)",
    "chat:write.public": "digests post to public channels the bot was never invited to",
    "users:read.email": "profile.email in users.info / users.list, to match people to vendor accounts by email",
    "groups:read": "conversations.info / conversations.members on a private channel (a members-scoped digest there)",
}


def methods_called() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        text = path.read_text()
        found |= {m.replace("_", ".") for m in CALL.findall(text)}  # no Slack method name has an underscore
        found |= set(API_CALL.findall(text))
    for helper, methods in SDK_HELPERS.items():
        if helper in found:
            found = (found - {helper}) | methods
    return found - APP_TOKEN_METHODS - USER_TOKEN_METHODS


def user_token_methods_called() -> set[str]:
    """Calls made with a person's own token (leave in their Slack status): they need user scopes."""
    found: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        found |= {m.replace("_", ".") for m in CALL.findall(path.read_text())}
    return found & USER_TOKEN_METHODS


def test_the_scan_finds_the_calls_the_bot_is_known_to_make() -> None:
    assert {
        "chat.postMessage",
        "views.open",
        "views.update",
        "views.publish",
        "users.info",
        "auth.test",
    } <= methods_called()


def test_every_method_the_code_calls_is_covered_by_a_scope_in_the_manifest() -> None:
    scopes = set(manifest_scopes())
    unknown = {m for m in methods_called() if m not in METHOD_SCOPES}
    assert not unknown, f"add these methods' scopes (from Slack's docs) to sandbox.slack.METHOD_SCOPES: {unknown}"
    uncovered = {m: METHOD_SCOPES[m] for m in methods_called() if METHOD_SCOPES[m] and METHOD_SCOPES[m] not in scopes}
    assert not uncovered


def test_every_scope_in_the_manifest_is_used() -> None:
    used = {METHOD_SCOPES[m] for m in methods_called() if METHOD_SCOPES.get(m)} | set(FEATURE_SCOPES)
    assert set(manifest_scopes()) - used == set()
    assert load_manifest()["features"]["slash_commands"]  # what `commands` is for


def test_the_user_scopes_are_exactly_those_of_the_calls_made_with_a_persons_token() -> None:
    wanted = set(load_manifest()["oauth_config"]["scopes"].get("user") or [])
    called = user_token_methods_called()
    assert {"users.profile.set", "users.profile.get", "dnd.setSnooze"} <= called
    assert {SCOPE_OF[m] for m in called} == wanted


def test_the_manifest_subscribes_to_exactly_the_events_the_bot_listens_for() -> None:
    listened = set(EVENT.findall((ROOT / "handlers" / "events" / "__init__.py").read_text()))
    assert {"app_home_opened", "user_change"} <= listened
    assert set(load_manifest()["settings"]["event_subscriptions"]["bot_events"]) == listened
