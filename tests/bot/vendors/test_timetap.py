"""The TimeTap connector against the TimeTap simulator, over real HTTP on loopback.

The simulator enforces the documented auth (signature, token expiry, 401 HTML), and the first
group of tests proves that it does, so the connector tests that follow mean something.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from bot.domain import Action, ClockSession, LeaveRequest, VendorUser
from bot.errors import NotSupported, VendorAuthError, VendorRejected
from bot.vendors import registry
from bot.vendors.base import ClockVendor, HolidaysVendor, Vendor
from bot.vendors.http import HttpPolicy
from bot.vendors.registry import Router
from bot.vendors.timetap import SPEC, TimeTap, TimeTapSettings
from sandbox.people import DEMO_PEOPLE
from sandbox.server import Request, Response, SimServer
from sandbox.timetap import TimeTapSim
from tests.support import FakeClock

FAR = date(2031, 3, 3)  # a Monday with nothing seeded around it


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_900_000_000.0)


@pytest.fixture
def sim(clock: FakeClock) -> TimeTapSim:
    return TimeTapSim.demo(clock=clock)


def start_server(handler: Callable[[Request], Response]) -> SimServer:
    """SimServer writes headers and body separately, so Nagle's algorithm meets the client's
    delayed ACK and every answer waits ~40 ms; turning Nagle off keeps 1,000 calls under a second."""
    server = SimServer(handler, name="timetap")
    server._httpd.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    return server.start()


@pytest.fixture
def server(sim: TimeTapSim) -> Iterator[SimServer]:
    running = start_server(sim.handle)
    yield running
    running.stop()


def make_vendor(
    base_url: str,
    sim: TimeTapSim,
    *,
    private_key: str | None = None,
    environment: str = "test",
    clock: Callable[[], float] = time.time,
    **settings: object,
) -> TimeTap:
    values = TimeTapSettings(
        _env_file=None,
        base_url=base_url,
        environment=environment,  # type: ignore[call-arg]
        api_key=sim.api_key,
        private_key=private_key or sim.private_key,
        **settings,
    )
    return TimeTap(values, HttpPolicy(max_retries=0), clock=clock)


@pytest.fixture
def vendor(server: SimServer, sim: TimeTapSim, clock: FakeClock) -> Iterator[TimeTap]:
    connector = make_vendor(server.base_url, sim, clock=clock)
    yield connector
    connector.close()


def requests_to(server: SimServer, suffix: str) -> list[Request]:
    return [r for r in list(server.requests) if r.path.endswith(suffix)]


def staff_id(sim: TimeTapSim, email: str) -> str:
    return str(next(s["professionalId"] for s in sim.staff.values() if s["emailAddress"] == email))


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - the vendor's scheme


# --- the simulator enforces the documented auth --------------------------------------------


def token_url(server: SimServer, sim: TimeTapSim, signature: str, prefix: str = "test") -> str:
    return f"{server.base_url}/{prefix}/sessionToken?apiKey={sim.api_key}&timestamp=1700000000&signature={signature}"


def test_sim_issues_a_token_for_the_documented_signature(server: SimServer, sim: TimeTapSim) -> None:
    for prefix in ("test", "live"):
        response = httpx.get(token_url(server, sim, md5(sim.api_key + sim.private_key), prefix))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert re.fullmatch(r"st:api:api:[0-9a-f]{32}", response.json()["sessionToken"])
    assert sim.auth_count == 2


@pytest.mark.parametrize(
    "signature",
    [
        "0" * 32,
        "{upper}",  # hex is compared exactly, as PHP md5() and DigestUtils.md5Hex produce lowercase
        "{with_timestamp_and_url}",  # the variant in the old doc diff, which no client uses
    ],
)
def test_sim_rejects_a_wrong_signature_with_a_tomcat_401(server: SimServer, sim: TimeTapSim, signature: str) -> None:
    good = md5(sim.api_key + sim.private_key)
    variants = {
        "{upper}": good.upper(),
        "{with_timestamp_and_url}": md5(f"{sim.api_key}{sim.private_key}1700000000{server.base_url}/test/sessionToken"),
    }
    response = httpx.get(token_url(server, sim, variants.get(signature, signature)))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "HTTP Status 401" in response.text
    assert sim.auth_count == 0 and sim.rejected_auth == 1


def test_sim_rejects_an_unknown_token(server: SimServer, sim: TimeTapSim) -> None:
    response = httpx.get(
        f"{server.base_url}/test/staff", headers={"Authorization": "Bearer st:api:api:0164ebb6d9c74d87b4b6edd9544166ec"}
    )
    assert response.status_code == 401
    assert "HTTP Status 401" in response.text


def test_sim_rejects_calls_without_a_token(server: SimServer) -> None:
    assert httpx.get(f"{server.base_url}/test/staff").status_code == 401


def test_sim_expires_a_token_after_four_idle_hours(server: SimServer, sim: TimeTapSim, clock: FakeClock) -> None:
    token = sim.issue_token("test")
    headers = {"Authorization": f"Bearer {token}"}
    clock.advance(3 * 3600)
    assert httpx.get(f"{server.base_url}/test/staff", headers=headers).status_code == 200
    clock.advance(3 * 3600)  # six hours since issue, but only three idle: still good
    assert httpx.get(f"{server.base_url}/test/staff", headers=headers).status_code == 200
    clock.advance(4 * 3600)
    expired = httpx.get(f"{server.base_url}/test/staff", headers=headers)
    assert expired.status_code == 401
    assert expired.headers["content-type"].startswith("text/html")


def test_sim_accepts_the_token_as_a_query_parameter(server: SimServer, sim: TimeTapSim) -> None:
    token = sim.issue_token("live")
    assert httpx.get(f"{server.base_url}/live/staff", params={"sessionToken": token}).status_code == 200


def test_sim_token_is_only_good_on_the_prefix_that_issued_it(server: SimServer, sim: TimeTapSim) -> None:
    token = sim.issue_token("test")
    assert httpx.get(f"{server.base_url}/live/staff", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_sim_lists_time_off_only_when_excludeTimeOff_is_false(server: SimServer, sim: TimeTapSim) -> None:
    sid = int(staff_id(sim, "ada@example.com"))
    sim.add_time_off(sid, FAR, FAR)
    headers = {"Authorization": f"Bearer {sim.issue_token()}"}
    base = {"onlyTimeOff": 1, "startDate": FAR.isoformat(), "endDate": FAR.isoformat()}
    default = httpx.get(f"{server.base_url}/test/appointments/report", params=base, headers=headers)
    listed = httpx.get(
        f"{server.base_url}/test/appointments/report", params={**base, "excludeTimeOff": "false"}, headers=headers
    )
    assert default.json() == []
    assert [r["staff"]["professionalId"] for r in listed.json()] == [sid]


def test_sim_soft_deletes_time_off(server: SimServer, sim: TimeTapSim) -> None:
    row = sim.add_time_off(int(staff_id(sim, "ada@example.com")), FAR, FAR)
    headers = {"Authorization": f"Bearer {sim.issue_token()}"}
    url = f"{server.base_url}/test/timeOff/{row['timeOffId']}"
    assert httpx.delete(url, headers=headers).status_code == 200
    assert httpx.get(url, headers=headers).json()["active"] is False
    report = httpx.get(
        f"{server.base_url}/test/appointments/report",
        headers=headers,
        params={"onlyTimeOff": 1, "excludeTimeOff": "false", "startDate": FAR.isoformat(), "endDate": FAR.isoformat()},
    )
    assert report.json() == []


def test_sim_refuses_time_off_with_a_non_personal_reason(server: SimServer, sim: TimeTapSim) -> None:
    service = next(r for r in sim.reasons.values() if r["reasonType"] != "PERSONAL")
    body = {
        "businessId": int(sim.api_key),
        "staffId": [int(staff_id(sim, "ada@example.com"))],
        "startDate": FAR.isoformat(),
        "endDate": FAR.isoformat(),
        "startTime": "0000",
        "endTime": "2359",
        "reason": service,
    }
    before = len(sim.time_off)
    response = httpx.post(
        f"{server.base_url}/test/timeOffBulk", json=body, headers={"Authorization": f"Bearer {sim.issue_token()}"}
    )
    assert response.status_code == 400
    assert len(sim.time_off) == before


# --- authentication --------------------------------------------------------------------------


def test_correct_credentials_authenticate_and_read_the_staff(
    vendor: TimeTap, server: SimServer, sim: TimeTapSim
) -> None:
    assert vendor.check() == f"{len(DEMO_PEOPLE)} staff"
    [token_request] = requests_to(server, "/sessionToken")
    assert token_request.path == "/test/sessionToken"
    assert token_request.arg("apiKey") == sim.api_key
    assert token_request.arg("signature") == md5(sim.api_key + sim.private_key)
    assert token_request.arg("timestamp", "").isdigit()
    [staff_request] = requests_to(server, "/staff")
    assert re.fullmatch(r"Bearer st:api:api:[0-9a-f]{32}", staff_request.headers["authorization"])
    assert sim.auth_count == 1


def test_live_environment_uses_the_live_prefix(server: SimServer, sim: TimeTapSim) -> None:
    connector = make_vendor(server.base_url, sim, environment="live")
    try:
        connector.check()
    finally:
        connector.close()
    assert {r.path for r in server.requests} == {"/live/sessionToken", "/live/staff"}


def test_wrong_private_key_is_an_auth_error_naming_the_settings(server: SimServer, sim: TimeTapSim) -> None:
    connector = make_vendor(server.base_url, sim, private_key="not-the-private-key")
    try:
        with pytest.raises(VendorAuthError) as caught:
            connector.people()
    finally:
        connector.close()
    assert "TIMETAP_API_KEY" in caught.value.user_message and "TIMETAP_PRIVATE_KEY" in caught.value.user_message
    assert sim.rejected_auth == 1 and sim.auth_count == 0
    assert len(requests_to(server, "/sessionToken")) == 1
    assert requests_to(server, "/staff") == []  # nothing is sent without a token


def test_refused_credentials_are_not_retried_by_every_caller_at_once(server: SimServer, sim: TimeTapSim) -> None:
    connector = make_vendor(server.base_url, sim, private_key="not-the-private-key")
    try:
        for _ in range(5):
            with pytest.raises(VendorAuthError):
                connector.people()
    finally:
        connector.close()
    assert sim.rejected_auth == 1


def test_a_rotated_private_key_is_reported_after_one_renewal_attempt(
    vendor: TimeTap, server: SimServer, sim: TimeTapSim
) -> None:
    vendor.people()
    sim.private_key = "a-newly-generated-private-key"
    sim.expire_tokens()
    with pytest.raises(VendorAuthError):
        vendor.people()
    assert sim.auth_count == 1 and sim.rejected_auth == 1


def test_a_401_that_survives_a_fresh_token_is_an_auth_error(sim: TimeTapSim) -> None:
    def staff_always_refused(request: Request) -> Response:
        if request.path.endswith("/staff"):
            return Response.text("<html>HTTP Status 401</html>", 401, "text/html;charset=utf-8")
        return sim.handle(request)

    server = start_server(staff_always_refused)
    connector = make_vendor(server.base_url, sim)
    try:
        with pytest.raises(VendorAuthError):
            connector.people()
    finally:
        connector.close()
        server.stop()
    assert sim.auth_count == 2  # the first token and exactly one renewal
    assert len(requests_to(server, "/staff")) == 2  # the call and exactly one retry


def test_the_token_is_reused_across_calls(vendor: TimeTap, server: SimServer, sim: TimeTapSim) -> None:
    for _ in range(10):
        vendor.people()
    assert sim.auth_count == 1
    assert len({r.headers["authorization"] for r in requests_to(server, "/staff")}) == 1


def test_a_thousand_calls_authenticate_once_plus_once_after_expiry(
    vendor: TimeTap, server: SimServer, sim: TimeTapSim
) -> None:
    started = time.monotonic()
    answered = 0
    for i in range(1000):
        if i == 500:
            sim.expire_tokens()
        assert len(vendor.people()) == len(DEMO_PEOPLE)
        answered += 1
    assert answered == 1000
    assert sim.auth_count == 2
    assert sim.rejected_calls == 1  # the one call that met the expired token was retried, not lost
    assert len(requests_to(server, "/staff")) == 1001
    assert time.monotonic() - started < 10


def test_eight_threads_meeting_an_expired_token_cause_one_reauthentication(vendor: TimeTap, sim: TimeTapSim) -> None:
    vendor.people()
    sim.expire_tokens()
    barrier = threading.Barrier(8)
    results: list[int] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            for _ in range(5):
                found = len(vendor.people())
                with guard:
                    results.append(found)
        except BaseException as exc:  # collected for the assertion below
            with guard:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert results == [len(DEMO_PEOPLE)] * 40
    assert sim.auth_count == 2


def test_an_idle_token_is_renewed_before_use_without_a_wasted_401(
    vendor: TimeTap, sim: TimeTapSim, clock: FakeClock
) -> None:
    vendor.people()
    clock.advance(4 * 3600)
    vendor.people()
    assert sim.auth_count == 2
    assert sim.rejected_calls == 0


def test_secrets_never_reach_the_logs(
    vendor: TimeTap, server: SimServer, sim: TimeTapSim, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    vendor.people()
    sim.expire_tokens()
    vendor.people()
    tokens = {r.headers["authorization"].split()[-1] for r in requests_to(server, "/staff")}
    assert len(tokens) == 2
    for secret in (sim.private_key, md5(sim.api_key + sim.private_key), *tokens):
        assert secret not in caplog.text
    assert "/test/sessionToken" in caplog.text  # httpx did log the URL, with its query redacted


# --- people ----------------------------------------------------------------------------------


def test_people_are_the_staff_with_their_emails(vendor: TimeTap, sim: TimeTapSim) -> None:
    people = vendor.people()
    assert sorted(p.email for p in people) == sorted(p.email for p in DEMO_PEOPLE)
    ada = next(p for p in people if p.email == "ada@example.com")
    assert ada.name == "Ada Lovelace"
    assert ada.vendor_user_id == staff_id(sim, "ada@example.com")


def test_inactive_staff_are_left_out(vendor: TimeTap, sim: TimeTapSim) -> None:
    sim.add_staff("Former", "Employee", "former@example.com", active=False)
    assert "former@example.com" not in {p.email for p in vendor.people()}


def test_link_says_people_are_linked_by_email(vendor: TimeTap, server: SimServer) -> None:
    with pytest.raises(VendorRejected, match="email"):
        vendor.link({})
    assert server.requests == []


# --- leave -----------------------------------------------------------------------------------


def test_leave_types_are_the_personal_reasons(vendor: TimeTap, sim: TimeTapSim) -> None:
    assert [t.name for t in vendor.leave_types()] == ["Vacation", "Sick day"]


def test_configured_leave_reason_comes_first_and_is_the_default(server: SimServer, sim: TimeTapSim) -> None:
    sick = next(r for r in sim.reasons.values() if r["reasonDesc"] == "Sick day")
    connector = make_vendor(server.base_url, sim, leave_reason_id=sick["reasonId"])
    try:
        assert connector.leave_types()[0].name == "Sick day"
        user = VendorUser(staff_id(sim, "ada@example.com"))
        absence = connector.request_leave(user, LeaveRequest(FAR, FAR, leave_type=""))
    finally:
        connector.close()
    assert absence.kind == "Sick day"


def test_requested_leave_is_listed_as_an_absence(vendor: TimeTap, sim: TimeTapSim) -> None:
    user = VendorUser(staff_id(sim, "grace@example.com"))
    vacation = vendor.leave_types()[0]
    created = vendor.request_leave(user, LeaveRequest(FAR, FAR + timedelta(days=2), vacation.id, note="Hiking"))
    assert (created.vendor_user_id, created.start, created.end, created.kind) == (
        user.vendor_user_id,
        FAR,
        FAR + timedelta(days=2),
        "Vacation",
    )
    assert created.absence_id is not None and created.status == "approved"
    [stored] = [t for t in sim.time_off if str(t["timeOffId"]) == created.absence_id]
    assert stored["businessId"] == int(sim.api_key) and stored["note"] == "Hiking"

    listed = vendor.absences(FAR + timedelta(days=1), FAR + timedelta(days=1), [])
    assert [(a.absence_id, a.person_email, a.person_name, a.reason) for a in listed] == [
        (created.absence_id, "grace@example.com", "Grace Hopper", "Hiking")
    ]


def test_my_absences_are_only_the_persons_own(vendor: TimeTap, sim: TimeTapSim) -> None:
    ada, alan = staff_id(sim, "ada@example.com"), staff_id(sim, "alan@example.com")
    sim.add_time_off(int(ada), FAR, FAR)
    sim.add_time_off(int(alan), FAR, FAR)
    mine = vendor.my_absences(VendorUser(ada), FAR, FAR)
    assert [a.vendor_user_id for a in mine] == [ada]


def test_absences_page_until_an_empty_page(vendor: TimeTap, server: SimServer, sim: TimeTapSim) -> None:
    people = [int(staff_id(sim, p.email)) for p in DEMO_PEOPLE]
    for i in range(30):
        day = FAR + timedelta(days=i % 7)
        sim.add_time_off(people[i % len(people)], day, day)
    found = vendor.absences(FAR, FAR + timedelta(days=6), [])
    assert len(found) == 30 and len({a.absence_id for a in found}) == 30
    pages = [r.arg("pageNumber") for r in requests_to(server, "/appointments/report")]
    assert pages == ["1", "2", "3"]  # 25 rows, 5 rows, then the empty page that ends it
    report = requests_to(server, "/appointments/report")[0]
    assert (report.arg("onlyTimeOff"), report.arg("excludeTimeOff")) == ("1", "false")


def test_client_appointments_and_deleted_time_off_are_not_absences(vendor: TimeTap, sim: TimeTapSim) -> None:
    ada = int(staff_id(sim, "ada@example.com"))
    sim.add_appointment(ada, FAR)
    deleted = sim.add_time_off(ada, FAR, FAR)
    deleted["active"] = False
    assert vendor.absences(FAR, FAR, []) == []


# --- what TimeTap does not offer ---------------------------------------------------------------


SESSION = ClockSession("1", started_at=datetime(2031, 3, 3, 9, tzinfo=UTC))


@pytest.mark.parametrize(
    ("action", "protocol"),
    [
        (Action.CLOCK, ClockVendor),
        (Action.HOLIDAYS, HolidaysVendor),
    ],
)
def test_missing_actions_are_refused_before_anything_is_sent(
    vendor: TimeTap, server: SimServer, action: Action, protocol: type
) -> None:
    before = len(server.requests)
    assert not isinstance(vendor, protocol)  # nothing to call: the connector has no such method
    with pytest.raises(NotSupported) as caught:
        Router({"timetap": vendor}, {}).for_action(action)
    assert caught.value.action is action
    assert action not in vendor.capabilities
    assert len(server.requests) == before == 0


def test_clock_in_names_timetap_and_clocking(vendor: TimeTap) -> None:
    with pytest.raises(NotSupported) as caught:
        Router({"timetap": vendor}, {}).clock()
    assert "TimeTap" in caught.value.user_message
    assert "clocking in and out" in caught.value.user_message


# --- wiring ----------------------------------------------------------------------------------


def test_spec_builds_a_vendor_from_settings(server: SimServer, sim: TimeTapSim) -> None:
    assert registry.spec("timetap") is SPEC
    settings = TimeTapSettings(
        _env_file=None,
        base_url=server.base_url,
        environment="test",  # type: ignore[call-arg]
        api_key=sim.api_key,
        private_key=sim.private_key,
    )
    assert SPEC.is_configured(settings)
    assert not SPEC.is_configured(TimeTapSettings(_env_file=None))  # type: ignore[call-arg]
    built = SPEC.build(settings, HttpPolicy())
    try:
        assert isinstance(built, Vendor)
        assert built.check() == f"{len(DEMO_PEOPLE)} staff"
    finally:
        built.close()
