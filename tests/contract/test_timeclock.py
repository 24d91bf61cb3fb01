"""TimeClock's contract, as Timebot relies on it, run against the simulator and the real server.

Every test takes ``server`` and runs once per server: the same requests, the same assertions. The
real-server runs are marked ``real_timeclock`` and skip, with one reason, when the environment
names no real server (see tests/contract/conftest.py). Where the two disagree, the simulator is
wrong. ``GOLDEN`` holds the answers observed from the real server (docs/vendors/timeclock.md
says when), reduced to status, content type, the headers the connector reads, the JSON shape and
every error text, so the simulator is held to them even where no real server runs.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bot.domain import LeaveRequest, VendorUser
from bot.errors import SessionCrossesMidnight, VendorRejected
from bot.vendors.http import HttpPolicy
from bot.vendors.timeclock import TimeClock, TimeClockSettings
from tests.contract.conftest import SKIP_REASON, Person, TimeClockServer, open_server, real_timeclock

# --- helpers ---------------------------------------------------------------------------------------


def bearer(person: Person, at: float | None = None, key: str | None = None) -> str:
    stamp = int(time.time() if at is None else at)
    checksum = hashlib.sha1(f"{stamp}{key or person.api_key}".encode()).hexdigest()  # noqa: S324 - the vendor's scheme
    return f"Bearer {person.id}:{stamp}:{checksum}"


_HTTP = httpx.Client(timeout=30)  # one client: building one per request costs more than the request


def call(
    server: TimeClockServer, method: str, path: str, person: Person | None = None, **kwargs: Any
) -> httpx.Response:
    """One request; signed as ``person`` (default: the second person) unless ``headers`` are given."""
    headers = kwargs.pop("headers", None)
    if headers is None:
        headers = {"Authorization": bearer(person or server.people[1])}
    return _HTTP.request(method, f"{server.base_url}{path}", headers=headers, **kwargs)


def vendor(server: TimeClockServer, *, service: bool = False, clock: Callable[[], float] = time.time) -> TimeClock:
    extra: dict[str, Any] = {}
    if service:
        extra = {"service_user_id": str(server.people[0].id), "service_api_key": server.people[0].api_key}
    settings = TimeClockSettings(_env_file=None, base_url=server.base_url, **extra)  # type: ignore[call-arg]
    return TimeClock(settings, HttpPolicy(), clock=clock)


def key_of(person: Person) -> VendorUser:
    return VendorUser(str(person.id), person.api_key)


def stamp(day: date, hour: int, minute: int = 0) -> int:
    """Seconds at ``hour``:``minute`` UTC on ``day`` (an hour past 23 runs into the next day)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) + hour * 3600 + minute * 60


def past_day() -> date:
    """A weekday years ago: nothing else the tests make lands there (the server's zone is UTC)."""
    day = date(2004, 1, 5) + timedelta(weeks=random.randint(0, 500))
    return day


def future_year() -> int:
    """A year no one will have fetched holidays for, nor booked leave in."""
    return random.randint(3000, 9000)


# --- what an answer is, for comparing two servers -----------------------------------------------------

KEPT_HEADERS = (
    "www-authenticate",
    "x-pagination-total-count",
    "x-pagination-page-count",
    "x-pagination-per-page",
    "x-pagination-current-page",
)


def shape(value: Any) -> Any:
    """Types in place of values, except error texts, kept word for word."""
    if isinstance(value, list) and value and all(isinstance(v, dict) and set(v) == {"field", "message"} for v in value):
        return value
    if isinstance(value, dict) and {"name", "message", "code", "status"} <= set(value):
        return value
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if value is None:
        return None
    return type(value).__name__


def fingerprint(response: httpx.Response) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "").split(";")[0]
    if content_type == "application/json" and response.content:
        body = shape(response.json())
    else:
        body = "page" if response.content else None
    if response.is_redirect:
        body = urlsplit(response.headers["location"]).path
    return {
        "status": response.status_code,
        "type": content_type,
        "body": body,
        "date": "date" in response.headers,
        **{h: response.headers[h] for h in KEPT_HEADERS if h in response.headers},
    }


