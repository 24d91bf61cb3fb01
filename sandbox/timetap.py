"""A local TimeTap that enforces what docs/vendors/timetap.md says (its §11 lists what, and a bare
§N in this module is a section of that page).

Faithful where the bot could be fooled: ``/sessionToken`` checks the apiKey and the
``md5(apiKey + privateKey)`` signature, tokens idle out after 4 h, and every failure is a 401
with Tomcat's HTML page rather than JSON. Time off is listed only by the old report with
``onlyTimeOff=1&excludeTimeOff=false`` (time off is excluded unless asked for), paged, and
soft-deleted blocks drop out of lists. Used by the tests and by ``timebot sandbox timetap``.

Choices where the vendor's docs say nothing (§10): ``/timeOffBulk`` answers 200 with the created
blocks; validation errors are 400 with a JSON ``message``; ``pageSize`` is capped at 100; a
token is only good on the prefix (/test or /live) that issued it.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandbox.people import DEMO_PEOPLE, DemoWeek
from sandbox.server import Request, Response, SimServer

TOKEN_IDLE_SECONDS = 4 * 3600  # documented, §4.4
MAX_PAGE_SIZE = 100  # inferred: the real maximum is unknown
ENVIRONMENTS = ("test", "live")
DEMO_API_KEY = "300001"
DEMO_PRIVATE_KEY = "0123456789abcdef0123456789abcdef"  # sandbox only: a local demo business

_MILITARY = re.compile(r"^\d{1,4}$")
_TOMCAT = (
    '<!doctype html><html lang="en"><head><title>HTTP Status {status} – {reason}</title>'
    '<style type="text/css">body {{font-family:Tahoma,Arial,sans-serif;}}</style></head>'
    '<body><h1>HTTP Status {status} – {reason}</h1><hr class="line" /><p><b>Type</b> Status Report</p>'
    '<p><b>Description</b> {description}</p><hr class="line" /><h3>Apache Tomcat</h3></body></html>'
)


def _tomcat(status: int, reason: str, description: str) -> Response:
    body = _TOMCAT.format(status=status, reason=reason, description=description)
    return Response.text(body, status, "text/html;charset=utf-8")


def _unauthorized() -> Response:
    """What TimeTap sends for a bad or expired token: Tomcat's HTML page (observed, §8)."""
    return _tomcat(
        401,
        "Unauthorized",
        "The request has not been applied to the target resource because it "
        "lacks valid authentication credentials for that resource.",
    )


def _not_found() -> Response:
    return _tomcat(
        404,
        "Not Found",
        "The origin server did not find a current representation for the target "
        "resource or is not willing to disclose that one exists.",
    )


def _not_allowed(allowed: str) -> Response:
    response = _tomcat(
        405, "Method Not Allowed", "The method received in the request-line is not supported by the target resource."
    )
    response.headers["Allow"] = allowed
    return response


def _bad(message: str) -> Response:
    return Response.json({"status": 400, "message": message}, 400)


def signature(api_key: str, private_key: str) -> str:
    return hashlib.md5(f"{api_key}{private_key}".encode()).hexdigest()  # noqa: S324 - the vendor's scheme


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes"}


def _military(value: Any) -> int | None:
    """``"1100"`` (time-off doc) or ``1100`` (appointments): both are accepted (inferred)."""
    if isinstance(value, bool):
        return None
    text = str(value).strip() if isinstance(value, int | str) else ""
    if not _MILITARY.match(text):
        return None
    number = int(text)
    return number if number // 100 <= 23 and number % 100 <= 59 else None


def _parse_day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _int_list(value: str | None) -> list[int] | None:
    if value is None or value.strip() in {"", "null"}:
        return None
    return [int(v) for v in value.split(",") if v.strip().isdigit()]


