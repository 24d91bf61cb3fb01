"""Consent to show leave in the Slack status, end to end over HTTP: Home's toggle, Bolt's OAuth
flow against the Slack stand-in's authorize page and oauth.v2.access, and the stored token."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from storage.models import SlackUserToken
from tests.bot.usecases.away_status_support import (
    ADA,
    StatusWorld,
    consent,
    cookie_from,
    home_connect_url,
    start_world,
    state_of,
)


@pytest.fixture
def world(tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer) -> Iterator[StatusWorld]:
    w = start_world(tmp_path, slack, tc_sim, tc_server)
    yield w
    w.close()


def granted_tokens(slack: SlackStandIn) -> list[str]:
    return list(slack.user_side.tokens)


def test_home_toggle_to_callback_stores_the_user_token_encrypted_and_never_logs_it(
    world: StatusWorld, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.cli.main import _no_slack_debug

    caplog.set_level(logging.DEBUG)  # `timebot run --log-level DEBUG`: our loggers all, Slack's from INFO
    caplog.handler.addFilter(_no_slack_debug)
    page = consent(world)
    assert page.status_code == 200 and "leave in your Slack status" in page.text
    [token] = granted_tokens(world.slack)
    with Session(world.bot.runtime.engine) as s:
        row = s.exec(select(SlackUserToken)).one()
    assert (row.slack_user_id, row.enabled) == (ADA, True)
    assert token not in row.token_enc and world.status.box.decrypt(row.token_enc) == token
    assert token.encode() not in (tmp_path / "timebot.db").read_bytes()
    assert token not in caplog.text
    assert world.status.connected("T0DEMO", ADA) == "on"


def test_the_consent_asks_slack_only_for_the_user_scopes(world: StatusWorld) -> None:
    url = home_connect_url(world)
    assert url is not None
    location = world.browser.get(url).headers["location"]
    assert "user_scope=users.profile:read,users.profile:write,dnd:write" in location
    assert "&scope=&" in location  # no bot scopes: the bot token comes from settings


def test_a_replayed_state_is_refused(world: StatusWorld) -> None:
    callback = consent(world).request.url
    exchanges = len(world.slack.calls_to("oauth.v2.access"))
    again = world.browser.get(str(callback), headers={"Cookie": f"slack-app-oauth-state={state_of(str(callback))}"})
    assert again.status_code == 401 and "already used or has expired" in again.text
    assert len(world.slack.calls_to("oauth.v2.access")) == exchanges


def test_a_state_older_than_ten_minutes_is_refused(world: StatusWorld) -> None:
    url = home_connect_url(world)
    assert url is not None
    start = world.browser.get(url)
    slack_page = world.browser.get(start.headers["location"])
    world.clock.set(world.clock.at + timedelta(minutes=10, seconds=1))
    late = world.browser.get(slack_page.headers["location"], headers=cookie_from(start))
    assert late.status_code == 401
    assert world.slack.calls_to("oauth.v2.access") == []
    assert world.status.connected("T0DEMO", ADA) == "off"


def test_without_a_public_url_home_says_what_the_admin_must_set(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    w = start_world(tmp_path, slack, tc_sim, tc_server, TIMEBOT_PUBLIC_URL="")
    try:
        assert home_connect_url(w) is None
        view = slack.calls_to("views.publish")[-1].args["view"]
        assert "ask your Timebot admin" in str(view)  # Ada isn't an admin: no setting names for her
        assert w.browser.get(f"{w.bot.url}/slack/oauth/start").status_code == 404
    finally:
        w.close()


def test_the_manifest_asks_for_the_same_user_scopes_and_redirect_path() -> None:
    import re

    from bot.slack.oauth import REDIRECT_PATH, USER_SCOPES
    from tests.bot.digests.support import ROOT

    manifest = (ROOT / "manifest.yml").read_text()
    user = re.search(r"\n    user:\n((?:      - .+\n)+)", manifest)
    assert user is not None and re.findall(r"- (\S+)", user.group(1)) == list(USER_SCOPES)
    redirects = re.search(r"\n  redirect_urls:\n((?:    - .+\n)+)", manifest)
    assert redirects is not None
    assert [u.endswith(REDIRECT_PATH) for u in re.findall(r"- (\S+)", redirects.group(1))] == [True]
