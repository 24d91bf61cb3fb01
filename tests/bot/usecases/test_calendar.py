"""Calendar feeds: secret iCal URLs for "my leave" and a scope, read back as a calendar app would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.runtime.web import HttpServer, OAuthRoutes
from bot.usecases.directory import refresh_directory
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import company, whosoff_vendor
from tests.bot.usecases.calendar_support import (
    PUBLIC_URL,
    absences_in_feed,
    absences_in_report,
    book_company_leave,
    fetch,
    holidays_in_feed,
    links,
)
from tests.conftest import BotUnderTest, make_settings, start_bot
from tests.support import TEAM, FakeClock


@pytest.fixture
def sim() -> WhosOffSim:
    return company()


@pytest.fixture
def sim_server(sim: WhosOffSim) -> Iterator[SimServer]:
    with SimServer(sim.handle, name="whosoff") as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    import time

    return FakeClock(time.time())


@pytest.fixture
def bot(tmp_path: Path, slack: SlackStandIn, sim_server: SimServer, clock: FakeClock) -> Iterator[BotUnderTest]:
    settings = make_settings(tmp_path, slack, TIMEBOT_PUBLIC_URL=PUBLIC_URL, TIMEBOT_SCHEDULER=False)
    under_test = start_bot(settings, slack, {"whosoff": whosoff_vendor(sim_server)}, clock=clock)
    yield under_test
    under_test.close()


def test_a_scope_feed_read_back_gives_the_same_absences_as_whosoff_for_the_range(bot, slack, sim) -> None:
    start, end = book_company_leave(sim)
    refresh_directory(
        bot.runtime.services.store, bot.runtime.services.people.slack
    )  # everyone's zone, as housekeeping reads it
    _, everyone = links(bot, slack, "everyone")
    response = fetch(bot, everyone)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    services = bot.runtime.services
    report = services.whos_off.whos_off(TEAM, start, end).masked(
        show_kind=True, sick=services.settings.sick_leave, viewer="U0ADA", admin=False
    )
    holidays = {h.day for h in report.holidays}
    expected = absences_in_report(report)
    assert any(o.portion.value != "full" for o in expected)  # half days are in the comparison
    assert absences_in_feed(response.text, start, end, holidays) == expected


def test_sick_leave_of_someone_else_reads_off_but_the_viewers_own_keeps_its_kind(bot, slack, sim) -> None:
    start, end = book_company_leave(sim)
    mine, everyone = links(bot, slack, "everyone")
    others = absences_in_feed(fetch(bot, everyone).text, start, end, set())
    assert {o.kind for o in others if o.name == "Grace Hopper"} == {"off"}
    own = absences_in_feed(fetch(bot, mine).text, start, end, set())
    assert {o.name for o in own} == {"Ada Lovelace"}
    assert "Sickness" in {o.kind for o in own}


def test_public_holidays_are_all_day_events_in_the_feed(bot, slack, sim) -> None:
    start, _ = book_company_leave(sim)
    [mine] = links(bot, slack)
    assert holidays_in_feed(fetch(bot, mine).text) == {start + timedelta(days=10): "Public holiday: Founders' Day"}


def test_asking_again_gives_the_same_link(bot, slack) -> None:
    assert links(bot, slack) == links(bot, slack)


def test_a_revoked_token_gets_404(bot, slack) -> None:
    [mine] = links(bot, slack)
    assert fetch(bot, mine).status_code == 200
    _, key = bot.driver.command("/timebot", "calendar reset")
    [reply] = slack.wait_response(key)
    assert "revoked" in reply["text"]
    assert fetch(bot, mine).status_code == 404
    assert links(bot, slack) != [mine]


def test_an_unknown_token_gets_404(bot) -> None:
    assert fetch(bot, PUBLIC_URL + "/calendar/" + "A" * 43 + ".ics").status_code == 404


def test_tokens_are_stored_hashed(bot, slack) -> None:
    [mine] = links(bot, slack)
    token = mine.rsplit("/", 1)[1].removesuffix(".ics")
    from storage.calendar import CalendarStore

    row = CalendarStore(bot.runtime.engine).feed(TEAM, "U0ADA", "mine")
    assert row is not None and token not in (row.token_hash, row.salt, row.body)


def test_polls_within_five_minutes_cost_no_vendor_read_and_an_unchanged_feed_gets_304(
    bot, slack, sim_server, clock
) -> None:
    [mine] = links(bot, slack)
    first = fetch(bot, mine)
    calls = len(sim_server.requests)
    again = fetch(bot, mine, **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    for _ in range(10):
        assert fetch(bot, mine).text == first.text
    assert len(sim_server.requests) == calls
    since = fetch(bot, mine, **{"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    clock.advance(301)
    assert fetch(bot, mine, **{"If-None-Match": first.headers["etag"]}).status_code == 304  # rebuilt, unchanged
    assert len(sim_server.requests) > calls


def test_a_channel_feed_is_refused_to_someone_outside_the_channel(bot, slack) -> None:
    slack.add_channel("C0SECRET", "secret", ["U0GRACE"], is_private=True)
    _, key = bot.driver.command("/timebot", "calendar <#C0SECRET|secret>", user="U0ALAN")
    [reply] = slack.wait_response(key)
    assert "Only members of that channel" in reply["text"]


def test_without_a_public_url_the_person_is_told_what_an_admin_must_set(tmp_path, slack, sim_server) -> None:
    settings = make_settings(tmp_path, slack, TIMEBOT_SCHEDULER=False)
    under_test = start_bot(settings, slack, {"whosoff": whosoff_vendor(sim_server)})
    try:
        _, key = under_test.driver.command("/timebot", "calendar")
        [reply] = slack.wait_response(key)
        assert "TIMEBOT_PUBLIC_URL" in reply["text"]
    finally:
        under_test.close()


def test_in_socket_mode_feeds_are_served_beside_healthz(bot, slack) -> None:
    import httpx

    [mine] = links(bot, slack)
    routes = HttpServer(
        OAuthRoutes(None, bot.runtime.engine, calendar=bot.runtime.calendar), "127.0.0.1", 0, threads=2
    ).start()
    try:
        path = mine.removeprefix(PUBLIC_URL)
        assert httpx.get(f"http://127.0.0.1:{routes.port}{path}").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{routes.port}/healthz").status_code == 200
    finally:
        routes.stop()


def test_after_a_new_secret_key_asking_again_gives_a_working_link_and_the_old_one_stops(bot, slack) -> None:
    [old] = links(bot, slack)
    calendars = bot.runtime.services.calendars
    calendars.secret = b"another-secret-key"  # as after TIMEBOT_SECRET_KEY is rotated and the bot restarted
    [new] = links(bot, slack)
    assert new != old
    assert fetch(bot, new).status_code == 200
    assert fetch(bot, old).status_code == 404


def test_a_channel_feed_stops_when_its_owner_leaves_the_channel(bot, slack, clock) -> None:
    slack.add_channel("C0DESIGN", "design", ["U0ADA", "U0ALAN"])
    _, design = links(bot, slack, "<#C0DESIGN|design>")
    assert fetch(bot, design).status_code == 200
    slack.channels["C0DESIGN"].members.remove("U0ADA")
    clock.advance(301)  # the next poll rebuilds it
    assert fetch(bot, design).status_code == 404
