"""Bolt and slack-sdk read some environment variables by themselves; as deployed, those change
nothing Timebot didn't decide. SLACK_CLIENT_ID and SLACK_CLIENT_SECRET in the environment (as the
status consent needs them) once made Bolt drop the bot token and answer every command with
"your installation with this app is no longer available"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.deploy.harness import Deployed, slack_env, start
from tests.deploy.stand_ins import Running, command, link_timeclock, running, wait_answer

CLIENT_ID = "4242.1717"
CLIENT_SECRET = "deploy-client-secret"
PUBLIC_URL = "https://timebot.example.test"  # behind a proxy: the test's browser maps it to the process
ADA = "U0ADA"

# Values Bolt would read for itself and Timebot never sets: none of them may matter.
GARBAGE = {
    "SLACK_SCOPES": "admin,channels:history",
    "SLACK_USER_SCOPES": "admin",
    "SLACK_REDIRECT_URI": "https://evil.invalid/back",
    "SLACK_INSTALL_PATH": "/evil/install",
    "SLACK_REDIRECT_URI_PATH": "/evil/back",
    "SLACK_VERIFICATION_TOKEN": "not-a-token",
}


@pytest.fixture
def timeclock() -> Iterator[Running]:
    with running("timeclock", TimeClockSim.demo()) as tc:
        yield tc


def consent_env(slack: SlackStandIn, tmp_path: Path, secret_key: str, timeclock: Running) -> dict[str, str]:
    slack.user_side.register_app(CLIENT_ID, CLIENT_SECRET, [PUBLIC_URL + "/slack/oauth_redirect"])
    return {
        **slack_env(slack, tmp_path, secret_key),
        **timeclock.env,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "TIMEBOT_PUBLIC_URL": PUBLIC_URL,
    }


def behind_proxy(bot: Deployed, url: str) -> str:
    """What the proxy in front of the process does with a URL on the public address."""
    assert url.startswith(PUBLIC_URL), url
    return bot.url + url[len(PUBLIC_URL) :]


def connect_url(bot: Deployed, slack: SlackStandIn) -> str:
    before = len(slack.calls_to("views.publish"))
    bot.driver(slack).event({"type": "app_home_opened", "user": ADA, "tab": "home"})
    view = slack.wait_call("views.publish", before + 1)[-1].args["view"]
    urls = [e["url"] for b in view["blocks"] for e in b.get("elements", []) if e.get("action_id") == "status_connect"]
    assert urls, view
    return str(urls[0])


def clock_in_works(bot: Deployed, slack: SlackStandIn, timeclock: Running) -> None:
    driver = bot.driver(slack)
    link_timeclock(driver, slack, f"1{timeclock.sim.users[1].pin}")
    _, key = command(driver, "/clockin")
    wait_answer(slack, key, "Clocked in")
    assert len(timeclock.sim.sessions) == 1


def test_client_credentials_in_the_environment_leave_commands_and_the_status_consent_working(
    tmp_path: Path, slack: SlackStandIn, timeclock: Running, secret_key: str
) -> None:
    today = datetime.now(ZoneInfo("Europe/London")).date()
    timeclock.sim.add_off_time(1, today, today)["approved"] = 1  # Ada is on leave today
    bot = start(consent_env(slack, tmp_path, secret_key, timeclock), tmp_path)
    try:
        clock_in_works(bot, slack, timeclock)

        browser = httpx.Client(timeout=10)
        start_page = browser.get(behind_proxy(bot, connect_url(bot, slack)))
        assert start_page.status_code == 302, start_page.text
        slack.user_side.approver = ADA
        slack_page = browser.get(start_page.headers["location"])
        assert slack_page.status_code == 302, slack_page.text
        cookie = start_page.headers["set-cookie"].split(";", 1)[0]  # Secure: sent by hand over loopback
        back = browser.get(behind_proxy(bot, slack_page.headers["location"]), headers={"Cookie": cookie})
        assert back.status_code == 200 and "leave in your Slack status" in back.text

        # set through Ada's own token: the stand-in refuses the bot token for users.profile.set
        slack.wait_for(lambda: slack.user_side.status(ADA).emoji == ":palm_tree:", timeout=20)
        assert slack.user_side.status(ADA).text.startswith("On leave")
        assert "installation" not in bot.log and "will be ignored" not in bot.log
    finally:
        assert bot.terminate() == 0, bot.log[-2000:]


def test_what_bolt_would_read_for_itself_changes_nothing(
    tmp_path: Path, slack: SlackStandIn, timeclock: Running, secret_key: str
) -> None:
    bot = start({**consent_env(slack, tmp_path, secret_key, timeclock), **GARBAGE}, tmp_path)
    try:
        clock_in_works(bot, slack, timeclock)
        start_page = httpx.get(behind_proxy(bot, connect_url(bot, slack)), timeout=10)
        asked = parse_qs(urlsplit(start_page.headers["location"]).query)
        assert asked["user_scope"] == ["users.profile:read,users.profile:write,dnd:write"]
        assert asked.get("scope", [""]) == [""]
        assert asked["redirect_uri"] == [PUBLIC_URL + "/slack/oauth_redirect"]
        assert httpx.get(bot.url + "/evil/install", timeout=10).status_code == 404
        assert httpx.get(bot.url + "/slack/install", timeout=10).status_code == 404
    finally:
        assert bot.terminate() == 0, bot.log[-2000:]


def test_client_credentials_without_a_public_url_leave_commands_working(
    tmp_path: Path, slack: SlackStandIn, timeclock: Running, secret_key: str
) -> None:
    env = {**consent_env(slack, tmp_path, secret_key, timeclock), **GARBAGE}
    del env["TIMEBOT_PUBLIC_URL"]
    bot = start(env, tmp_path)
    try:
        clock_in_works(bot, slack, timeclock)
    finally:
        assert bot.terminate() == 0, bot.log[-2000:]
