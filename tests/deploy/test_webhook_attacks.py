"""``POST /webhooks/whosoff`` under attack, through ``timebot run``: signed bodies sent again, late
or out of order, and headers and bodies WhosOff would never send."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.deploy.attacks import (
    base_env,
    clean_log,
    deliver,
    dm_texts,
    tracked,
    whosoff_company,
    whosoff_env,
    whosoff_event,
)
from tests.deploy.harness import Deployed, start
from tests.deploy.stand_ins import one_deployment_per_module
from tests.support import eventually, leave_values, next_monday

# One deployment for the module (a process start is most of each test's time); each test asks for
# leave in its own week, so requests don't overlap, and counts only the news that came after it.
_weeks = itertools.count(1)
News = Callable[[], list[str]]


module_tmp_path, module_slack = one_deployment_per_module("webhook")


@pytest.fixture(scope="module")
def wo() -> WhosOffSim:
    return whosoff_company()


@pytest.fixture(scope="module")
def bot(tmp_path: Path, slack: SlackStandIn, wo: WhosOffSim) -> Iterator[Deployed]:
    with SimServer(wo.handle, name="whosoff") as server:
        deployed = start(base_env(slack, tmp_path, Fernet.generate_key().decode(), **whosoff_env(server)), tmp_path)
        yield deployed
        deployed.terminate()


def ada_asks(bot: Deployed, slack: SlackStandIn, wo: WhosOffSim) -> int:
    """Ada requests leave through Timebot; returns its id once Grace (her approver) was asked."""
    monday = next_monday() + timedelta(weeks=next(_weeks))
    before, asked = set(wo.leave), len(dm_texts(slack, "U0GRACE"))
    response = bot.driver(slack).submit_view(
        ids.LEAVE_CALLBACK,
        leave_values(monday, monday + timedelta(days=1), leave_type=str(next(iter(wo.leave_types)))),
    )
    assert response.status_code == 200
    eventually(lambda: len(set(wo.leave) - before) == 1, timeout=20)
    slack.wait_for(lambda: len(dm_texts(slack, "U0GRACE")) > asked, timeout=20)
    return (set(wo.leave) - before).pop()


@pytest.fixture
def approved_news(slack: SlackStandIn) -> News:
    """Ada's DMs saying "approved" since the test began."""
    seen = len(dm_texts(slack, "U0ADA"))
    return lambda: [t for t in dm_texts(slack, "U0ADA")[seen:] if "approved" in t]


def now() -> datetime:
    return datetime.now(UTC)


def test_a_replayed_delivery_does_not_rewind_the_decision(
    bot: Deployed, slack: SlackStandIn, wo: WhosOffSim, tmp_path: Path, approved_news: News
) -> None:
    leave = ada_asks(bot, slack, wo)
    approved = whosoff_event("101", leave, "approved", now() - timedelta(minutes=2))
    assert deliver(bot, approved).status_code == 200
    assert (
        deliver(
            bot, whosoff_event("102", leave, "declined", now() - timedelta(minutes=1), approver="Eve Admin")
        ).status_code
        == 200
    )
    assert tracked(tmp_path, leave) == ("denied", "Eve Admin")
    assert deliver(bot, approved).status_code == 200  # the same signed body again
    assert tracked(tmp_path, leave) == ("denied", "Eve Admin")
    assert len(approved_news()) == 1
    clean_log(bot)


def test_a_status_already_announced_is_not_recorded_again(
    bot: Deployed, slack: SlackStandIn, wo: WhosOffSim, tmp_path: Path
) -> None:
    leave = ada_asks(bot, slack, wo)
    deliver(bot, whosoff_event("201", leave, "approved", now() - timedelta(minutes=2)))
    deliver(bot, whosoff_event("202", leave, "declined", now() - timedelta(minutes=1), approver="Eve Admin"))
    # a new delivery id and a later time: only the held claim can keep it from rewinding the row
    deliver(bot, whosoff_event("203", leave, "approved", now(), approver="Mallory"))
    assert tracked(tmp_path, leave) == ("denied", "Eve Admin")


def test_a_decision_older_than_the_recorded_one_is_ignored(
    bot: Deployed, slack: SlackStandIn, wo: WhosOffSim, tmp_path: Path, approved_news: News
) -> None:
    leave = ada_asks(bot, slack, wo)
    deliver(bot, whosoff_event("301", leave, "declined", now() - timedelta(minutes=1), approver="Eve Admin"))
    late = deliver(bot, whosoff_event("302", leave, "approved", now() - timedelta(minutes=30)))
    assert late.status_code == 200
    assert tracked(tmp_path, leave) == ("denied", "Eve Admin")
    assert approved_news() == []


def test_a_stale_delivery_is_refused(
    bot: Deployed, slack: SlackStandIn, wo: WhosOffSim, tmp_path: Path, approved_news: News
) -> None:
    leave = ada_asks(bot, slack, wo)
    stale = deliver(bot, whosoff_event("401", leave, "approved", now() - timedelta(days=3)))
    assert stale.status_code == 400
    assert tracked(tmp_path, leave) == ("pending", "")
    assert approved_news() == []


def test_a_fresh_signed_decision_is_still_announced(
    bot: Deployed, slack: SlackStandIn, wo: WhosOffSim, tmp_path: Path, approved_news: News
) -> None:
    leave = ada_asks(bot, slack, wo)
    assert deliver(bot, whosoff_event("501", leave, "approved", now())).status_code == 200
    assert tracked(tmp_path, leave) == ("approved", "Grace Hopper")
    assert len(approved_news()) == 1


def test_a_non_ascii_signature_gets_401_not_a_traceback(bot: Deployed) -> None:
    body = whosoff_event("601", 1, "approved", now())
    assert deliver(bot, body, signature="sha256=caf\u00e9".encode()).status_code == 401
    assert deliver(bot, body, signature=("\u00ff" * 64).encode("latin-1")).status_code == 401
    clean_log(bot)


def test_a_signed_body_nested_too_deep_gets_400(bot: Deployed) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    assert deliver(bot, body).status_code == 400
    assert deliver(bot, b'{"a":' * 100_000 + b"1" + b"}" * 100_000).status_code == 400
    clean_log(bot)
