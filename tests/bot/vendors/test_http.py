"""The per-vendor cap on requests in flight (``TIMEBOT_<VENDOR>_CONCURRENCY``), seen from the
vendor's side: a rush of clock-ins never puts more requests on a company's TimeClock at once
than the cap allows, and everyone still gets clocked in."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.conftest import BotUnderTest, make_settings, start_bot, timeclock_vendor
from tests.support import TEAM

PEOPLE = 60
CAP = 20


@pytest.fixture
def rush_bot(tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer) -> Iterator[BotUnderTest]:
    """The bot with TimeClock capped at ``CAP`` requests in flight and ``PEOPLE`` people linked."""
    settings = make_settings(tmp_path, slack, TIMEBOT_TIMECLOCK_CONCURRENCY=CAP, TIMEBOT_WORKERS=PEOPLE)
    bot = start_bot(settings, slack, {"timeclock": timeclock_vendor(tc_server.base_url, settings.http_policy)})
    services = bot.runtime.services
    for i in range(1, PEOPLE + 1):
        tc_user = 100 + i
        tc_sim.add_user(tc_user, f"Rush {i}", f"rush{i}@example.com", pin="123")
        slack.add_user(f"U0RUSH{i:03d}", f"Rush {i}", f"rush{i}@example.com", "UTC")
        services.people.link(services.people.actor(TEAM, f"U0RUSH{i:03d}"), "timeclock", {"pin": f"{tc_user}123"})
    yield bot
    bot.close()


def test_a_rush_never_has_more_requests_in_flight_at_the_vendor_than_its_cap(
    rush_bot: BotUnderTest, slack: SlackStandIn, tc_server: SimServer
) -> None:
    tc_server.faults.latency = 0.3  # each request stays in flight long enough for the rush to pile up
    tc_server.max_in_flight = 0  # count the rush only, not the links
    with ThreadPoolExecutor(max_workers=PEOPLE) as senders:
        sent = list(
            senders.map(lambda i: rush_bot.driver.command("/clockin", user=f"U0RUSH{i:03d}"), range(1, PEOPLE + 1))
        )
    assert all(response.status_code == 200 for response, _ in sent)
    keys = [key for _, key in sent]

    slack.wait_for(lambda: all(any("Clocked in" in r["text"] for r in slack.responses[k]) for k in keys), timeout=120)

    writes = [r for r in tc_server.requests if r.method == "POST" and r.path == "/api/sessions"]
    assert len(writes) == PEOPLE
    assert 1 < tc_server.max_in_flight <= CAP
