"""The status consent's checks on Slack's ``oauth.v2.access`` answer and on what it logs."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.oauth import installation_from, reason_for_log

GOOD: dict[str, Any] = {
    "ok": True,
    "app_id": "A0TIMEBOT",
    "team": {"id": "T0DEMO", "name": "Demo"},
    "enterprise": None,
    "is_enterprise_install": False,
    "authed_user": {
        "id": "U0ADA",
        "scope": "users.profile:read,users.profile:write,dnd:write",
        "access_token": "xoxp-1-2",
        "token_type": "user",
    },
}


def with_user(**changes: Any) -> dict[str, Any]:
    return {**GOOD, "authed_user": {**GOOD["authed_user"], **changes}}


def test_a_user_token_for_this_workspace_with_the_scope_is_kept() -> None:
    found = installation_from(GOOD, "T0DEMO")
    assert not isinstance(found, str)
    assert (found.team_id, found.user_id, found.user_token) == ("T0DEMO", "U0ADA", "xoxp-1-2")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({**GOOD, "team": {"id": "T0OTHER"}}, "wrong_workspace"),
        ({**GOOD, "team": None, "is_enterprise_install": True}, "enterprise_install"),
        (with_user(access_token="xoxb-1-2"), "not_a_user_token"),
        (with_user(access_token="xoxp-1-2", token_type="bot"), "not_a_user_token"),
        (with_user(access_token=None), "no_user_token"),
        (with_user(scope="users.profile:read"), "missing_scope"),
        ({**GOOD, "authed_user": None}, "no_user_token"),
    ],
)
def test_an_answer_timebot_cannot_use_is_refused_with_its_reason(answer: dict[str, Any], reason: str) -> None:
    assert installation_from(answer, "T0DEMO") == reason


def test_an_unknown_workspace_refuses_everything() -> None:
    assert installation_from(GOOD, None) == "wrong_workspace"


def test_a_reason_is_logged_as_a_word_or_a_short_repr_never_with_line_breaks() -> None:
    assert reason_for_log("access_denied") == "access_denied"
    injected = reason_for_log("access_denied\r\nINFO bot.usecases.admins: U0EVE is now an admin" + "x" * 500)
    assert "\n" not in injected and "\r" not in injected and len(injected) < 60
