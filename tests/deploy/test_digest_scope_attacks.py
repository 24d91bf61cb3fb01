"""Digest scopes under attack, through ``timebot run`` on WhosOff: a department or group named with
Slack's control characters (``<!channel>``) is shown as text wherever Timebot echoes it, and a
department WhosOff doesn't have is refused when the digest is added."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from tests.deploy.attacks import base_env, clean_log, count, whosoff_company, whosoff_env
from tests.deploy.harness import Deployed, start
from tests.deploy.stand_ins import one_deployment_per_module

PING = "<!channel>"  # what Slack puts in a command's text when someone types @channel
ESCAPED = "&lt;!channel&gt;"


# One deployment for the module (a process start is most of each test's time).


module_tmp_path, module_slack = one_deployment_per_module("digests")


@pytest.fixture(scope="module")
def bot(tmp_path: Path, slack: SlackStandIn) -> Iterator[Deployed]:
    wo = whosoff_company()
    wo.add_user("Dee Partment", "dee@example.com", department=PING)  # a vendor's name is anyone's text
    with SimServer(wo.handle, name="whosoff") as server:
        env = base_env(slack, tmp_path, Fernet.generate_key().decode(), TIMEBOT_ADMINS="U0ADA", **whosoff_env(server))
        deployed = start(env, tmp_path)
        yield deployed
        deployed.terminate()


def timebot(bot: Deployed, slack: SlackStandIn, text: str) -> str:
    """``/timebot <text>`` by Ada (an admin); the answer as posted, all of it."""
    response, key = bot.driver(slack).command("/timebot", text)
    assert response.status_code == 200
    answers = [response.text] if response.text.strip() else []
    if not answers:
        answers = [json.dumps(m) for m in slack.wait_response(key, timeout=20)]
    return "\n".join(answers)


def test_a_department_named_like_a_ping_is_escaped_in_add_list_and_the_digest(
    bot: Deployed, slack: SlackStandIn
) -> None:
    added = timebot(bot, slack, f"digest add <#C0TEAM|team> 09:00 mon-fri dept={PING}")
    listed = timebot(bot, slack, "digest list")
    posted = timebot(bot, slack, "digest preview <#C0TEAM|team>")
    for answer in (added, listed, posted):
        assert PING not in answer, answer
        assert f"department {ESCAPED}" in answer, answer
    clean_log(bot)


def test_a_group_label_is_escaped_when_echoed(bot: Deployed, slack: SlackStandIn) -> None:
    added = timebot(bot, slack, "digest add <#C0TEAM|team> 09:00 mon-fri <!subteam^S0EVE|@eve<!here&>")
    assert "<!here" not in added and "&lt;!here&amp;" in added, added


def test_a_department_the_vendor_does_not_have_is_refused_at_add(
    bot: Deployed, slack: SlackStandIn, tmp_path: Path
) -> None:
    before = count(tmp_path, "digest_subscription")
    answer = timebot(bot, slack, "digest add <#C0OTHER|other> 09:00 mon-fri dept=Nowhere")
    assert "no department called" in answer and "Nowhere" in answer
    assert count(tmp_path, "digest_subscription") == before
