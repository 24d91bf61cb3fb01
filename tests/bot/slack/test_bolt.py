"""Bolt built from what Timebot hands it, and the gate on which workspaces it serves."""

from __future__ import annotations

import os

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.config import parse_allowed_teams
from bot.slack.bolt import BOLT_ENVIRONMENT, WorkspaceGate, hidden_slack_environment


def gate(allowed: tuple[str, ...] = (), **own: str) -> WorkspaceGate:
    g = WorkspaceGate(WebClient(token="xoxb-bot", base_url="http://127.0.0.1:9/"), allowed)  # never called
    g.know({"team_id": "T1", "bot_id": "B1", "user_id": "UBOT", **own})
    return g


def test_the_bot_tokens_own_team_is_served_and_another_is_not() -> None:
    assert gate().serves("T1", None)
    assert not gate().serves("T9", None)
    assert not gate().serves(None, None)


def test_on_enterprise_grid_every_workspace_of_the_bots_enterprise_is_served() -> None:
    grid = gate(enterprise_id="E1")
    assert grid.serves("T2", "E1")
    assert not grid.serves("T2", "E2")


def test_allowed_teams_and_enterprises_are_served_too() -> None:
    assert gate(("T9",)).serves("T9", None)
    assert gate(("E5",)).serves("T7", "E5")


def test_a_served_request_gets_the_bot_token_and_a_foreign_one_nothing() -> None:
    result = gate()(context={}, enterprise_id=None, team_id="T1", user_id="U1")
    assert result is not None and (result.bot_token, result.bot_user_id, result.bot_id) == ("xoxb-bot", "UBOT", "B1")
    assert gate()(context={}, enterprise_id=None, team_id="T9", user_id="U1") is None


def test_allowed_teams_are_slack_ids() -> None:
    assert parse_allowed_teams(" T1, E2 ,,") == {"T1", "E2"}
    with pytest.raises(ValueError, match="acme"):
        parse_allowed_teams("T1,acme")


def test_bolt_built_in_the_hidden_environment_reads_none_of_its_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in BOLT_ENVIRONMENT:
        monkeypatch.setenv(name, "garbage")
    with hidden_slack_environment():
        app = App(signing_secret="s", client=WebClient(base_url="http://127.0.0.1:9/"), authorize=gate())
    assert app.oauth_flow is None and app.installation_store is None
    assert all(os.environ[name] == "garbage" for name in BOLT_ENVIRONMENT)  # put back after
