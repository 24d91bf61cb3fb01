"""The TimeClock connector against the simulator: the contract's signing, errors and limits."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import httpx
import pytest

from bot.domain import LeaveRequest, VendorUser
from bot.errors import VendorAuthError, VendorRejected
from bot.vendors.http import HttpPolicy
from bot.vendors.timeclock import TimeClock, TimeClockSettings, sign
from sandbox.server import Request, Response, SimServer
from sandbox.timeclock import TimeClockSim
from tests.conftest import timeclock_vendor


def user(sim: TimeClockSim, user_id: int = 1) -> VendorUser:
    return VendorUser(str(user_id), sim.users[user_id].api_key)


def test_the_token_matches_the_contracts_worked_example() -> None:
    assert sign("1", "apikey", 1700000000) == "1:1700000000:1be067c3f04f8be75b1dfe2fecff9d5b2b143fad"
    assert sign("1", "goBnoSjSSToUTXv744iV", 1547212119).endswith("a4b93b5610a2d8431fd14639ecf1be9d32cffc10")


def test_the_simulator_rejects_a_missing_header_with_401_and_a_bearer_challenge(tc_server: SimServer) -> None:
    r = httpx.get(f"{tc_server.base_url}/api/sessions")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "token_for",
    [
        lambda key, now: sign("1", key, now - 61),  # stale
        lambda key, now: sign("1", key, now + 65),  # from the future (margin: time moves on)
        lambda key, now: sign("1", key + "x", now),  # wrong key
        lambda key, now: sign("1", key, now).upper().replace("BEARER", "Bearer"),  # uppercase checksum
        lambda key, now: f"1:{now}",  # malformed
    ],
    ids=["stale", "future", "wrong-key", "uppercase", "malformed"],
)
def test_the_simulator_rejects_bad_tokens_with_403_invalid_token(
    tc_sim: TimeClockSim, tc_server: SimServer, token_for
) -> None:
    token = token_for(tc_sim.users[1].api_key, int(time.time()))
    r = httpx.get(f"{tc_server.base_url}/api/sessions", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert r.json() == {"name": "Forbidden", "message": "Invalid token provided", "code": 0, "status": 403}


def test_a_timestamp_exactly_sixty_seconds_old_is_still_accepted(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    now = int(time.time())
    tc_sim.clock = lambda: now  # the simulator's clock stands still: the token is 60 s old, not 60 and a bit
    header = tc_sim.sign(1, at=now - 60)
    assert httpx.get(f"{tc_server.base_url}/api/sessions", headers={"Authorization": header}).status_code == 200


def test_each_request_is_signed_afresh(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    vendor = timeclock_vendor(tc_server.base_url)
    vendor.current_session(user(tc_sim))
    vendor.clock_in(user(tc_sim))
    assert tc_sim.accepted_auth == 2 and tc_sim.rejected_auth == 0


def test_clock_skew_is_corrected_from_the_servers_date_header(tc_server: SimServer, tc_sim: TimeClockSim) -> None:
    tc_sim.clock = lambda: time.time() + 600  # the server runs ten minutes ahead
    vendor = timeclock_vendor(tc_server.base_url)
    assert vendor.current_session(user(tc_sim)) is None
    assert tc_sim.rejected_auth == 1
    vendor.current_session(user(tc_sim))
    assert tc_sim.rejected_auth == 1  # learnt once, then every signature is on time
    assert 590 < vendor.skew < 610


def test_a_revoked_key_is_reported_as_such(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    old = user(tc_sim)
    tc_sim.users[1].api_key = None
    with pytest.raises(VendorAuthError, match="changed or revoked"):
        timeclock_vendor(tc_server.base_url).current_session(old)


def test_the_pin_login_returns_the_users_id_key_and_email(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    linked, person = timeclock_vendor(tc_server.base_url).link({"pin": f"1{tc_sim.users[1].pin}"})
    assert (linked.vendor_user_id, linked.secret, person.email) == ("1", tc_sim.users[1].api_key, "ada@example.com")


def test_a_person_without_api_access_is_told_to_grant_it(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    tc_sim.users[1].api_key = None
    with pytest.raises(VendorRejected, match="Grant yourself API access"):
        timeclock_vendor(tc_server.base_url).link({"pin": f"1{tc_sim.users[1].pin}"})


def test_another_persons_session_is_not_found(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    vendor = timeclock_vendor(tc_server.base_url)
    vendor.clock_in(user(tc_sim, 2))
    r = httpx.get(f"{tc_server.base_url}/api/sessions/1", headers={"Authorization": tc_sim.sign(1)})
    assert r.status_code == 404


def test_off_time_dates_are_sent_as_iso_dates(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    start = date.today() + timedelta(days=30)
    absence = timeclock_vendor(tc_server.base_url).request_leave(
        user(tc_sim), LeaveRequest(start, start + timedelta(days=1), "1")
    )
    assert (absence.start, absence.end, absence.status) == (start, start + timedelta(days=1), "pending")
    assert tc_server.requests[-1].json()["startAt"] == start.isoformat()


def test_whos_off_asks_each_linked_person_with_their_own_key_concurrently_but_bounded(tc_sim: TimeClockSim) -> None:
    in_flight = peak = 0
    lock = threading.Lock()

    def counting(request: Request) -> Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.05)
        try:
            return tc_sim.handle(request)
        finally:
            with lock:
                in_flight -= 1

    people = [tc_sim.add_user(100 + i, f"P{i}", f"p{i}@example.com") for i in range(30)]
    day = date.today() + timedelta(days=3)
    for p in people[:5]:
        tc_sim.add_off_time(p.id, day, day)
    with SimServer(counting) as server:
        vendor = timeclock_vendor(server.base_url)
        found = vendor.absences(day, day, [VendorUser(str(p.id), p.api_key) for p in people])
    assert sorted(a.vendor_user_id for a in found) == sorted(str(p.id) for p in people[:5])
    assert len(server.requests) == 30
    assert 1 < peak <= vendor.settings.concurrency


def test_company_wide_reads_move_on_from_a_key_that_was_revoked(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    vendor = timeclock_vendor(tc_server.base_url)
    holiday = date.today() + timedelta(days=10)
    tc_sim.add_holiday(holiday)
    tc_sim.fetch_holidays(holiday.year)
    vendor.current_session(user(tc_sim, 1))  # Ada's key is the first that worked
    tc_sim.users[1].api_key = "revoked-and-replaced"
    with pytest.raises(VendorAuthError):
        vendor.holidays(holiday, holiday)
    vendor.current_session(user(tc_sim, 3))  # Alan's key still works
    assert [h.day for h in vendor.holidays(holiday, holiday)] == [holiday]


def test_a_leave_type_timeclock_does_not_offer_is_refused_on_the_field_not_booked_as_vacation(
    tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    vendor = timeclock_vendor(tc_server.base_url)
    start = date.today() + timedelta(days=30)
    with pytest.raises(VendorRejected) as refused:
        vendor.request_leave(user(tc_sim), LeaveRequest(start, start, "whosoff-77"))
    assert refused.value.field == "leave_type" and "out of date" in refused.value.user_message
    assert not tc_sim.off_times


# --- sessions: filters and pages ------------------------------------------------------------------


def test_the_simulator_filters_sessions_on_clock_in_and_pages_them_as_documented(
    tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    base = int(time.time()) - 100 * 3600
    for i in range(30):
        tc_sim.add_session(1, base + i * 3600, base + i * 3600 + 1800)
    query = {
        "filter[clockIn][gte]": base + 5 * 3600,
        "filter[clockIn][lt]": base + 28 * 3600,
        "per-page": 10,
        "page": 2,
    }
    response = httpx.get(f"{tc_server.base_url}/api/sessions", params=query, headers={"Authorization": tc_sim.sign(1)})
    assert response.status_code == 200
    assert [r["clockIn"] for r in response.json()] == [base + i * 3600 for i in range(15, 25)]
    assert response.headers["X-Pagination-Total-Count"] == "23"
    assert response.headers["X-Pagination-Page-Count"] == "3"
    assert "rel=next" in response.headers["Link"]


def test_the_simulator_refuses_a_filter_on_an_attribute_the_api_does_not_filter(
    tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    for params in ({"filter[userId]": "2"}, {"filter[clockIn][gte]": "yesterday"}):
        response = httpx.get(
            f"{tc_server.base_url}/api/sessions", params=params, headers={"Authorization": tc_sim.sign(1)}
        )
        assert response.status_code == 422
        assert response.json()[0]["field"] == "filter"


def test_sessions_reads_every_page_of_the_range(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    from datetime import UTC, datetime

    base = int(time.time()) - 100 * 3600
    for i in range(60):
        tc_sim.add_session(1, base + i * 3600, base + i * 3600 + 1800)
    found = timeclock_vendor(tc_server.base_url).sessions(
        user(tc_sim), datetime.fromtimestamp(base + 2 * 3600, UTC), datetime.fromtimestamp(base + 58 * 3600, UTC)
    )
    assert len(found) == 56


# --- holidays, approval link, approved null ------------------------------------------------------


def service_vendor(sim: TimeClockSim, base_url: str) -> TimeClock:
    settings = TimeClockSettings(
        _env_file=None,
        base_url=base_url,
        service_user_id="1",  # type: ignore[call-arg]
        service_api_key=sim.users[1].api_key,
    )
    return TimeClock(settings, HttpPolicy())


def test_a_year_without_holidays_is_fetched_with_the_service_key_then_read_again(
    tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    holiday = date.today() + timedelta(days=10)
    tc_sim.add_holiday(holiday)
    found = service_vendor(tc_sim, tc_server.base_url).holidays(holiday, holiday)
    assert [h.day for h in found] == [holiday]
    assert tc_sim.fetched == [holiday.year]


def test_a_year_is_fetched_once_per_process_even_when_the_server_finds_nothing(
    tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    vendor = service_vendor(tc_sim, tc_server.base_url)
    day = date(2031, 3, 3)
    assert vendor.holidays(day, day) == []
    assert vendor.holidays(day, day) == []
    assert tc_sim.fetched == [2031]


def test_a_year_that_has_holidays_is_not_fetched(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    holiday = date(2031, 5, 1)
    tc_sim.add_holiday(holiday)
    tc_sim.fetch_holidays(2031)
    assert [h.day for h in service_vendor(tc_sim, tc_server.base_url).holidays(holiday, holiday)] == [holiday]
    assert tc_sim.fetched == []


def test_without_a_service_key_holidays_are_only_read(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    holiday = date.today() + timedelta(days=10)
    tc_sim.add_holiday(holiday)
    vendor = timeclock_vendor(tc_server.base_url)
    vendor.current_session(user(tc_sim, 2))  # a person's key is known, but fetching is a write for the operator
    assert vendor.holidays(holiday, holiday) == []
    assert tc_sim.fetched == []


def test_the_approval_link_opens_the_leaves_own_month(tc_sim: TimeClockSim, tc_server: SimServer) -> None:
    start = date(2031, 4, 28)
    absence = timeclock_vendor(tc_server.base_url).request_leave(user(tc_sim), LeaveRequest(start, start, "1"))
    assert timeclock_vendor(tc_server.base_url).approval_url(absence) == f"{tc_server.base_url}/admin/off/4/2031"


def test_a_created_off_time_answers_approved_null_and_reads_as_pending(
    tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    start = date.today() + timedelta(days=40)
    absence = timeclock_vendor(tc_server.base_url).request_leave(user(tc_sim), LeaveRequest(start, start, "1"))
    assert tc_server.requests[-1].path == "/api/off-times"
    created = httpx.get(
        f"{tc_server.base_url}/api/off-times/{absence.absence_id}", headers={"Authorization": tc_sim.sign(1)}
    ).json()
    assert absence.status == "pending" and created["approved"] == 0