# --- the requests whose answers were recorded from the real server ----------------------------------


def _off(server: TimeClockServer, start: str, end: str, **extra: Any) -> httpx.Response:
    return call(server, "POST", "/api/off-times", json={"startAt": start, "endAt": end, "type": 1, **extra})


def _overlap(start: str, end: str) -> Callable[[TimeClockServer], httpx.Response]:
    def run(server: TimeClockServer) -> httpx.Response:
        assert _off(server, "2999-05-04", "2999-05-06").status_code == 201
        return _off(server, start, end)

    return run


def _session_then(body: dict[str, Any]) -> Callable[[TimeClockServer], httpx.Response]:
    def run(server: TimeClockServer) -> httpx.Response:
        day = past_day()
        created = call(server, "POST", "/api/sessions", json={"clockIn": stamp(day, 9)}).json()
        patch = {k: (stamp(day, *v) if isinstance(v, tuple) else v) for k, v in body.items()}
        return call(server, "PATCH", f"/api/sessions/{created['id']}", json=patch)

    return run


def _deleted_twice(server: TimeClockServer) -> httpx.Response:
    off = _off(server, "2999-07-01", "2999-07-01").json()
    first = call(server, "DELETE", f"/api/off-times/{off['id']}")
    assert first.status_code == 204 and not first.content
    return call(server, "DELETE", f"/api/off-times/{off['id']}")


def _recorded_not_found(server: TimeClockServer) -> httpx.Response:
    return call(server, "DELETE", "/api/off-times/999999")


def _fetched(server: TimeClockServer) -> httpx.Response:
    year = future_year()
    try:
        return call(server, "POST", "/api/holidays/fetch", json={"year": year})
    finally:
        server.drop_holidays(year)


def _sessions_page(server: TimeClockServer) -> httpx.Response:
    day = past_day()
    for hour in (9, 11, 13):
        call(server, "POST", "/api/sessions", json={"clockIn": stamp(day, hour), "clockOut": stamp(day, hour, 30)})
    return call(
        server,
        "GET",
        "/api/sessions",
        params={
            "filter[clockIn][gte]": stamp(day, 10),
            "sort": "-clockIn",
            "filter[clockIn][lt]": stamp(day, 23),
            "per-page": 50,
        },
    )


