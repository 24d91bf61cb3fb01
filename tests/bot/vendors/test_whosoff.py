"""WhosOff connector and simulator, over real HTTP on 127.0.0.1.

The simulator enforces the contract in docs/vendors/whosoff.md, so raw-httpx tests pin down what
it refuses and connector tests prove the client satisfies it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from bot.domain import Action, LeaveRequest, Portion, VendorUser
from bot.errors import NotSupported, OutcomeUnknown, VendorAuthError, VendorRejected
from bot.vendors.base import ClockVendor, Vendor
from bot.vendors.registry import Router
from bot.vendors.whosoff import SPEC, WhosOff, WhosOffSettings, make_secret
from sandbox.people import DEMO_PEOPLE
from sandbox.server import SimServer
from sandbox.whosoff import WhosOffSim
from tests.support import FakeClock

USERNAME, PASSWORD = "timebot@example.com", "demo-whosoff-password"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_790_000_000.0)


@pytest.fixture
def sim(clock: FakeClock) -> WhosOffSim:
    return WhosOffSim.demo(clock=clock)


@pytest.fixture
def server(sim: WhosOffSim):
    with SimServer(sim.handle, name="whosoff") as running:
        yield running


def settings_for(sim: WhosOffSim, server: SimServer, **overrides: Any) -> WhosOffSettings:
    values: dict[str, Any] = {
        "base_url": server.base_url,
        "app_id": sim.app_id,
        "client_secret": sim.client_secret,
        "username": USERNAME,
        "password": PASSWORD,
        "ip_address": "127.0.0.1",
        **overrides,
    }
    return WhosOffSettings(_env_file=None, **values)


@pytest.fixture
def vendor(sim: WhosOffSim, server: SimServer, clock: FakeClock):
    connector = WhosOff(settings_for(sim, server), clock=clock)
    yield connector
    connector.close()


def user_id(sim: WhosOffSim, email: str) -> str:
    return str(next(u.user_id for u in sim.users.values() if u.email_address == email))


def bodies(server: SimServer, route: str) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in server.requests if r.path.endswith(route)]


# --- the simulator enforces the documented authentication (raw HTTP) --------------------------


def auth_body(sim: WhosOffSim, nonce: str | None = None, **overrides: Any) -> dict[str, Any]:
    nonce = nonce or uuid.uuid4().hex
    return {
        "username": USERNAME,
        "password": PASSWORD,
        "ip_address": "127.0.0.1",
        "nonce": nonce,
        "secret": hashlib.sha512((nonce + sim.client_secret).encode()).hexdigest(),
        "app_id": sim.app_id,
        **overrides,
    }


def authenticate(
    server: SimServer, body: dict[str, Any], app_id: str, kind: str = "with-credentials"
) -> httpx.Response:
    return httpx.post(f"{server.base_url}/v4/authenticate/{kind}", json=body, headers={"app-id": app_id})


def only_error(response: httpx.Response) -> tuple[str, str]:
    payload = response.json()
    assert payload["Data"] == []
    assert len(payload["Errors"]) == 1
    return payload["Errors"][0]["Code"], payload["Errors"][0]["Message"]


def test_documented_worked_example_secret_is_sha512_of_nonce_then_client_secret():
    assert make_secret("2029-03-14T13:24:10.832Z", "QtOSeNmh3DY6AuMO") == (
        "e5ace5c560156e14ecce3e0cac133cdad3cedd18bfda3130f78fa47d4a829357"
        "a0ae112a036cac6ebd2f51c9a6de8062da78bf5b0d083738ae09d58ca95a95e8"
    )


def test_correct_signature_gets_a_token_in_the_data_envelope(sim, server):
    response = authenticate(server, auth_body(sim), sim.app_id)
    assert response.status_code == 200
    payload = response.json()
    assert payload["Errors"] == []
    assert payload["Data"][0]["token"]["access_token"]
    assert payload["Data"][0]["token"]["token_expiry_date"]
    assert payload["Data"][0]["user"]["email_address"] == USERNAME
    assert sim.auth_count == 1


def test_wrong_client_secret_is_refused(sim, server):
    nonce = uuid.uuid4().hex
    wrong = hashlib.sha512((nonce + "not-the-secret").encode()).hexdigest()
    response = authenticate(server, auth_body(sim, nonce, secret=wrong), sim.app_id)
    assert response.status_code == 400
    assert only_error(response)[0] == "SIM-AUTH-SECRET"
    assert sim.auth_count == 0


def test_secret_hashed_in_the_wrong_order_is_refused(sim, server):
    nonce = uuid.uuid4().hex
    reversed_order = hashlib.sha512((sim.client_secret + nonce).encode()).hexdigest()
    response = authenticate(server, auth_body(sim, nonce, secret=reversed_order), sim.app_id)
    assert response.status_code == 400
    assert only_error(response)[0] == "SIM-AUTH-SECRET"


def test_reused_nonce_is_refused(sim, server):
    nonce = uuid.uuid4().hex
    assert authenticate(server, auth_body(sim, nonce), sim.app_id).status_code == 200
    again = authenticate(server, auth_body(sim, nonce), sim.app_id)
    assert again.status_code == 400
    assert only_error(again)[0] == "SIM-AUTH-NONCE"
    assert sim.auth_count == 1


def test_wrong_app_id_is_refused_in_header_or_body(sim, server):
    in_header = authenticate(server, auth_body(sim), "someone-elses-app")
    in_body = authenticate(server, auth_body(sim, app_id="someone-elses-app"), sim.app_id)
    for response in (in_header, in_body):
        assert response.status_code == 400
        assert only_error(response)[0] == "SIM-AUTH-APP"


def test_wrong_password_is_401(sim, server):
    response = authenticate(server, auth_body(sim, password="guess"), sim.app_id)
    assert response.status_code == 401
    assert only_error(response)[0] == "SIM-AUTH-LOGIN"


def test_ip_outside_the_allow_list_is_refused(sim, server):
    response = authenticate(server, auth_body(sim, ip_address="203.0.113.7"), sim.app_id)
    assert response.status_code == 400
    assert only_error(response)[0] == "SIM-AUTH-IP"


def raw_token(sim: WhosOffSim, server: SimServer) -> str:
    return authenticate(server, auth_body(sim), sim.app_id).json()["Data"][0]["token"]["access_token"]


def retrieve_users(sim: WhosOffSim, server: SimServer, token: str, app_id: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/v4/user/retrieve",
        json={"map_type_id": 0, "map_id": 0, "status_id": 1},
        headers={"Authorization": f"Bearer {token}", "app-id": app_id or sim.app_id},
    )


def test_expired_token_is_400_tok004_invalid_token(sim, server):
    token = raw_token(sim, server)
    assert retrieve_users(sim, server, token).status_code == 200
    sim.expire_tokens()
    response = retrieve_users(sim, server, token)
    assert response.status_code == 400
    assert response.json() == {"Data": [], "Errors": [{"Code": "TOK004", "Message": "Invalid Token"}]}


def test_expired_token_can_be_refreshed_once_with_the_access_token_route(sim, server):
    token = raw_token(sim, server)
    sim.expire_tokens()
    body = {k: v for k, v in auth_body(sim).items() if k not in {"username", "password"}}
    refreshed = authenticate(server, {**body, "access_token": token}, sim.app_id, "with-access-token")
    assert refreshed.status_code == 200
    new_token = refreshed.json()["Data"][0]["token"]["access_token"]
    assert retrieve_users(sim, server, new_token).status_code == 200
    spent = authenticate(server, {**auth_body(sim), "access_token": token}, sim.app_id, "with-access-token")
    assert only_error(spent)[0] == "TOK004"


def test_data_calls_need_the_app_id_header(sim, server):
    response = retrieve_users(sim, server, raw_token(sim, server), app_id="wrong")
    assert response.status_code == 400
    assert only_error(response)[0] == "SIM-AUTH-APP"


def test_range_over_365_days_is_004a(sim, server):
    start = date(2026, 1, 1)
    response = httpx.post(
        f"{server.base_url}/v4/whosoff/retrieve",
        json={
            "map_type_id": 0,
            "map_id": 0,
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=366)).isoformat(),
            "include_free_restricted": False,
            "include_only_whosoff": True,
        },
        headers={"Authorization": f"Bearer {raw_token(sim, server)}", "app-id": sim.app_id},
    )
    assert response.status_code == 400
    assert only_error(response) == ("004a", "Date range can only be for a maximum of 365 days")


# --- the connector signs correctly and reuses its token --------------------------------------


def test_connector_authenticates_and_check_reads_the_directory(vendor, sim):
    assert vendor.check() == f"{len(DEMO_PEOPLE) + 1} users"
    assert sim.credential_auth_count == 1


def test_connector_is_a_vendor_with_leave_whos_off_holidays_identity_departments_but_no_clock(vendor):
    assert isinstance(vendor, Vendor)
    assert vendor.capabilities == {
        Action.LEAVE,
        Action.WHOS_OFF,
        Action.HOLIDAYS,
        Action.IDENTITY,
        Action.DEPARTMENTS,
        Action.LEAVE_DECISION,
        Action.BALANCES,
    }
    assert vendor.half_days is True
    assert vendor.link_fields == ()


def test_departments_come_from_the_company_wide_user_list(vendor, sim):
    departments = vendor.departments()
    assert departments and set(departments.values()) <= {u.department_name for u in sim.users.values()}


def test_connector_sends_a_fresh_32_character_nonce_and_its_sha512_secret_each_time(vendor, sim, server):
    vendor.people()
    sim.expire_tokens()
    vendor.people()
    auths = [json.loads(r.body) for r in server.requests if "/authenticate/" in r.path]
    assert len(auths) == 2
    assert len({a["nonce"] for a in auths}) == 2
    for body in auths:
        assert len(body["nonce"]) == 32
        assert body["secret"] == make_secret(body["nonce"], sim.client_secret)
        assert body["app_id"] == sim.app_id


def test_every_data_call_carries_bearer_token_and_app_id(vendor, server, sim):
    vendor.people()
    vendor.leave_types()
    data_calls = [r for r in server.requests if "/authenticate/" not in r.path]
    assert len(data_calls) == 2
    for request in data_calls:
        assert request.headers["authorization"].startswith("Bearer ")
        assert request.headers["app-id"] == sim.app_id
        assert "gzip" in request.headers["accept-encoding"]


def test_token_is_reused_across_calls(vendor, sim):
    for _ in range(5):
        vendor.people()
    assert sim.auth_count == 1


def test_1000_calls_authenticate_once_and_once_more_after_expiry_without_losing_a_call(vendor, sim, server):
    results = []
    for i in range(1000):
        if i == 500:
            sim.expire_tokens()
        results.append(vendor.people())
    assert sim.auth_count == 2
    assert sim.credential_auth_count == 1 and sim.refresh_auth_count == 1
    assert len(results) == 1000
    assert all(len(r) == len(DEMO_PEOPLE) + 1 for r in results)
    data_calls = [r for r in server.requests if r.path.endswith("/user/retrieve")]
    assert len(data_calls) == 1001  # the one refused with TOK004, then retried


def test_eight_threads_seeing_expiry_together_cause_exactly_one_reauthentication(vendor, sim):
    vendor.people()
    sim.expire_tokens()
    barrier = threading.Barrier(8)
    results: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            results.append(len(vendor.people()))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert results == [len(DEMO_PEOPLE) + 1] * 8
    assert sim.auth_count == 2


def test_token_near_expiry_is_refreshed_with_the_access_token_not_credentials(vendor, sim, clock):
    vendor.people()
    clock.now += sim.token_ttl - 60  # inside the refresh margin, still valid at the simulator
    vendor.people()
    assert sim.credential_auth_count == 1
    assert sim.refresh_auth_count == 1


def test_refused_refresh_falls_back_to_credentials(vendor, sim, server):
    vendor.people()
    sim.revoke_tokens()  # TOK004 now, and the refresh is refused too
    assert len(vendor.people()) == len(DEMO_PEOPLE) + 1
    assert sim.credential_auth_count == 2


# --- auth failures become errors that name the setting ---------------------------------------


def test_wrong_client_secret_becomes_auth_error_naming_the_setting(sim, server):
    connector = WhosOff(settings_for(sim, server, client_secret="nope"))
    with pytest.raises(VendorAuthError) as caught:
        connector.check()
    assert "WHOSOFF_CLIENT_SECRET" in caught.value.user_message
    assert "nope" not in str(caught.value)
    connector.close()


def test_wrong_password_becomes_auth_error_naming_username_and_password(sim, server):
    connector = WhosOff(settings_for(sim, server, password="guess"))
    with pytest.raises(VendorAuthError) as caught:
        connector.people()
    assert "WHOSOFF_USERNAME and WHOSOFF_PASSWORD" in caught.value.user_message
    connector.close()


def test_wrong_app_id_becomes_auth_error_naming_the_setting(sim, server):
    connector = WhosOff(settings_for(sim, server, app_id="other"))
    with pytest.raises(VendorAuthError) as caught:
        connector.people()
    assert "WHOSOFF_APP_ID" in caught.value.user_message
    connector.close()


def test_secrets_never_reach_the_logs(sim, server, caplog):
    caplog.set_level("DEBUG")
    connector = WhosOff(settings_for(sim, server))
    connector.people()
    sim.expire_tokens()
    connector.people()
    connector.close()
    tokens = {r.headers["authorization"].split()[-1] for r in server.requests if "authorization" in r.headers}
    assert len(tokens) == 2
    for secret in (sim.client_secret, PASSWORD, *tokens, *sim.used_nonces):
        assert secret not in caplog.text


# --- leave ------------------------------------------------------------------------------------


def test_half_day_end_round_trips_as_a_morning(vendor, sim):
    ada = VendorUser(user_id(sim, "ada@example.com"))
    start = sim.today() + timedelta(days=40)
    created = vendor.request_leave(
        ada, LeaveRequest(start, start + timedelta(days=2), "11", end_portion=Portion.AM, note="Long weekend")
    )
    stored = sim.leave[int(created.absence_id or 0)]
    # docs/vendors/whosoff.md §7: a morning ends at noon
    assert stored.end.isoformat() == f"{start + timedelta(days=2)}T12:00:00"
    found = [a for a in vendor.absences(start, start + timedelta(days=5), []) if a.absence_id == created.absence_id]
    assert len(found) == 1
    absence = found[0]
    assert (absence.start, absence.end) == (start, start + timedelta(days=2))
    assert absence.portion_on(start) is Portion.FULL
    assert absence.portion_on(start + timedelta(days=2)) is Portion.AM
    assert absence.kind == "Annual Leave" and absence.reason == "Long weekend"
    assert absence.person_email == "ada@example.com"
    assert created == dataclasses.replace(absence, person_name=None, person_email=None)


def test_single_afternoon_is_encoded_from_noon_to_midnight_and_read_back_as_pm(vendor, sim):
    ada = VendorUser(user_id(sim, "ada@example.com"))
    day = sim.today() + timedelta(days=50)
    created = vendor.request_leave(ada, LeaveRequest(day, day, "11", start_portion=Portion.PM))
    stored = sim.leave[int(created.absence_id or 0)]
    assert (stored.start.hour, stored.end.date(), stored.end.hour) == (12, day + timedelta(days=1), 0)
    [mine] = [a for a in vendor.my_absences(ada, day, day) if a.absence_id == created.absence_id]
    assert mine.portion_on(day) is Portion.PM


def test_leave_type_needing_approval_comes_back_pending(vendor, sim):
    grace = VendorUser(user_id(sim, "grace@example.com"))
    day = sim.today() + timedelta(days=60)
    assert vendor.request_leave(grace, LeaveRequest(day, day, "14")).status == "pending"


def test_a_leave_request_answered_with_a_page_that_isnt_json_is_an_unknown_outcome_not_a_retry(vendor, sim, server):
    ada = VendorUser(user_id(sim, "ada@example.com"))
    day = sim.today() + timedelta(days=70)
    vendor.leave_types()  # signed in, so the next POST is the submit itself
    server.faults.only_methods = frozenset({"POST"})
    server.faults.script.extend(["pass", "garble"])  # validated; then booked, and a proxy's page comes back
    with pytest.raises(OutcomeUnknown):
        vendor.request_leave(ada, LeaveRequest(day, day, "11"))


def test_overlapping_leave_is_rejected_with_the_vendor_message_and_field(vendor, sim, server):
    ada = VendorUser(user_id(sim, "ada@example.com"))
    day = sim.today() + timedelta(days=70)
    vendor.request_leave(ada, LeaveRequest(day, day, "11"))
    with pytest.raises(VendorRejected) as caught:
        vendor.request_leave(ada, LeaveRequest(day, day, "12", start_portion=Portion.AM))
    assert "overlaps" in caught.value.user_message
    assert caught.value.field == "start"
    assert len(bodies(server, "/leave/submit")) == 1  # validation stopped the second one before submit


def test_request_leave_books_on_behalf_with_admin_true(vendor, sim, server):
    ada = VendorUser(user_id(sim, "ada@example.com"))
    day = sim.today() + timedelta(days=80)
    vendor.request_leave(ada, LeaveRequest(day, day, "11"))
    [submitted] = bodies(server, "/leave/submit")
    assert submitted["user_id"] == int(ada.vendor_user_id) and submitted["admin"] is True
    assert (submitted["start_date"], submitted["end_date"]) == (f"{day}T00:00", f"{day + timedelta(days=1)}T00:00")


def test_leave_types_are_listed(vendor):
    names = {t.name for t in vendor.leave_types()}
    assert {"Annual Leave", "Sickness", "Working From Home", "Unpaid Leave"} <= names


# --- who's off --------------------------------------------------------------------------------


def test_400_day_range_is_split_so_the_vendor_never_sees_more_than_365_days(vendor, sim, server):
    start = date(2027, 1, 4)
    grace, alan, kath = (
        int(user_id(sim, e)) for e in ("grace@example.com", "alan@example.com", "katherine@example.com")
    )
    first = sim.add_leave(grace, start)
    spanning = sim.add_leave(alan, start + timedelta(days=363), start + timedelta(days=367))
    last = sim.add_leave(kath, start + timedelta(days=399), start_portion=Portion.AM)
    found = vendor.absences(start, start + timedelta(days=399), [])
    assert {a.absence_id for a in found} >= {str(first), str(spanning), str(last)}
    assert len([a for a in found if a.absence_id == str(spanning)]) == 1
    ranges = [
        (date.fromisoformat(b["start_date"]), date.fromisoformat(b["end_date"]))
        for b in bodies(server, "/whosoff/retrieve")
    ]
    assert len(ranges) == 2
    assert all((hi - lo).days <= 365 for lo, hi in ranges)
    assert ranges[0][0] == start and ranges[-1][1] == start + timedelta(days=399)
    assert ranges[1][0] == ranges[0][1] + timedelta(days=1)


def test_company_digest_for_5000_people_is_one_request(sim, server):
    day = date(2027, 3, 1)
    ids = [sim.add_user(f"Person {i}", f"person{i}@example.com") for i in range(5000)]
    for uid in ids[:300]:
        sim.add_leave(uid, day, day + timedelta(days=1), leave_type="Annual Leave")
    connector = WhosOff(settings_for(sim, server))
    found = connector.absences(day, day, [VendorUser(str(u)) for u in ids])
    connector.close()
    assert len({a.vendor_user_id for a in found}) == 300
    assert len(bodies(server, "/whosoff/retrieve")) == 1


def test_cancelled_and_declined_leave_is_not_off(vendor, sim):
    day = date(2027, 5, 3)
    grace = int(user_id(sim, "grace@example.com"))
    sim.add_leave(grace, day, status="cancelled")
    sim.add_leave(grace, day, status="declined")
    assert vendor.absences(day, day, []) == []


def test_gzip_responses_are_decoded(vendor, sim):
    for i in range(200):
        sim.add_user(f"Extra Person{i}", f"extra{i}@example.com")
    encodings: list[str | None] = []
    vendor.http.client.event_hooks["response"] = [lambda r: encodings.append(r.headers.get("content-encoding"))]
    people = vendor.people()
    assert "gzip" in encodings
    assert {"ada@example.com", "extra199@example.com"} <= {p.email for p in people}


def test_people_match_the_demo_emails(vendor):
    emails = {p.email for p in vendor.people()}
    assert {p.email for p in DEMO_PEOPLE} <= emails


def test_holidays_are_the_free_days_not_the_restricted_ones(vendor, sim):
    today = sim.today()
    names = {h.name for h in vendor.holidays(today, today + timedelta(days=400))}
    assert {"Christmas Day", "Boxing Day", "New Year's Day"} <= names
    assert "Year-end close" not in names


# --- what WhosOff doesn't do -----------------------------------------------------------------


def test_clock_in_is_not_supported_and_sends_nothing(vendor, server, sim):
    assert not isinstance(vendor, ClockVendor)  # nothing to call: the connector has no such method
    with pytest.raises(NotSupported) as caught:
        Router({"whosoff": vendor}, {}).clock()
    assert "WhosOff" in caught.value.user_message
    assert caught.value.action is Action.CLOCK
    assert server.requests == []


def test_link_explains_that_people_are_matched_by_email(vendor, server):
    with pytest.raises(VendorRejected) as caught:
        vendor.link({})
    assert "email" in caught.value.user_message
    assert server.requests == []


# --- settings ---------------------------------------------------------------------------------


def test_settings_accept_the_contracts_root_name_and_spec_needs_credentials(monkeypatch):
    for name, value in {
        "WHOSOFF_ROOT": "https://whosoff.example",
        "WHOSOFF_APP_ID": "app",
        "WHOSOFF_CLIENT_SECRET": "s",
        "WHOSOFF_USERNAME": "u",
    }.items():
        monkeypatch.setenv(name, value)
    settings = WhosOffSettings(_env_file=None)
    assert settings.root() == "https://whosoff.example"
    assert SPEC.is_configured(settings) is False  # no password yet
    monkeypatch.setenv("WHOSOFF_PASSWORD", "p")
    assert SPEC.is_configured(WhosOffSettings(_env_file=None)) is True


def test_simulator_refuses_leave_off_the_documented_date_grammar(sim, server):
    headers = {"Authorization": f"Bearer {raw_token(sim, server)}", "app-id": sim.app_id}
    ada = int(user_id(sim, "ada@example.com"))
    day = sim.today() + timedelta(days=90)
    base = {"user_id": ada, "leave_type_id": 11, "admin": True}
    for start, end in (
        (f"{day}T09:10", f"{day}T09:25"),  # not on a 15-minute boundary
        (f"{day}T09:00", f"{day + timedelta(days=1)}T09:00"),  # hours across days
        (f"{day}", f"{day + timedelta(days=1)}"),
    ):  # DATE where DATETIME is required
        response = httpx.post(
            f"{server.base_url}/v4/leave/validate", headers=headers, json={**base, "start_date": start, "end_date": end}
        )
        assert response.status_code == 400
        assert only_error(response)[0] == "SIM-DATE"
    quarter = httpx.post(
        f"{server.base_url}/v4/leave/validate",
        headers=headers,
        json={**base, "start_date": f"{day}T09:00", "end_date": f"{day}T09:15"},
    )
    assert quarter.status_code == 200
