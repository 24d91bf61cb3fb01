"""SwipeClock: the connector against the simulator over real HTTP, and the simulator's auth rules
checked with hand-built tokens (raw httpx + PyJWT) so a lenient simulator can't hide a bad client."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from jwt import api_jws

from bot.domain import Action, LeaveRequest, Portion, VendorUser
from bot.errors import NotSupported, VendorAuthError, VendorRejected
from bot.vendors.base import HolidaysVendor, LeaveVendor, Vendor
from bot.vendors.http import HttpPolicy
from bot.vendors.registry import Router
from bot.vendors.swipeclock import (
    SPEC,
    SwipeClock,
    SwipeClockSettings,
    SwipeClockWithLeave,
    originating_claims,
    sign_claims,
    unverified_claims,
)
from sandbox.server import SimServer
from sandbox.swipeclock import SwipeClockSim
from tests.support import FakeClock

SITE_ID = 5543
PARTNER_ID = 1234
SITE_SECRET = "site-secret-for-tests-0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
PARTNER_SECRET = "partner-secret-for-tests-0123456789abcdefghijklmnopqrstuvwxyzAB"
TOKEN_TTL = 600
MONDAY_9AM = datetime(2024, 5, 6, 9, 0, 17, tzinfo=UTC).timestamp()
ADA = VendorUser("EMP001")
DROP = object()  # marks a claim to leave out


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9AM)


@pytest.fixture
def sim(clock: FakeClock) -> SwipeClockSim:
    sim = SwipeClockSim(
        site_id=SITE_ID,
        site_secret=SITE_SECRET,
        partner_id=PARTNER_ID,
        partner_secret=PARTNER_SECRET,
        clock=clock,
        token_ttl=TOKEN_TTL,
    )
    for code, first, last, email in (
        ("EMP001", "Ada", "Lovelace", "ada@example.com"),
        ("EMP002", "Grace", "Hopper", "grace@example.com"),
        ("EMP003", "Alan", "Turing", "alan@example.com"),
    ):
        sim.add_employee(code, first, last, email)
    return sim


def start(sim: SwipeClockSim) -> SimServer:
    return SimServer(sim.handle, name="swipeclock").start()


@pytest.fixture
def server(sim: SwipeClockSim) -> Iterator[SimServer]:
    srv = start(sim)
    yield srv
    srv.stop()


def settings_for(server: SimServer, **overrides: Any) -> SwipeClockSettings:
    values: dict[str, Any] = {
        "auth_url": f"{server.base_url}/AuthenticationService/oauth2/userToken",
        "api_url": f"{server.base_url}/api",
        "site_id": SITE_ID,
        "api_secret": SITE_SECRET,
    }
    values.update(overrides)
    return SwipeClockSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def vendor(server: SimServer, clock: FakeClock) -> Iterator[SwipeClock]:
    v = SwipeClock(settings_for(server), HttpPolicy(), clock=clock)
    yield v
    v.close()


def api_requests(server: SimServer) -> int:
    return sum(1 for r in server.requests if r.path.startswith("/api/"))


# --- raw protocol: what the simulator accepts and refuses ---------------------------------------


def originating(clock: FakeClock, secret: str = SITE_SECRET, **overrides: Any) -> str:
    """A hand-built originating token: a valid twpclient token unless overridden."""
    now = int(clock())
    claims: dict[str, Any] = {
        "iss": SITE_ID,
        "sub": "client",
        "exp": now + 240,
        "iat": now,
        "product": "twpclient",
        "siteInfo": {"type": "id", "id": str(SITE_ID)},
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not DROP}
    return api_jws.encode(json.dumps(claims).encode(), secret, algorithm="HS256")


def exchange(server: SimServer, token: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/AuthenticationService/oauth2/userToken",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def employees(server: SimServer, access_token: str) -> httpx.Response:
    return httpx.get(
        f"{server.base_url}/api/{SITE_ID}/employees",
        params={"pageSize": 50},
        headers={"Authorization": f"Bearer {access_token}"},
    )


def test_a_correctly_signed_token_is_exchanged_for_an_access_token_that_expires(server, sim, clock):
    response = exchange(server, originating(clock))
    assert response.status_code == 201
    claims = unverified_claims(response.json()["token"])
    assert claims is not None and claims["exp"] == int(clock() + TOKEN_TTL)
    assert employees(server, response.json()["token"]).json()["TotalCount"] == 3
    assert sim.auth_count == 1


def test_the_auth_path_is_matched_without_regard_to_case(server, clock):
    response = httpx.post(
        f"{server.base_url}/AuthenticationService/oauth2/usertoken",
        headers={"Authorization": f"Bearer {originating(clock)}"},
    )
    assert response.status_code == 201


def test_a_token_signed_with_the_wrong_secret_is_refused(server, sim, clock):
    response = exchange(server, originating(clock, secret=PARTNER_SECRET))
    assert (response.status_code, response.json()) == (401, {"Message": "Invalid Signature"})
    assert sim.auth_count == 0


def test_an_expired_originating_token_is_refused(server, clock):
    now = int(clock())
    response = exchange(server, originating(clock, iat=now - 300, exp=now - 1))
    assert response.status_code == 401
    assert "expired" in response.json()["Message"]


def test_an_originating_token_living_longer_than_five_minutes_plus_leeway_is_refused(server, clock):
    response = exchange(server, originating(clock, exp=int(clock()) + 300 + 61))
    assert response.status_code == 401


def test_an_issued_at_in_the_future_beyond_the_skew_is_refused(server, clock):
    response = exchange(server, originating(clock, iat=int(clock()) + 120))
    assert response.status_code == 401


@pytest.mark.parametrize("claim", ["iss", "exp", "product", "siteInfo"])
def test_a_token_missing_a_required_claim_is_refused(server, clock, claim):
    response = exchange(server, originating(clock, **{claim: DROP}))
    assert response.status_code == 401
    assert "Message" in response.json()


@pytest.mark.parametrize("claim", ["sub", "user"])
def test_an_employee_token_needs_sub_and_user(server, clock, claim):
    employee = {"product": "twpemp", "user": {"type": "empcode", "id": "EMP001"}}
    response = exchange(server, originating(clock, **{**employee, claim: DROP}))
    assert response.status_code == 401


def test_an_unsigned_token_is_refused(server, clock):
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(clock())
    claims = {
        "iss": SITE_ID,
        "sub": "client",
        "exp": now + 240,
        "product": "twpclient",
        "siteInfo": {"type": "id", "id": str(SITE_ID)},
    }
    response = exchange(server, f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.")
    assert response.status_code == 401


def test_an_api_call_with_an_expired_access_token_is_refused(server, sim, clock):
    token = exchange(server, originating(clock)).json()["token"]
    sim.expire_tokens()
    response = employees(server, token)
    assert response.status_code == 401
    assert response.json() == {"Message": "Authorization has been denied for this request."}


def test_an_access_token_past_its_exp_is_refused(server, clock):
    token = exchange(server, originating(clock)).json()["token"]
    clock.advance(TOKEN_TTL)
    assert employees(server, token).status_code == 401


def test_an_access_token_the_simulator_never_issued_is_refused(server, clock):
    forged = sign_claims({"iss": SITE_ID, "product": "twpclient", "exp": int(clock()) + 600, "jti": "x"}, SITE_SECRET)
    assert employees(server, forged).status_code == 401


def test_an_sso_login_token_cannot_call_the_api(server, clock):
    login = originating(clock, product="twplogin", siteInfo=DROP, user={"type": "login", "id": "ada"})
    token = exchange(server, login).json()["token"]
    assert employees(server, token).status_code == 403


def test_an_employee_token_sees_and_punches_only_for_that_employee(server, clock):
    own = originating(clock, product="twpemp", user={"type": "empcode", "id": "EMP001"})
    token = exchange(server, own).json()["token"]
    assert [e["EmployeeCode"] for e in employees(server, token).json()["Results"]] == ["EMP001"]
    punch = httpx.post(
        f"{server.base_url}/api/{SITE_ID}/timecards/punch",
        headers={"Authorization": f"Bearer {token}"},
        json={"EmployeeCode": "EMP002", "Date": "2024-05-06", "Time": "09:00", "Type": "In"},
    )
    assert punch.status_code == 403


def test_an_access_token_is_good_for_its_own_site_only(server, clock):
    token = exchange(server, originating(clock)).json()["token"]
    response = httpx.get(f"{server.base_url}/api/9999/employees", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_the_contracts_pinned_token_is_accepted_byte_for_byte():
    """The client token of docs/vendors/swipeclock.md §4.6, signed with the made-up secret, at a moment
    inside its window."""
    pinned = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOjU1NDMsInN1YiI6ImNsaWVudCIsImV4cCI6MTQ4MTIyODgwNCwia"
        "WF0IjoxNDgxMjI4NTM0LCJwcm9kdWN0IjoidHdwY2xpZW50Iiwic2l0ZUluZm8iOnsidHlwZSI6ImlkIiwiaWQiOiI1NTQzIn19"
        ".s1VNb1E4qB6BPO7W0QP85ZctIbGv_bRy10-3ypgR1i4"
    )
    sim = SwipeClockSim(site_id=5543, site_secret="example-api-secret-not-real", clock=lambda: 1481228534.0 + 10)
    with SimServer(sim.handle) as srv:
        assert exchange(srv, pinned).status_code == 201


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_the_connector_signs_the_contracts_pinned_tokens_exactly():
    common = {"issuer": 5543, "subject": "client", "site_id": 5543, "now": 1481228534, "lifetime": 270}
    client = sign_claims(originating_claims(product="twpclient", **common), "example-api-secret-not-real")
    employee = sign_claims(
        originating_claims(product="twpemp", employee_code="EMP042", **common), "example-api-secret-not-real"
    )
    assert client.endswith(".s1VNb1E4qB6BPO7W0QP85ZctIbGv_bRy10-3ypgR1i4")
    assert employee.endswith(".ZdXLTCN6GpbFilXGD6iiuQMASDFgl-6zcFoao6t1mQE")


# --- connector: authentication ------------------------------------------------------------------


def test_the_connector_meets_the_vendor_protocol_and_spec(vendor, server):
    assert isinstance(vendor, Vendor)
    assert server.requests == []  # building a connector sends nothing
    assert SPEC.name == SwipeClock.name == "swipeclock"
    assert SwipeClock.capabilities == {
        Action.CLOCK,
        Action.HOURS,
        Action.WHOS_IN,
        Action.WHOS_OFF,
        Action.IDENTITY,
        Action.BALANCES,
    }
    assert not SPEC.is_configured(SwipeClockSettings(_env_file=None))  # type: ignore[call-arg]
    assert SPEC.is_configured(SwipeClockSettings(_env_file=None, site_id=1, api_secret="s"))  # type: ignore[call-arg]


def test_people_are_the_employee_list_with_emails(vendor, sim):
    people = vendor.people()
    assert [(p.vendor_user_id, p.email, p.name) for p in people][:1] == [("EMP001", "ada@example.com", "Ada Lovelace")]
    assert len(people) == 3
    assert sim.auth_count == 1


def test_the_issued_token_is_reused_across_calls(vendor, sim):
    for _ in range(5):
        vendor.people()
    assert sim.auth_count == 1


def test_the_token_is_renewed_shortly_before_its_exp_without_waiting_for_a_401(vendor, sim, server, clock):
    vendor.people()
    clock.advance(TOKEN_TTL - 59)  # inside the 60 s margin
    vendor.people()
    assert sim.auth_count == 2
    assert api_requests(server) == 2  # no refused call was needed to notice


def test_a_401_renews_the_token_once_and_retries_the_call_once(vendor, sim, server):
    vendor.people()
    sim.expire_tokens()
    assert len(vendor.people()) == 3
    assert sim.auth_count == 2
    assert api_requests(server) == 3


def test_a_thousand_calls_authenticate_once_plus_once_after_expiry_and_none_is_lost(vendor, sim, server):
    started = time.monotonic()
    answers = []
    for i in range(1000):
        if i == 500:
            sim.expire_tokens()
        answers.append(len(vendor.people()))
    assert answers == [3] * 1000
    assert sim.auth_count == 2
    assert api_requests(server) == 1001  # the one refused call, retried
    assert time.monotonic() - started < 10


def test_eight_threads_seeing_an_expired_token_cause_one_reauthentication(vendor, sim):
    vendor.people()
    sim.expire_tokens()
    barrier = threading.Barrier(8)
    results: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            results.append(len(vendor.people()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert results == [3] * 8
    assert sim.auth_count == 2


def test_a_wrong_secret_is_an_auth_error_that_names_the_setting(server, clock):
    bad = SwipeClock(settings_for(server, api_secret="not-the-secret-" * 4), clock=clock)
    with pytest.raises(VendorAuthError) as caught:
        bad.people()
    assert "SWIPECLOCK_API_SECRET" in caught.value.user_message
    assert "not-the-secret" not in str(caught.value)
    bad.close()


def test_a_partner_secret_signs_as_the_partner(server, sim, clock):
    partner = SwipeClock(settings_for(server, api_secret=PARTNER_SECRET, partner_id=PARTNER_ID), clock=clock)
    assert len(partner.people()) == 3
    assert partner.current_session(ADA) is None
    partner.close()


def test_an_unknown_employee_is_rejected_plainly_not_blamed_on_credentials(vendor):
    with pytest.raises(VendorRejected) as caught:
        vendor.current_session(VendorUser("NOBODY"))
    assert not isinstance(caught.value, VendorAuthError)
    assert "NOBODY" in caught.value.user_message


def test_people_follow_next_page_links(vendor, sim):
    for i in range(120):
        sim.add_employee(f"X{i:03d}", "Extra", str(i), f"x{i}@example.com")
    assert len(vendor.people()) == 123


def test_check_authenticates_and_counts_employees(vendor):
    assert vendor.check() == "3 employees at site 5543"


# --- connector: clock -----------------------------------------------------------------------------


def test_clock_in_then_out_round_trips_through_the_simulator(vendor, sim, clock):
    assert vendor.current_session(ADA) is None
    started = vendor.clock_in(ADA, project="Website")
    assert started.started_at == datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
    running = vendor.current_session(ADA)
    assert running is not None and running.running and running.session_id == started.session_id
    assert running.project == "Website"
    assert sim.open_punch("EMP001") is not None
    clock.advance(3 * 3600)
    ended = vendor.clock_out(ADA, running)
    assert ended.ended_at == datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    assert vendor.current_session(ADA) is None
    assert sim.punches[0].punch_out == datetime(2024, 5, 6, 12, 0)


def test_punches_are_sent_with_the_employees_own_token(vendor, server):
    vendor.clock_in(ADA)
    punch = next(r for r in server.requests if r.path.endswith("/timecards/punch"))
    claims = unverified_claims(punch.headers["authorization"].split()[1]) or {}
    assert claims["product"] == "twpemp"
    assert claims["user"] == {"type": "empcode", "id": "EMP001"}


def test_a_clock_in_in_the_repeated_hour_when_dst_ends_keeps_its_real_time(clock):
    sim = SwipeClockSim(
        site_id=SITE_ID, site_secret=SITE_SECRET, clock=clock, token_ttl=TOKEN_TTL, timezone="America/New_York"
    )
    sim.add_employee("EMP001", "Ada", "Lovelace", "ada@example.com")
    with SimServer(sim.handle, name="swipeclock") as server:
        vendor = SwipeClock(settings_for(server, timezone="America/New_York"), HttpPolicy(), clock=clock)
        try:
            clock.now = datetime(2024, 11, 3, 6, 30, tzinfo=UTC).timestamp()  # 01:30 EST, the second 01:30
            session = vendor.clock_in(ADA)
        finally:
            vendor.close()
    assert session.started_at == datetime(2024, 11, 3, 6, 30, tzinfo=UTC)


def test_clocking_in_twice_is_refused_in_plain_words(vendor):
    vendor.clock_in(ADA)
    with pytest.raises(VendorRejected, match="already clocked in"):
        vendor.clock_in(ADA)


@pytest.mark.parametrize(
    "looked_at",
    [
        datetime(2024, 5, 5, 2, 0, tzinfo=UTC),  # the first night of the next period
        datetime(2024, 5, 7, 9, 0, tzinfo=UTC),  # days into it: a shift left open
    ],
    ids=["next-night", "days-later"],
)
def test_a_shift_begun_before_a_new_pay_period_is_still_running(vendor, sim, clock, looked_at):
    clock.now = datetime(2024, 5, 4, 22, 0, tzinfo=UTC).timestamp()  # last day of a period
    vendor.clock_in(ADA)
    clock.now = looked_at.timestamp()
    running = vendor.current_session(ADA)
    assert running is not None and running.started_at == datetime(2024, 5, 4, 22, 0, tzinfo=UTC)


# --- connector: time off -------------------------------------------------------------------------


def test_whos_off_reads_approved_and_pending_time_off_for_everyone(vendor, sim):
    sim.add_time_off("EMP003", date(2024, 5, 9), date(2024, 5, 13), comments="Reunion")  # Thu..Mon
    sim.add_time_off("EMP002", date(2024, 5, 8), status="Pending")
    sim.add_time_off("EMP001", date(2024, 5, 8), status="Denied")
    found = sorted(vendor.absences(date(2024, 5, 6), date(2024, 5, 17), []), key=lambda a: a.vendor_user_id)
    assert [(a.vendor_user_id, a.start, a.end, a.status) for a in found] == [
        ("EMP002", date(2024, 5, 8), date(2024, 5, 8), "pending"),
        ("EMP003", date(2024, 5, 9), date(2024, 5, 13), "approved"),
    ]
    assert found[1].person_email == "alan@example.com" and found[1].kind == "PTO"


def test_my_absences_are_only_the_persons_own(vendor, sim):
    sim.add_time_off("EMP001", date(2024, 5, 20))
    sim.add_time_off("EMP002", date(2024, 5, 20))
    mine = vendor.my_absences(ADA, date(2024, 5, 1), date(2024, 5, 31))
    assert [(a.vendor_user_id, a.start) for a in mine] == [("EMP001", date(2024, 5, 20))]


def test_leave_requests_are_opt_in_and_read_back_as_pending(server, sim, clock):
    leave = SwipeClock.for_settings(settings_for(server, leave_requests=True), clock=clock)
    assert isinstance(leave, SwipeClockWithLeave) and Action.LEAVE in leave.capabilities
    assert "PTO" in [t.id for t in leave.leave_types()]
    made = leave.request_leave(ADA, LeaveRequest(date(2024, 5, 20), date(2024, 5, 21), "PTO", note="Trip"))
    assert (made.start, made.end, made.status) == (date(2024, 5, 20), date(2024, 5, 21), "pending")
    assert [a.start for a in leave.my_absences(ADA, date(2024, 5, 1), date(2024, 5, 31))] == [date(2024, 5, 20)]
    with pytest.raises(VendorRejected):
        leave.request_leave(ADA, LeaveRequest(date(2024, 5, 21), date(2024, 5, 21), "PTO"))
    leave.close()


def test_leave_overlapping_the_days_asked_about_comes_back_whole(vendor, sim):
    sim.add_time_off("EMP003", date(2024, 6, 3), date(2024, 6, 7))  # Mon..Fri
    [found] = vendor.absences(date(2024, 6, 5), date(2024, 6, 5), [])
    assert (found.start, found.end) == (date(2024, 6, 3), date(2024, 6, 7))


def test_a_half_day_leave_request_asks_for_half_a_days_hours(server, sim, clock):
    leave = SwipeClock.for_settings(settings_for(server, leave_requests=True), clock=clock)
    try:
        leave.request_leave(
            ADA,
            LeaveRequest(
                date(2024, 5, 20), date(2024, 5, 21), "PTO", start_portion=Portion.PM, end_portion=Portion.FULL
            ),
        )
    finally:
        leave.close()
    posted = next(r for r in server.requests if r.method == "POST" and r.path.endswith("/timeoffrequests"))
    assert [(d["Date"], d["Hours"]) for d in posted.json()["Days"]] == [("2024-05-20", 4.0), ("2024-05-21", 8.0)]


# --- what SwipeClock can't do ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "protocol"),
    [
        (Action.HOLIDAYS, HolidaysVendor),
        (Action.LEAVE, LeaveVendor),
    ],
)
def test_missing_actions_raise_not_supported_without_sending_anything(vendor, server, action, protocol):
    assert not isinstance(vendor, protocol)  # nothing to call: the connector has no such method
    with pytest.raises(NotSupported) as caught:
        Router({"swipeclock": vendor}, {}).for_action(action)
    assert caught.value.action is action
    assert server.requests == []


def test_linking_explains_that_people_are_matched_by_email(vendor, server):
    with pytest.raises(VendorRejected, match="email"):
        vendor.link({})
    assert server.requests == []


def test_the_sandbox_demo_matches_the_shared_demo_people():
    from sandbox.people import DEMO_PEOPLE

    sim = SwipeClockSim.demo(clock=lambda: MONDAY_9AM)
    assert sorted(e.email for e in sim.employees.values() if e.email) == sorted(p.email for p in DEMO_PEOPLE)
    assert sim.auth_count == 0


# --- hours and who's in ----------------------------------------------------------------------------


def test_sessions_come_from_the_timecards_of_each_pay_period_the_range_touches(vendor, sim, server):
    from sandbox.swipeclock import PunchLine

    # pay periods run Sunday to Saturday fortnight: 28 Apr - 11 May, 12 - 25 May 2024
    sim.punches.append(PunchLine("EMP001", datetime(2024, 5, 11, 22, 0), datetime(2024, 5, 12, 2, 0)))
    sim.punches.append(PunchLine("EMP001", datetime(2024, 5, 13, 8, 0), job="Website"))  # running
    found = vendor.sessions(ADA, datetime(2024, 5, 12, tzinfo=UTC), datetime(2024, 5, 14, tzinfo=UTC))
    assert [(s.started_at, s.ended_at, s.project) for s in found] == [
        (datetime(2024, 5, 11, 22, 0, tzinfo=UTC), datetime(2024, 5, 12, 2, 0, tzinfo=UTC), None),
        (datetime(2024, 5, 13, 8, 0, tzinfo=UTC), None, "Website"),
    ]
    assert len([r for r in server.requests if r.path.endswith("/timecards")]) == 2  # two pay periods


def test_who_is_in_is_one_read_of_every_timecard(vendor, sim, server):
    from sandbox.swipeclock import PunchLine

    sim.punches.append(PunchLine("EMP002", datetime(2024, 5, 6, 8, 30)))
    sim.punches.append(PunchLine("EMP003", datetime(2024, 5, 6, 7, 0), datetime(2024, 5, 6, 8, 0)))
    running = vendor.clocked_in([])
    assert [(r.vendor_user_id, r.person_name) for r in running] == [("EMP002", "Grace Hopper")]
    assert len([r for r in server.requests if r.path.endswith("/timecards")]) == 1