REQUESTS: dict[str, Callable[[TimeClockServer], httpx.Response]] = {
    "pin": lambda s: call(s, "POST", "/api/key", headers={}, json={"pin": s.people[1].pin}),
    "pin wrong": lambda s: call(s, "POST", "/api/key", headers={}, json={"pin": s.people[1].pin[:-1] + "9"}),
    "pin of no one": lambda s: call(s, "POST", "/api/key", headers={}, json={"pin": "99071"}),
    "pin blank": lambda s: call(s, "POST", "/api/key", headers={}, json={"pin": ""}),
    "pin missing": lambda s: call(s, "POST", "/api/key", headers={}, json={}),
    "pin not a number": lambda s: call(s, "POST", "/api/key", headers={}, json={"pin": "abc"}),
    "unsigned": lambda s: call(s, "GET", "/api/profile", headers={}),
    "bad checksum": lambda s: call(
        s, "GET", "/api/profile", headers={"Authorization": bearer(s.people[1], key="wrong")}
    ),
    "stamp 2 min old": lambda s: call(
        s, "GET", "/api/profile", headers={"Authorization": bearer(s.people[1], at=time.time() - 120)}
    ),
    "stamp 2 min ahead": lambda s: call(
        s, "GET", "/api/profile", headers={"Authorization": bearer(s.people[1], at=time.time() + 120)}
    ),
    "malformed token": lambda s: call(s, "GET", "/api/profile", headers={"Authorization": "Bearer garbage"}),
    "profile": lambda s: call(s, "GET", "/api/profile"),
    "projects none": lambda s: call(s, "GET", "/api/projects"),
    "project of someone else": lambda s: call(s, "GET", "/api/projects/999999"),
    "session create": lambda s: call(s, "POST", "/api/sessions", json={"clockIn": stamp(past_day(), 9)}),
    "session with a project": lambda s: call(
        s,
        "POST",
        "/api/sessions",
        json={"clockIn": stamp(past_day(), 9), "projectId": s.add_project("Contract Golden", [s.people[1].id])},
    ),
    "session unknown project": lambda s: call(s, "POST", "/api/sessions", json={"projectId": 999999}),
    "session close": _session_then({"clockOut": (10,), "note": "done"}),
    "session ends before it starts": _session_then({"clockOut": (8,)}),
    "session through midnight": _session_then({"clockOut": (25,)}),
    "sessions empty": lambda s: call(s, "GET", "/api/sessions", params={"sort": "-clockIn", "per-page": 50}),
    "sessions filtered and sorted": _sessions_page,
    "sessions filter below 1": lambda s: call(s, "GET", "/api/sessions", params={"filter[clockIn][gte]": 0}),
    "sessions filter not a number": lambda s: call(s, "GET", "/api/sessions", params={"filter[clockIn][gte]": "x"}),
    "sessions filter unknown": lambda s: call(s, "GET", "/api/sessions", params={"filter[userId]": "2"}),
    "off create": lambda s: _off(s, "2999-05-04", "2999-05-06", note=""),
    "off overlaps its start": _overlap("2999-05-06", "2999-05-08"),
    "off overlaps its end": _overlap("2999-05-01", "2999-05-04"),
    "off spans another": _overlap("2999-05-01", "2999-05-10"),
    "off ends before it starts": lambda s: _off(s, "2999-05-10", "2999-05-09"),
    "off without start": lambda s: call(s, "POST", "/api/off-times", json={"endAt": "2999-05-09", "type": 1}),
    "off of an unknown type": lambda s: call(
        s, "POST", "/api/off-times", json={"startAt": "2999-06-10", "endAt": "2999-06-11", "type": 7}
    ),
    "off filter bad date": lambda s: call(s, "GET", "/api/off-times", params={"filter[startAt][lte]": "bad"}),
    "off filter bad approved": lambda s: call(s, "GET", "/api/off-times", params={"filter[approved]": "5"}),
    "off deleted twice": _deleted_twice,
    "off not found": _recorded_not_found,
    "holidays of an unfetched year": lambda s: call(s, "GET", "/api/holidays", params={"filter[year]": future_year()}),
    "holidays year 0": lambda s: call(s, "GET", "/api/holidays", params={"filter[year]": 0}),
    "holidays fetch": _fetched,
    "holidays fetch without a year": lambda s: call(s, "POST", "/api/holidays/fetch", json={}),
    "approval page of a month": lambda s: call(s, "GET", "/admin/off/4/2999", headers={}),
}

_ERR_PIN = {"status": 422, "type": "application/json", "date": True}
_OFF = {
    "id": "int",
    "userId": "int",
    "startAt": "str",
    "endAt": "str",
    "note": None,
    "type": "int",
    "createdAt": "int",
    "updatedAt": "int",
}
_SESSION = {
    "id": "int",
    "userId": "int",
    "clockIn": "int",
    "clockOut": None,
    "note": None,
    "project": None,
    "createdAt": "int",
    "updatedAt": "int",
}
_FORBIDDEN = {
    "status": 403,
    "type": "application/json",
    "date": True,
    "body": {"name": "Forbidden", "message": "Invalid token provided", "code": 0, "status": 403},
}


def _invalid(field: str, message: str) -> dict[str, Any]:
    return {"status": 422, "type": "application/json", "date": True, "body": [{"field": field, "message": message}]}