class TimeTapSim:
    """One TimeTap business. ``clock`` drives token expiry and created dates."""

    def __init__(
        self, api_key: str = DEMO_API_KEY, private_key: str | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        if not api_key.isdigit():
            raise ValueError("a TimeTap apiKey is numeric (it is the businessId)")
        self.api_key = api_key
        self.private_key = private_key or secrets.token_hex(16)
        self.business_id = int(api_key)
        self.clock = clock
        self.staff: dict[int, dict[str, Any]] = {}
        self.reasons: dict[int, dict[str, Any]] = {}
        self.locations: dict[int, dict[str, Any]] = {}
        self.appointments: list[dict[str, Any]] = []  # client bookings, so the time-off filters matter
        self.time_off: list[dict[str, Any]] = []  # soft-deleted blocks stay here with active False
        self.auth_count = 0  # successful /sessionToken calls
        self.rejected_auth = 0  # refused /sessionToken calls
        self.rejected_calls = 0  # API calls refused for a missing, unknown or expired token
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (environment, last use)
        self._staff_ids = itertools.count(500001)
        self._reason_ids = itertools.count(600001)
        self._calendar_ids = itertools.count(700001)  # appointments and time off share ids (doc)
        self._lock = threading.RLock()
        self.add_location("Main office")

    # --- seeding and test hooks ------------------------------------------------------------

    def add_staff(self, first_name: str, last_name: str, email: str, *, active: bool = True) -> dict[str, Any]:
        with self._lock:
            staff_id = next(self._staff_ids)
            row = {
                "professionalId": staff_id,
                "businessId": self.business_id,
                "firstName": first_name,
                "lastName": last_name,
                "fullName": f"{first_name} {last_name}".strip(),
                "emailAddress": email,
                "active": active,
            }
            self.staff[staff_id] = row
            return row

    def add_reason(self, description: str, reason_type: str = "PERSONAL") -> dict[str, Any]:
        with self._lock:
            reason_id = next(self._reason_ids)
            row = {
                "reasonId": reason_id,
                "professionalId": None,
                "businessId": self.business_id,
                "visitMinutes": 60 if reason_type != "PERSONAL" else 0,
                "reasonDesc": description,
                "active": True,
                "personal": reason_type == "PERSONAL",
                "reasonType": reason_type,
                "allowOnline": reason_type != "PERSONAL",
                "createdDate": int(self.clock() * 1000),
            }
            self.reasons[reason_id] = row
            return row

    def add_location(self, name: str) -> dict[str, Any]:
        with self._lock:
            location_id = 400001 + len(self.locations)
            row = {
                "locationId": location_id,
                "locationName": name,
                "businessId": self.business_id,
                "active": True,
                "locationType": "PHYSICAL",
                "createdDate": int(self.clock() * 1000),
                "visible": True,
            }
            self.locations[location_id] = row
            return row

    def add_time_off(
        self, staff_id: int, start: date, end: date, *, reason_id: int | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """Seed a whole-day block as if someone had entered it in TimeTap."""
        with self._lock:
            rid = reason_id or next(r["reasonId"] for r in self.reasons.values() if r["reasonType"] == "PERSONAL")
            return self._insert_time_off(staff_id, start, end, 0, 2359, self.reasons[rid], note)

    def add_appointment(
        self, staff_id: int, day: date, start_time: int = 900, end_time: int = 930, status: str = "OPEN"
    ) -> dict[str, Any]:
        with self._lock:
            reason = next((r for r in self.reasons.values() if r["reasonType"] != "PERSONAL"), None)
            row = {
                "calendarId": next(self._calendar_ids),
                "businessId": self.business_id,
                "status": status,
                "staff": {"professionalId": staff_id},
                "location": {"locationId": next(iter(self.locations))},
                "reason": {"reasonId": reason["reasonId"], "reasonDesc": reason["reasonDesc"]} if reason else None,
                "client": {
                    "clientId": 900001,
                    "firstName": "Casey",
                    "lastName": "Client",
                    "fullName": "Casey Client",
                    "emailAddress": "casey@example.org",
                },
                "startDate": day.isoformat(),
                "endDate": day.isoformat(),
                "startTime": start_time,
                "endTime": end_time,
                "clientStartDate": day.isoformat(),
                "clientEndDate": day.isoformat(),
                "clientStartTime": start_time,
                "clientEndTime": end_time,
                "note": None,
            }
            self.appointments.append(row)
            return row

    def expire_tokens(self) -> None:
        """Invalidate every token, as if each had been idle for more than 4 hours."""
        with self._lock:
            self._tokens.clear()

    def issue_token(self, environment: str = "test") -> str:
        """A valid token without an HTTP round trip (for tests of other endpoints)."""
        with self._lock:
            return self._issue(environment)

    def active_time_off(self) -> list[dict[str, Any]]:
        with self._lock:
            return [t for t in self.time_off if t["active"]]

    @classmethod
    def demo(cls, clock: Callable[[], float] = time.time, *, leave: bool = False) -> TimeTapSim:
        """The demo business: the shared demo people as staff, two time-off reasons, a client
        booking and one block of leave, with the sandbox's fixed keys; ``leave`` adds a sick day
        this week and a vacation next week (the sandbox and the console)."""
        sim = cls(DEMO_API_KEY, DEMO_PRIVATE_KEY, clock)
        for person in DEMO_PEOPLE:
            first, _, last = person.name.partition(" ")
            sim.add_staff(first, last, person.email)
        sim.add_reason("Consultation", "SERVICE")
        sim.add_reason("Group class", "CLASS")
        sim.add_reason("Vacation", "PERSONAL")
        sim.add_reason("Sick day", "PERSONAL")
        today = datetime.fromtimestamp(clock(), UTC).date()
        staff = list(sim.staff)
        sim.add_appointment(staff[0], today)
        sim.add_time_off(staff[-1], today + timedelta(days=7), today + timedelta(days=9), note="Family trip")
        if leave:
            week = DemoWeek.of(today)
            sick = next(r["reasonId"] for r in sim.reasons.values() if r["reasonDesc"] == "Sick day")
            sim.add_time_off(staff[1], week.first, week.first + timedelta(days=1), reason_id=sick)
            sim.add_time_off(staff[2], week.next_week(1), week.next_week(2), note="Bletchley reunion")
        return sim

    # --- auth ------------------------------------------------------------------------------

    def _issue(self, environment: str) -> str:
        token = f"st:api:api:{secrets.token_hex(16)}"
        self._tokens[token] = (environment, self.clock())
        return token

    def _session_token(self, request: Request, environment: str) -> Response:
        if request.method != "GET":
            return _not_allowed("GET")
        api_key, stamp, given = request.arg("apiKey"), request.arg("timestamp"), request.arg("signature")
        valid = (
            api_key == self.api_key
            and stamp is not None
            and _is_number(stamp)  # numeric, but no time window (§4.3)
            and given is not None
            and secrets.compare_digest(given, signature(self.api_key, self.private_key))
        )
        if not valid:
            self.rejected_auth += 1
            return _unauthorized()
        self.auth_count += 1
        return Response.json({"sessionToken": self._issue(environment)})

    def _authorized(self, request: Request, environment: str) -> bool:
        header = request.headers.get("authorization", "")
        token = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else request.arg("sessionToken")
        entry = self._tokens.get(token or "")
        now = self.clock()
        if entry is None or entry[0] != environment or now - entry[1] >= TOKEN_IDLE_SECONDS:
            if entry is not None and now - entry[1] >= TOKEN_IDLE_SECONDS:
                del self._tokens[token or ""]
            self.rejected_calls += 1
            return False
        self._tokens[token or ""] = (environment, now)  # each use restarts the idle timer (inferred)
        return True

    # --- dispatch --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p]
        if not parts or parts[0] not in ENVIRONMENTS:
            return _not_found()
        environment, rest = parts[0], parts[1:]
        with self._lock:
            if rest == ["sessionToken"]:
                return self._session_token(request, environment)
            if not self._authorized(request, environment):
                return _unauthorized()
            return self._route(request, rest)

    def _route(self, request: Request, rest: list[str]) -> Response:
        method = request.method
        head, args = (rest[0], rest[1:]) if rest else ("", [])
        if head == "timeOffBulk" and not args:
            return self._create_time_off(request) if method == "POST" else _not_allowed("POST")
        if head == "timeOff" and len(args) == 1:
            return self._time_off_item(request, args[0])
        if method != "GET":
            return _not_allowed("GET")
        if head in {"staff", "locations", "services"} and len(args) <= 1:
            table = {"staff": self.staff, "locations": self.locations, "services": self.reasons}[head]
            if not args:
                return Response.json(list(table.values()))
            row = table.get(int(args[0])) if args[0].isdigit() else None
            return Response.json(row) if row is not None else _not_found()
        if head == "appointments" and args == ["report"]:
            return self._report(request, legacy=True)
        if head == "appointmentList" and args == ["report"]:
            return self._report(request, legacy=False)
        if head == "appointmentList" and args == ["reportCount"]:
            return self._report(request, legacy=False, count=True)
        if head == "appointments" and len(args) == 1 and args[0].isdigit():
            row = self._calendar_item(int(args[0]))
            return Response.json(row) if row is not None else _not_found()
        return _not_found()

    # --- lists -----------------------------------------------------------------------------

    def _report(self, request: Request, *, legacy: bool, count: bool = False) -> Response:
        """``/appointments/report`` lists time off only when told to (``onlyTimeOff=1`` and
        ``excludeTimeOff=false``, documented, §6.1); ``/appointmentList/report`` lists bookings."""
        try:
            page = int(request.arg("pageNumber") or 1)
            size = int(request.arg("pageSize") or 25)
            services = _int_list(request.arg("serviceIdList") or request.arg("reasonIdList"))
        except ValueError:
            return _bad("pageNumber and pageSize must be integers")
        if page < 1 or size < 1:
            return _bad("pageNumber and pageSize must be at least 1")
        size = min(size, MAX_PAGE_SIZE)
        only_time_off = legacy and _flag(request.arg("onlyTimeOff"), False)
        exclude_time_off = not legacy or _flag(request.arg("excludeTimeOff"), True)
        rows: list[dict[str, Any]] = []
        if not only_time_off:
            rows.extend(self.appointments)
        if not exclude_time_off:
            rows.extend(t for t in self.time_off if t["active"])
        start, end = _parse_day(request.arg("startDate")), _parse_day(request.arg("endDate"))
        if start is not None:
            rows = [r for r in rows if r["endDate"] >= start.isoformat()]
        if end is not None:
            rows = [r for r in rows if r["startDate"] <= end.isoformat()]
        statuses = {s.strip().upper() for s in (request.arg("statusList") or "").split(",") if s.strip()}
        if statuses:
            rows = [r for r in rows if "status" not in r or r["status"] in statuses]
        if services is not None:
            rows = [r for r in rows if r.get("reason") and r["reason"].get("reasonId") in services]
        if count:
            return Response.json({"count": len(rows)})
        rows.sort(key=lambda r: (r["startDate"], r["startTime"], r["calendarId"]))
        return Response.json(rows[(page - 1) * size : page * size])

    def _calendar_item(self, calendar_id: int) -> dict[str, Any] | None:
        for row in (*self.appointments, *self.time_off):
            if row["calendarId"] == calendar_id:
                return row
        return None

    # --- time off --------------------------------------------------------------------------

    def _insert_time_off(
        self,
        staff_id: int,
        start: date,
        end: date,
        start_time: int,
        end_time: int,
        reason: dict[str, Any],
        note: str | None,
    ) -> dict[str, Any]:
        ident = next(self._calendar_ids)
        created = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d %H:%M:%S")
        row = {
            "calendarId": ident,
            "timeOffId": ident,
            "businessId": self.business_id,
            "staff": {"professionalId": staff_id},
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "startTime": start_time,
            "endTime": end_time,
            "reason": dict(reason),
            "note": note or None,
            "active": True,
            "color": "#9e9e9e",
            "createdDate": created,
            "createdUser": "api",
            "modifiedDate": created,
        }
        self.time_off.append(row)
        return row

    def _validate(self, data: dict[str, Any], *, bulk: bool) -> tuple[dict[str, Any], Response | None]:
        """The checks a strict server would make on a time-off body; the real list is unknown."""
        out: dict[str, Any] = {}
        if bulk:
            if str(data.get("businessId")) != self.api_key:
                return out, _bad("businessId does not match this API key")
            staff = data.get("staffId")
            if not isinstance(staff, list) or not staff:
                return out, _bad("staffId must be a non-empty list")
            ids = [int(s) for s in staff if isinstance(s, int | str) and str(s).isdigit()]
            if len(ids) != len(staff) or any(i not in self.staff for i in ids):
                return out, _bad("unknown staffId")
            out["staff"] = ids
        start, end = _parse_day(data.get("startDate")), _parse_day(data.get("endDate"))
        if start is None or end is None:
            return out, _bad("startDate and endDate must be YYYY-MM-DD")
        start_time, end_time = _military(data.get("startTime", 0)), _military(data.get("endTime", 2359))
        if start_time is None or end_time is None:
            return out, _bad("startTime and endTime must be military times such as 0900")
        if (end, end_time) < (start, start_time):
            return out, _bad("the time off ends before it starts")
        reason = data.get("reason")
        reason_id = reason.get("reasonId") if isinstance(reason, dict) else None
        known = (
            self.reasons.get(int(reason_id)) if isinstance(reason_id, int | str) and str(reason_id).isdigit() else None
        )
        if known is None or known["reasonType"] != "PERSONAL":
            return out, _bad("reason must be a service with reasonType PERSONAL")
        note = data.get("note")
        out.update(
            start=start,
            end=end,
            start_time=start_time,
            end_time=end_time,
            reason=known,
            note=note if isinstance(note, str) else None,
        )
        return out, None

    def _body(self, request: Request, *, bulk: bool) -> tuple[dict[str, Any], Response | None]:
        """The request's JSON object, validated as a time-off body (POST: ``bulk``; PUT: one)."""
        try:
            data = request.json()
        except ValueError:
            return {}, _bad("the body must be JSON")
        if not isinstance(data, dict):
            return {}, _bad("the body must be a JSON object")
        return self._validate(data, bulk=bulk)

    def _create_time_off(self, request: Request) -> Response:
        values, error = self._body(request, bulk=True)
        if error is not None:
            return error
        created = [
            self._insert_time_off(
                staff_id,
                values["start"],
                values["end"],
                values["start_time"],
                values["end_time"],
                values["reason"],
                values["note"],
            )
            for staff_id in values["staff"]
        ]
        return Response.json(created)

    def _time_off_item(self, request: Request, raw_id: str) -> Response:
        row = next((t for t in self.time_off if raw_id.isdigit() and t["timeOffId"] == int(raw_id)), None)
        if row is None:
            return _not_found()
        if request.method == "GET":
            return Response.json(row)
        if request.method == "DELETE":
            row["active"] = False  # "removes a timeOff object from view" (doc): a soft delete
            row["modifiedDate"] = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d %H:%M:%S")
            return Response.json(row)
        if request.method == "PUT":
            values, error = self._body(request, bulk=False)
            if error is not None:
                return error
            row.update(
                startDate=values["start"].isoformat(),
                endDate=values["end"].isoformat(),
                startTime=values["start_time"],
                endTime=values["end_time"],
                reason=dict(values["reason"]),
                note=values["note"],
                modifiedDate=datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d %H:%M:%S"),
            )
            return Response.json(row)
        return _not_allowed("GET, PUT, DELETE")


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def serve(port: int) -> None:
    sim = TimeTapSim.demo(leave=True)
    print(f"TimeTap sandbox on http://127.0.0.1:{port} (prefixes /test and /live)")
    print(f"TIMETAP_BASE_URL=http://127.0.0.1:{port}")
    print("TIMETAP_ENVIRONMENT=test")
    print(f"TIMETAP_API_KEY={sim.api_key}")
    print(f"TIMETAP_PRIVATE_KEY={sim.private_key}")
    print("Staff (people are matched by Slack email):")
    for staff in sim.staff.values():
        print(f"  {staff['emailAddress']}: professionalId {staff['professionalId']}")
    SimServer(sim.handle, port=port, name="timetap").serve_forever()
