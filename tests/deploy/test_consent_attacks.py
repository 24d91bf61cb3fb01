"""The status consent's routes under attack, through ``timebot run``: Slack answers Timebot must
not accept, anonymous floods of the start route, and what an anonymous caller can put in the log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.attacks import base_env, clean_log, consent, count, start_with_consent, state_cookie
from tests.deploy.harness import Deployed
from tests.deploy.stand_ins import one_deployment_per_module

# One deployment for the whole module (a process start is most of each test's time): no test here
# leaves anything that another one reads, except rows counted before and after.


module_tmp_path, module_slack = one_deployment_per_module("consent")


@pytest.fixture(scope="module")
def bot(tmp_path: Path, slack: SlackStandIn) -> Iterator[Deployed]:
    with SimServer(TimeClockSim.demo().handle, name="timeclock") as timeclock:
        env = base_env(slack, tmp_path, Fernet.generate_key().decode(), TIMECLOCK_BASE_URL=timeclock.base_url)
        deployed = start_with_consent(env, slack, tmp_path)
        yield deployed
        deployed.terminate()


@pytest.fixture(autouse=True)
def honest_slack(slack: SlackStandIn) -> Iterator[None]:
    slack.user_side.answer_as = None
    yield
    slack.user_side.answer_as = None


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _user(answer: dict[str, Any], **changes: Any) -> dict[str, Any]:
    user = {k: v for k, v in {**answer["authed_user"], **changes}.items() if v is not None}
    return {**answer, "authed_user": user}


REFUSED_ANSWERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "another_workspace": lambda a: {**a, "team": {"id": "T0OTHER", "name": "Elsewhere"}},
    "a_bot_token_as_the_user_token": lambda a: _user(a, access_token="xoxb-999-not-a-user-token"),
    "without_users_profile_write": lambda a: _user(a, scope="users.profile:read,dnd:write"),
    "without_a_user_token": lambda a: _user(a, access_token=None),
    "an_enterprise_install": lambda a: {
        **a,
        "team": None,
        "is_enterprise_install": True,
        "enterprise": {"id": "E0ORG", "name": "Org"},
    },
}


@pytest.mark.parametrize("answer", list(REFUSED_ANSWERS))
def test_a_slack_answer_timebot_cannot_use_gets_not_connected_a_4xx_and_stores_nothing(
    answer: str, bot: Deployed, slack: SlackStandIn, browser: httpx.Client, tmp_path: Path
) -> None:
    slack.user_side.answer_as = REFUSED_ANSWERS[answer]
    before = count(tmp_path, "slack_user_token")
    page = consent(bot, browser)
    assert 400 <= page.status_code < 500 and "Not connected" in page.text, (page.status_code, page.text)
    assert count(tmp_path, "slack_user_token") == before
    clean_log(bot)


def test_a_good_answer_still_connects(bot: Deployed, browser: httpx.Client, tmp_path: Path) -> None:
    page = consent(bot, browser)
    assert page.status_code == 200 and "Done" in page.text
    assert count(tmp_path, "slack_user_token") == 1  # Ada's, whoever consented before


def test_anonymous_starts_store_nothing(bot: Deployed, browser: httpx.Client, tmp_path: Path) -> None:
    before = count(tmp_path, "oauth_state")
    for _ in range(2000):
        assert browser.get(f"{bot.url}/slack/oauth/start").status_code == 302
    assert count(tmp_path, "oauth_state") == before
    clean_log(bot)


def test_a_used_state_is_remembered_once_and_refused_again(
    bot: Deployed, browser: httpx.Client, tmp_path: Path
) -> None:
    used = count(tmp_path, "oauth_state")
    back = consent(bot, browser)
    assert back.status_code == 200
    assert count(tmp_path, "oauth_state") == used + 1
    state = parse_qs(urlsplit(str(back.request.url)).query)["state"][0]
    again = browser.get(str(back.request.url), headers={"Cookie": f"slack-app-oauth-state={state}"})
    assert again.status_code == 401 and "already used or has expired" in again.text
    assert count(tmp_path, "oauth_state") == used + 1


def test_a_forged_state_is_refused(bot: Deployed, browser: httpx.Client) -> None:
    start = browser.get(f"{bot.url}/slack/oauth/start")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    nonce, expires, mac = state.split(".")
    forged = f"{nonce}.{int(expires) + 86400}.{mac}"  # a longer life under the same signature
    page = browser.get(
        f"{bot.url}/slack/oauth_redirect?code=x&state={forged}", headers={"Cookie": f"slack-app-oauth-state={forged}"}
    )
    assert page.status_code == 401 and "Not connected" in page.text


def test_the_callbacks_error_cannot_write_a_log_line_of_its_own(bot: Deployed, browser: httpx.Client) -> None:
    page = browser.get(
        f"{bot.url}/slack/oauth_redirect",
        params={"error": "access_denied\r\n2026-12-04 INFO bot.usecases.admins: U0EVE is now an admin"},
    )
    assert page.status_code < 500 and "Not connected" in page.text
    log = clean_log(bot)
    assert not [line for line in log.splitlines() if line.startswith("2026-12-04 INFO bot.usecases.admins")]


def test_the_oauth_code_is_never_logged_when_its_exchange_fails(bot: Deployed, browser: httpx.Client) -> None:
    start = browser.get(f"{bot.url}/slack/oauth/start")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    page = browser.get(
        f"{bot.url}/slack/oauth_redirect",
        params={"code": "CODE-SECRET-4711", "state": state},
        headers=state_cookie(start),
    )
    assert page.status_code == 401 and "Not connected" in page.text
    log = clean_log(bot)
    assert "invalid_code" in log and "CODE-SECRET-4711" not in log