def _page(body: list[Any], total: int, per_page: int = 20) -> dict[str, Any]:
    return {
        "status": 200,
        "type": "application/json",
        "date": True,
        "body": body,
        "x-pagination-total-count": str(total),
        "x-pagination-page-count": str(-(-total // per_page)),
        "x-pagination-per-page": str(per_page),
        "x-pagination-current-page": "1",
    }


def _not_found(ident: str) -> dict[str, Any]:
    return {
        "status": 404,
        "type": "application/json",
        "date": True,
        "body": {"name": "Not Found", "message": f"Object not found: {ident}", "code": 0, "status": 404},
    }


# Observed on the real bizley/timeclock server (commit d2273e9, PHP 8.2, MariaDB 10.11) on 2026-12-04.
GOLDEN: dict[str, dict[str, Any]] = {
    "pin": {"status": 200, "type": "application/json", "date": True, "body": {"userId": "int", "apiKey": "str"}},
    "pin wrong": {**_ERR_PIN, "body": [{"field": "pin", "message": "Invalid PIN."}]},
    "pin of no one": {**_ERR_PIN, "body": [{"field": "pin", "message": "Invalid PIN."}]},
    "pin blank": {**_ERR_PIN, "body": [{"field": "pin", "message": "Pin cannot be blank."}]},
    "pin missing": {**_ERR_PIN, "body": [{"field": "pin", "message": "Pin cannot be blank."}]},
    "pin not a number": {**_ERR_PIN, "body": [{"field": "pin", "message": "Pin must be a number."}]},
    "unsigned": {
        "status": 401,
        "type": "application/json",
        "date": True,
        "www-authenticate": 'Bearer realm="api"',
        "body": {
            "name": "Unauthorized",
            "message": "Your request was made with invalid credentials.",
            "code": 0,
            "status": 401,
        },
    },
    "bad checksum": _FORBIDDEN,
    "stamp 2 min old": _FORBIDDEN,
    "stamp 2 min ahead": _FORBIDDEN,
    "malformed token": _FORBIDDEN,
    "profile": {
        "status": 200,
        "type": "application/json",
        "date": True,
        "body": {
            "id": "int",
            "name": "str",
            "email": "str",
            "phone": None,
            "defaultProject": None,
            "availableProjects": [],
            "createdAt": "int",
            "updatedAt": "int",
        },
    },
    "projects none": _page([], 0),
    "project of someone else": _not_found("999999"),
    "session create": {"status": 201, "type": "application/json", "date": True, "body": _SESSION},
    "session with a project": {
        "status": 201,
        "type": "application/json",
        "date": True,
        "body": {
            **_SESSION,
            "project": {
                "id": "int",
                "name": "str",
                "color": "str",
                "assignees": ["int"],
                "status": "int",
                "created_at": "int",
                "updated_at": "int",
            },
        },
    },
    "session unknown project": _invalid("projectId", "Can not find project of given ID."),
    "session close": {
        "status": 200,
        "type": "application/json",
        "date": True,
        "body": {**_SESSION, "clockOut": "int", "note": "str"},
    },
    "session ends before it starts": _invalid("clockOut", 'Clock Out must be greater than "Clock In".'),
    "session through midnight": _invalid("clockOut", "Session can not last through midnight."),
    "sessions empty": _page([], 0, 50),
    "sessions filtered and sorted": _page([{**_SESSION, "clockOut": "int"}] * 2, 2, 50),
    "sessions filter below 1": _invalid("filter", "Clock In must be no less than 1."),
    "sessions filter not a number": _invalid("filter", "Clock In must be an integer."),
    "sessions filter unknown": _invalid("filter", 'Unknown filter attribute "userId"'),
    "off create": {"status": 201, "type": "application/json", "date": True, "body": {**_OFF, "approved": None}},
    "off overlaps its start": _invalid("startAt", "Can not start off-time because it overlaps with another off-time."),
    "off overlaps its end": _invalid("endAt", "Can not end off-time because it overlaps with another off-time."),
    "off spans another": _invalid("endAt", "Can not modify off-time because it overlaps with another off-time."),
    "off ends before it starts": _invalid("endAt", "Off-time ending day can not be earlier than starting day."),
    "off without start": _invalid("startAt", "Start At cannot be blank."),
    "off of an unknown type": _invalid("type", "Type is invalid."),
    "off filter bad date": _invalid("filter", "The format of Start At is invalid."),
    "off filter bad approved": _invalid("filter", "Approved is invalid."),
    "off deleted twice": {**_not_found("-"), "body": "deleted"},  # "Object not found: <this run's id>"
    "off not found": _not_found("999999"),
    "holidays of an unfetched year": _page([], 0),
    "holidays year 0": _invalid("filter", "Year must be no less than 1."),
    "holidays fetch": {"status": 204, "type": "text/html", "date": True, "body": None},
    "holidays fetch without a year": _invalid("year", "Year must be no less than 1."),
    # the web UI's page exists (an unknown admin page is a 500) and asks for an admin's login
    "approval page of a month": {"status": 302, "type": "text/html", "date": True, "body": "/site/login"},
}


def _comparable(name: str, answer: dict[str, Any]) -> dict[str, Any]:
    if name == "off deleted twice":  # "Object not found: <id>": the id is this run's
        body = answer.get("body")
        if isinstance(body, dict) and str(body.get("message", "")).startswith("Object not found: "):
            answer = {**answer, "body": "deleted"}
    return answer


@pytest.mark.parametrize("name", list(REQUESTS))
def test_each_answer_is_the_one_recorded_from_the_real_server(server: TimeClockServer, name: str) -> None:
    assert _comparable(name, fingerprint(REQUESTS[name](server))) == GOLDEN[name]


@pytest.mark.real_timeclock
def test_the_simulator_answers_every_recorded_request_as_the_real_server_does_now() -> None:
    """The same requests, now, on both servers: a difference in status, shape or error text fails,
    whether the simulator drifted or the real server changed since the answers were recorded."""
    if real_timeclock() is None:
        pytest.skip(SKIP_REASON)
    differences = {}
    for name, request in REQUESTS.items():
        got = {}
        for kind in ("sim", "real"):
            opened = open_server(kind)  # a fresh simulator, a reset real server
            try:
                got[kind] = _comparable(name, fingerprint(request(next(opened))))
            finally:
                opened.close()
        if got["sim"] != got["real"]:
            differences[name] = got
    assert differences == {}


# --- the connector on each server: what Timebot does with each route -------------------------------


def test_a_pin_links_the_person_with_their_key_email_and_name(server: TimeClockServer) -> None:
    alan = server.people[1]
    linked, person = vendor(server).link({"pin": alan.pin})
    assert (linked.vendor_user_id, linked.secret) == (str(alan.id), alan.api_key)
    assert (person.email, person.name) == (alan.email, alan.name)


def test_a_wrong_pin_is_refused_on_the_pin_field(server: TimeClockServer) -> None:
    with pytest.raises(VendorRejected) as refused:
        vendor(server).link({"pin": server.people[1].pin[:-1] + "9"})
    assert refused.value.field == "pin"


def test_a_clock_ten_minutes_slow_is_corrected_from_the_servers_date_header(server: TimeClockServer) -> None:
    slow = vendor(server, clock=lambda: time.time() - 600)
    assert slow.current_session(key_of(server.people[1])) is None
    assert 590 < slow.skew < 610


def test_a_second_session_may_run_so_the_current_one_is_the_latest(server: TimeClockServer) -> None:
    alan = server.people[1]
    day = past_day()
    for hour in (9, 10):
        assert call(server, "POST", "/api/sessions", json={"clockIn": stamp(day, hour)}).status_code == 201
    current = vendor(server).current_session(key_of(alan))
    assert current is not None and current.started_at == datetime.fromtimestamp(stamp(day, 10), UTC)


def test_clock_in_then_out_ends_the_session_and_it_is_read_back_in_its_range(server: TimeClockServer) -> None:
    tc, alan = vendor(server), key_of(server.people[1])
    started = tc.clock_in(alan, note="contract")
    ended = tc.clock_out(alan, started)
    assert ended.session_id == started.session_id and not ended.running
    found = tc.sessions(alan, started.started_at - timedelta(hours=1), ended.ended_at + timedelta(hours=1))
    assert [(s.session_id, s.note) for s in found] == [(started.session_id, "contract")]


def test_sessions_filter_on_clock_in_and_sort_newest_first(server: TimeClockServer) -> None:
    day = past_day()
    for hour in (8, 10, 12, 14):
        call(server, "POST", "/api/sessions", json={"clockIn": stamp(day, hour), "clockOut": stamp(day, hour, 30)})
    answer = call(
        server,
        "GET",
        "/api/sessions",
        params={"filter[clockIn][gte]": stamp(day, 10), "filter[clockIn][lt]": stamp(day, 14), "sort": "-clockIn"},
    )
    assert [r["clockIn"] for r in answer.json()] == [stamp(day, 12), stamp(day, 10)]


def test_more_than_fifty_sessions_come_in_pages_of_fifty_and_are_all_read(server: TimeClockServer) -> None:
    first = past_day()
    for i in range(55):
        day = first + timedelta(days=i // 5)
        hour = 8 + 2 * (i % 5)
        created = call(
            server, "POST", "/api/sessions", json={"clockIn": stamp(day, hour), "clockOut": stamp(day, hour, 45)}
        )
        assert created.status_code == 201, created.text
    page = call(server, "GET", "/api/sessions", params={"per-page": 100})
    assert (page.headers["X-Pagination-Per-Page"], page.headers["X-Pagination-Page-Count"]) == ("50", "2")
    assert len(page.json()) == 50
    start = datetime.fromtimestamp(stamp(first, 0), UTC)
    found = vendor(server).sessions(key_of(server.people[1]), start, start + timedelta(days=12))
    assert len(found) == 55


def test_a_session_cannot_be_closed_after_midnight_and_the_connector_says_so(server: TimeClockServer) -> None:
    day = past_day()
    tc, alan = vendor(server), key_of(server.people[1])
    created = call(server, "POST", "/api/sessions", json={"clockIn": stamp(day, 22)}).json()
    session = tc.sessions(
        alan, datetime.fromtimestamp(stamp(day, 21), UTC), datetime.fromtimestamp(stamp(day, 23), UTC)
    )[0]
    assert session.session_id == str(created["id"])
    with pytest.raises(SessionCrossesMidnight):
        tc.clock_out(alan, session, at=datetime.fromtimestamp(stamp(day, 25), UTC))
    refused = call(server, "PATCH", f"/api/sessions/{created['id']}", json={"clockOut": stamp(day, 25)})
    assert refused.json() == [{"field": "clockOut", "message": "Session can not last through midnight."}]


def test_leave_is_created_pending_though_the_answer_says_approved_null(server: TimeClockServer) -> None:
    start = date(2999, 3, 4)
    absence = vendor(server).request_leave(key_of(server.people[1]), LeaveRequest(start, start, "1", note="trip"))
    assert (absence.start, absence.end, absence.kind, absence.status) == (start, start, "Vacation", "pending")
    again = call(server, "GET", f"/api/off-times/{absence.absence_id}").json()
    assert again["approved"] == 0


def test_overlapping_leave_is_refused_on_the_field_that_overlaps(server: TimeClockServer) -> None:
    tc, alan = vendor(server), key_of(server.people[1])
    tc.request_leave(alan, LeaveRequest(date(2999, 3, 4), date(2999, 3, 6), "1"))
    with pytest.raises(VendorRejected, match="overlaps with another off-time") as refused:
        tc.request_leave(alan, LeaveRequest(date(2999, 3, 6), date(2999, 3, 8), "1"))
    assert refused.value.field == "start"


def test_leave_is_listed_by_overlap_with_the_range_and_an_approval_shows(server: TimeClockServer) -> None:
    tc, alan = vendor(server), key_of(server.people[1])
    inside = tc.request_leave(alan, LeaveRequest(date(2999, 3, 1), date(2999, 3, 3), "1"))
    tc.request_leave(alan, LeaveRequest(date(2999, 4, 1), date(2999, 4, 2), "1"))
    across = tc.request_leave(alan, LeaveRequest(date(2999, 2, 27), date(2999, 2, 28), "1"))
    server.decide(int(inside.absence_id), 1)
    found = tc.leave_requests(date(2999, 2, 28), date(2999, 3, 31), [alan])
    assert sorted((a.absence_id, a.status) for a in found) == sorted(
        [(inside.absence_id, "approved"), (across.absence_id, "pending")]
    )


def test_cancelling_twice_deletes_once_and_then_finds_it_gone(server: TimeClockServer) -> None:
    tc, alan = vendor(server), key_of(server.people[1])
    absence = tc.request_leave(alan, LeaveRequest(date(2999, 3, 4), date(2999, 3, 4), "1"))
    tc.cancel_leave(alan, absence.absence_id)
    tc.cancel_leave(alan, absence.absence_id)  # a 404 the second time: gone already, which is what was asked
    assert tc.my_absences(alan, date(2999, 1, 1), date(2999, 12, 31)) == []


def test_holidays_are_empty_until_the_year_is_filled_and_then_read(server: TimeClockServer) -> None:
    year = future_year()
    day = date(year, 5, 3)
    tc = vendor(server, service=True)
    try:
        assert tc.holidays(date(year, 1, 1), date(year, 12, 31)) == []  # fetched: nothing to scrape for that year
        server.store_holiday(day)  # what a fetch that reached the public calendar stores
        assert [h.day for h in tc.holidays(date(year, 1, 1), date(year, 12, 31))] == [day]
        listed = call(server, "GET", "/api/holidays", params={"filter[year]": year}).json()
        assert listed == [{"year": year, "month": 5, "day": 3}]
        assert call(server, "POST", "/api/holidays/fetch", json={"year": year}).status_code == 204
        assert call(server, "GET", "/api/holidays", params={"filter[year]": year}).json() == listed  # kept as is
    finally:
        server.drop_holidays(year)


def test_the_profile_names_the_key_owner(server: TimeClockServer) -> None:
    alan = server.people[1]
    profile = call(server, "GET", "/api/profile").json()
    assert (profile["id"], profile["name"], profile["email"]) == (alan.id, alan.name, alan.email)
    assert vendor(server, service=True).check() == f"signed in as user {server.people[0].id}"


def test_projects_are_the_ones_the_person_is_assigned_to_and_a_session_can_name_one(server: TimeClockServer) -> None:
    alan = server.people[1]
    mine = server.add_project("Contract Website", [alan.id])
    theirs = server.add_project("Contract Payroll", [server.people[0].id])
    assert [p["name"] for p in call(server, "GET", "/api/projects").json()] == ["Contract Website"]
    assert call(server, "GET", f"/api/projects/{mine}").json() == {
        "id": mine,
        "name": "Contract Website",
        "color": "#3366cc",
    }
    assert call(server, "GET", f"/api/projects/{theirs}").status_code == 404
    session = vendor(server).clock_in(key_of(alan), project="contract website")
    assert session.project == "Contract Website"
    with pytest.raises(VendorRejected, match="no TimeClock project called") as refused:
        vendor(server).clock_in(key_of(alan), project="Payroll")
    assert refused.value.field == "project"


def test_the_approval_link_is_the_web_uis_page_for_the_leaves_month(server: TimeClockServer) -> None:
    tc = vendor(server)
    absence = tc.request_leave(key_of(server.people[1]), LeaveRequest(date(2999, 4, 28), date(2999, 5, 2), "1"))
    link = tc.approval_url(absence)
    assert link == f"{server.base_url}/admin/off/4/2999"
    page = _HTTP.get(link)
    assert (page.status_code, urlsplit(page.headers["location"]).path) == (302, "/site/login")  # behind the login
