"""A local SwipeClock: the authentication service and the TimeWorksPlus API in one handler.

Faithful where the bot could be fooled (docs/vendors/swipeclock.md §12; a bare §N in this module
is a section of that page): the
originating JWT's HS256 signature is checked over the exact bytes received with the secret its
``iss``/``sub`` select, ``exp`` must lie within five minutes (plus leeway), the product's
required claims are enforced, and issued tokens expire, are scoped to one site, and to one
employee for ``twpemp``. State (employees, punches, time off, balances) persists so writes read
back. Used by the tests and by ``timebot sandbox swipeclock``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jwt import PyJWTError, api_jws

from sandbox.people import DEMO_PEOPLE, DemoWeek
from sandbox.server import Request, Response, SimServer

AUTH_PATH = "/authenticationservice/oauth2/usertoken"  # matched without regard to case (observed, §3)
MAX_ORIGINATING_LIFETIME = 300

DEMO_SITE_ID = 5543
DEMO_PARTNER_ID = 1234
DEMO_SITE_SECRET = "sandbox-site-secret-not-real-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
DEMO_PARTNER_SECRET = "sandbox-partner-secret-not-real-0123456789abcdefghijklmnopqrstuv"  # noqa: S105

_PRODUCTS = {"twpemp", "twpclient", "twppartner", "tsemp", "tspartner", "twplogin"}
_USER_TYPES = {
    "twpemp": {"id", "guid", "empcode"},
    "tsemp": {"id", "extid", "extguid"},
    "twplogin": {"login", "loginguid"},
}
_DERIVED_SUBJECT = {"twppartner": "partner", "tsemp": "partner", "tspartner": "partner", "twpclient": "client"}
_BEARER = re.compile(r"^Bearer\s+(\S+)\s*$", re.IGNORECASE)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DENIED = "Authorization has been denied for this request."


@dataclass
class ScEmployee:
    code: str
    first_name: str
    last_name: str
    email: str | None
    internal_id: int
    guid: str
    phone: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    department: str | None = None

    def active_on(self, day: date) -> bool:
        return self.end_date is None or self.end_date >= day


@dataclass
class PunchLine:
    """One In punch and, once the person clocks out, its Out punch (local wall-clock times)."""

    code: str
    punch_in: datetime
    punch_out: datetime | None = None
    job: str | None = None


@dataclass
class TimeOffDay:
    code: str
    day: date
    hours: float
    category: str
    status: str = "Pending"
    comments: str | None = None
    requested_at: datetime | None = None
    approved_at: datetime | None = None
    approved_by: str | None = None


@dataclass
class _Issued:
    """What the simulator remembers about an access token it issued."""

    expires_at: float
    product: str
    site_id: int | None
    employee_code: str | None


@dataclass
class _Originating:
    claims: dict[str, Any]
    subject: str
    issuer: int


class _Refused(Exception):
    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _message(text: str, status: int) -> Response:
    """ASP.NET Web API's default error body (inferred, §9)."""
    return Response.json({"Message": text}, status)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _stamp(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    return f"{value.isoformat()}T00:00:00"


class SwipeClockSim:
    """One site (``site_id``) administered by one partner (``partner_id``); each has a secret."""

    def __init__(
        self,
        *,
        site_id: int = DEMO_SITE_ID,
        site_secret: str | None = None,
        partner_id: int = DEMO_PARTNER_ID,
        partner_secret: str | None = None,
        clock: Callable[[], float] = time.time,
        timezone: str = "UTC",
        token_ttl: float = 3600.0,
        leeway: float = 60.0,
        pay_period_days: int = 14,
        pay_period_anchor: date = date(2024, 1, 7),
        categories: tuple[str, ...] = ("PTO", "SICK", "HOLIDAY"),
    ) -> None:
        self.site_id = site_id
        self.site_secret = site_secret or secrets.token_urlsafe(48)
        self.partner_id = partner_id
        self.partner_secret = partner_secret or secrets.token_urlsafe(48)
        self.clock = clock
        self.tz = ZoneInfo(timezone)
        self.token_ttl = token_ttl
        self.leeway = leeway
        self.pay_period_days = pay_period_days
        self.pay_period_anchor = pay_period_anchor
        self.categories = list(categories)
        self.employees: dict[str, ScEmployee] = {}  # by lower-cased employee code
        self.punches: list[PunchLine] = []
        self.time_off: list[TimeOffDay] = []
        self.balances: dict[str, dict[str, float]] = {}
        self.auth_count = 0  # successful token exchanges
        self.auth_failures = 0
        self._key = secrets.token_bytes(32)  # signs issued tokens; the bot never sees it
        self._issued: dict[str, _Issued] = {}
        self._next_id = 100_000
        self._lock = threading.RLock()

    # --- seeding and test hooks ------------------------------------------------------------

    def add_employee(
        self,
        code: str,
        first_name: str,
        last_name: str,
        email: str | None = None,
        *,
        phone: str | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
        department: str | None = None,
    ) -> ScEmployee:
        with self._lock:
            self._next_id += 1
            employee = ScEmployee(
                code,
                first_name,
                last_name,
                email,
                self._next_id,
                str(uuid.uuid4()),
                phone,
                start_date or date(2020, 1, 1),
                end_date,
                department,
            )
            self.employees[code.lower()] = employee
            return employee

    def add_time_off(
        self,
        code: str,
        start: date,
        end: date | None = None,
        *,
        category: str = "PTO",
        hours: float = 8.0,
        status: str = "Approved",
        comments: str | None = None,
    ) -> list[TimeOffDay]:
        """Seed a request covering every weekday in [start, end], as the portal would."""
        with self._lock:
            employee = self.employees[code.lower()]
            made = []
            day = start
            while day <= (end or start):
                if day.weekday() < 5:
                    now = self._local_now()
                    row = TimeOffDay(
                        employee.code,
                        day,
                        hours,
                        category,
                        status,
                        comments,
                        now,
                        now if status == "Approved" else None,
                        "sandbox" if status == "Approved" else None,
                    )
                    self.time_off.append(row)
                    made.append(row)
                day += timedelta(days=1)
            return made

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now (a 401 on its next use)."""
        with self._lock:
            now = self.clock()
            for issued in self._issued.values():
                issued.expires_at = min(issued.expires_at, now)

    def open_punch(self, code: str) -> PunchLine | None:
        with self._lock:
            return next((p for p in self.punches if p.code.lower() == code.lower() and p.punch_out is None), None)

    @classmethod
    def demo(cls, clock: Callable[[], float] = time.time, *, leave: bool = False) -> SwipeClockSim:
        """The shared demo company, with fixed secrets so a ``.env`` survives restarts; ``leave``
        adds sick days next week (the sandbox and the console)."""
        sim = cls(site_secret=DEMO_SITE_SECRET, partner_secret=DEMO_PARTNER_SECRET, clock=clock)
        for i, person in enumerate(DEMO_PEOPLE, start=1):
            first, _, last = person.name.partition(" ")
            sim.add_employee(f"EMP{i:03d}", first, last, person.email, department="Engineering")
            sim.balances[f"EMP{i:03d}"] = {"PTO": 80.0, "SICK": 24.0}
        today = sim._local_now().date()
        while today.weekday() >= 5:  # seed on working days so "who's off" has something to show
            today += timedelta(days=1)
        if len(DEMO_PEOPLE) >= 4:
            sim.add_time_off("EMP003", today, today + timedelta(days=1), comments="Bletchley reunion")
            sim.add_time_off("EMP004", today + timedelta(days=7), today + timedelta(days=8), status="Pending")
        if leave:
            week = DemoWeek.of(today)
            sim.add_time_off("EMP002", week.next_week(1), week.next_week(2), category="SICK")
        return sim

    # --- dispatch --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        with self._lock:
            if path.lower() == AUTH_PATH:
                return self._token(request)
            if path.lower().startswith("/api/"):
                return self._api(request, path[len("/api/") :].split("/"))
        return self._not_found(request)

    def _not_found(self, request: Request) -> Response:
        return _message(f"No HTTP resource was found that matches the request URI '{request.path}'.", 404)

    def _not_allowed(self, request: Request) -> Response:
        return _message(f"The requested resource does not support http method '{request.method}'.", 405)

    def _local_now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), self.tz).replace(tzinfo=None)

    # --- authentication service ------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return self._not_allowed(request)
        try:
            originating = self._verify_originating(request.headers.get("authorization", ""))
            response = self._issue(originating)
        except _Refused as refused:
            self.auth_failures += 1
            return _message(refused.message, refused.status)
        self.auth_count += 1
        return response

    def _verify_originating(self, header: str) -> _Originating:
        """§12 step 1: alg, then the secret that ``iss``/``sub`` select, then the signature over
        the bytes as received (never re-serialised), then the time window."""
        match = _BEARER.match(header)
        if not match:
            raise _Refused("Authorization has been denied for this request.")
        token = match.group(1)
        parts = token.split(".")
        if len(parts) != 3:
            raise _Refused("Invalid token.")
        try:
            head = json.loads(_b64decode(parts[0]))
            claims = json.loads(_b64decode(parts[1]))
            signature = _b64decode(parts[2])
        except (ValueError, binascii.Error):
            raise _Refused("Invalid token.") from None
        if not isinstance(head, dict) or not isinstance(claims, dict):
            raise _Refused("Invalid token.")
        if head.get("alg") != "HS256":
            raise _Refused("Invalid algorithm: tokens must be signed with HS256.")
        for name in ("iss", "exp", "product"):
            if name not in claims:
                raise _Refused(f"The '{name}' claim is required.")
        issuer = claims["iss"]
        if not isinstance(issuer, int) or isinstance(issuer, bool):
            raise _Refused("The 'iss' claim must be an integer.")
        product = str(claims["product"]).lower()
        if product not in _PRODUCTS:
            raise _Refused(f"Unknown product '{claims['product']}'.")
        sub = claims.get("sub")
        if sub is None and product in ("twpemp", "twplogin"):
            raise _Refused(f"The 'sub' claim is required for product {product}.")
        subject = str(sub).lower() if sub is not None else _DERIVED_SUBJECT[product]
        if subject == "partner" and issuer == self.partner_id:
            secret = self.partner_secret
        elif subject == "client" and issuer == self.site_id:
            secret = self.site_secret
        else:
            raise _Refused("Invalid issuer.")
        expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, signature):
            raise _Refused("Invalid Signature")
        now = self.clock()
        exp = claims["exp"]
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise _Refused("The 'exp' claim must be an integer.")
        if exp <= now:
            raise _Refused("Token has expired.")
        if exp > now + MAX_ORIGINATING_LIFETIME + self.leeway:
            raise _Refused("Token expiration must be no more than 5 minutes in the future.")
        iat = claims.get("iat")
        if iat is not None and (not isinstance(iat, int | float) or isinstance(iat, bool) or iat > now + self.leeway):
            raise _Refused("Token issued-at time is in the future.")
        return _Originating(claims, subject, issuer)

    def _site_of(self, claims: dict[str, Any], product: str) -> int | None:
        info = claims.get("siteInfo")
        needs_site = product in ("twpemp", "twpclient", "twppartner", "tsemp", "tspartner")
        if info is None:
            if needs_site:
                raise _Refused(f"The 'siteInfo' claim is required for product {product}.")
            return None
        if not isinstance(info, dict) or "type" not in info or "id" not in info:
            raise _Refused("The 'siteInfo' claim needs 'type' and 'id'.")
        kind = str(info["type"]).lower()
        if kind not in ("id", "extid") or (kind == "extid" and not product.startswith("ts")):
            raise _Refused(f"siteInfo type '{info['type']}' is not valid for product {product}.")
        site = str(info["id"]).strip()
        if not site.isdigit() or int(site) != self.site_id:
            raise _Refused("The site in 'siteInfo' is not available to this issuer.")
        return int(site)

    def _issue(self, originating: _Originating) -> Response:
        """Check the product's combination rules (§4.3) and answer 201 with an issued token."""
        claims, subject = originating.claims, originating.subject
        product = str(claims["product"]).lower()
        wants = {"twpemp": None, "twplogin": None, "twpclient": "client"}.get(product, "partner")
        if wants is not None and subject != wants:
            raise _Refused(f"Product {product} needs a {wants}-level secret.")
        site = self._site_of(claims, product)
        if subject == "client" and site is not None and site != originating.issuer:
            raise _Refused("A client secret only covers its own site.")
        user = claims.get("user")
        employee_code: str | None = None
        if product in _USER_TYPES:
            if not isinstance(user, dict) or "type" not in user or not user.get("id"):
                raise _Refused(f"The 'user' claim with 'type' and 'id' is required for product {product}.")
            kind = str(user["type"]).lower()
            if kind not in _USER_TYPES[product]:
                raise _Refused(f"user type '{user['type']}' is not valid for product {product}.")
            if product == "twpemp":
                employee = self._find_employee(kind, str(user["id"]))
                if employee is None:
                    raise _Refused("Employee not found.")
                employee_code = employee.code
        elif user is not None:
            raise _Refused(f"The 'user' claim is not valid for product {product}.")
        now = self.clock()
        jti = uuid.uuid4().hex
        issued: dict[str, Any] = {
            "iss": originating.issuer,
            "sub": "accountant" if subject == "partner" else "client",  # as in the docs' sample (§4.4)
            "product": product,
        }
        if site is not None:
            issued["siteInfo"] = {"type": "id", "id": str(site)}
        if user is not None:
            issued["user"] = user
        issued.update(iat=int(now), exp=int(now + self.token_ttl), jti=jti)
        token = api_jws.encode(json.dumps(issued, separators=(",", ":")).encode(), self._key, algorithm="HS256")
        self._issued[jti] = _Issued(now + self.token_ttl, product, site, employee_code)
        return Response.json({"token": token}, 201)

    def _find_employee(self, kind: str, value: str) -> ScEmployee | None:
        for employee in self.employees.values():
            if (
                (kind == "empcode" and employee.code.lower() == value.lower())
                or (kind == "id" and str(employee.internal_id) == value)
                or (kind == "guid" and employee.guid.lower() == value.lower())
            ):
                return employee
        return None

    # --- API --------------------------------------------------------------------------------

    def _access(self, request: Request) -> _Issued | Response:
        match = _BEARER.match(request.headers.get("authorization", ""))
        if not match:
            return _message(_DENIED, 401)
        try:
            payload = api_jws.decode_complete(match.group(1), key=self._key, algorithms=["HS256"])["payload"]
            jti = json.loads(payload).get("jti")
        except (PyJWTError, ValueError, AttributeError):
            return _message(_DENIED, 401)
        issued = self._issued.get(str(jti))
        if issued is None or self.clock() >= issued.expires_at:
            return _message(_DENIED, 401)
        if issued.product == "twplogin":
            return _message("This token cannot be used for regular TWP API calls.", 403)
        if issued.product.startswith("ts"):
            return _message("This token is not valid for TimeWorksPlus.", 403)
        return issued

    def _api(self, request: Request, parts: list[str]) -> Response:
        access = self._access(request)
        if isinstance(access, Response):
            return access
        if not parts or not parts[0].isdigit():
            return self._not_found(request)
        if int(parts[0]) != self.site_id or access.site_id != self.site_id:
            return _message(_DENIED, 403)
        route = [p.lower() for p in parts[1:]]
        method = request.method
        if route == ["employees"] and method == "GET":
            return self._list_employees(request, access)
        if len(route) == 2 and route[0] == "employees" and route[1] != "schema" and method == "POST":
            return self._upsert_employee(request, access, parts[2])
        if route == ["timecards"] and method == "GET":
            return self._timecards(request, access)
        if route == ["timecards", "punch"] and method == "POST":
            return self._punch(request, access)
        if route == ["timeoffrequests"] and method == "GET":
            return self._list_time_off(request, access)
        if route == ["timeoffrequests"] and method == "POST":
            return self._create_time_off(request, access)
        if route == ["timeoffrequests", "categories"] and method == "GET":
            return Response.json([{"Category": c, "Description": c.title()} for c in self.categories])
        if route == ["accruals"] and method == "GET":
            return self._list_accruals(request, access)
        if route == ["accruals"] and method == "POST":
            return self._set_accruals(request, access)
        known = {
            ("employees",),
            ("timecards",),
            ("timecards", "punch"),
            ("timeoffrequests",),
            ("accruals",),
            ("timeoffrequests", "categories"),
        }
        return self._not_allowed(request) if tuple(route) in known else self._not_found(request)

    def _visible(self, access: _Issued) -> list[ScEmployee]:
        """A ``twpemp`` token sees only its own employee (inferred, §12)."""
        rows = list(self.employees.values())
        if access.employee_code is not None:
            rows = [e for e in rows if e.code.lower() == access.employee_code.lower()]
        return rows

    def _selected(self, request: Request, access: _Issued) -> list[ScEmployee] | Response:
        """Employees named by ``ids=`` (codes, comma-separated), within what the token may see."""
        visible = {e.code.lower(): e for e in self._visible(access)}
        raw = request.arg("ids")
        if not raw:
            return list(visible.values())
        chosen = []
        for code in (c.strip().lower() for c in raw.split(",") if c.strip()):
            if code in visible:
                chosen.append(visible[code])
            elif code in self.employees:
                return _message(_DENIED, 403)
        return chosen

    def _page(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        """The list envelope (§6.1) with an absolute ``NextPageLink``; ``page`` is inferred."""
        try:
            size = max(1, min(500, int(request.arg("pageSize") or 50)))
            page = max(1, int(request.arg("page") or 1))
        except ValueError:
            return _message("The request is invalid.", 400)
        total = len(rows)
        pages = max(1, -(-total // size))

        def link(number: int) -> str | None:
            if number < 1 or number > pages:
                return None
            query = {k: v[0] for k, v in request.query.items() if k != "page"}
            query.update(pageSize=str(size), page=str(number))
            host = request.headers.get("host", "127.0.0.1")
            return f"http://{host}{request.path}?{urlencode(query)}"

        chunk = rows[(page - 1) * size : page * size]
        return Response.json(
            {
                "TotalCount": total,
                "TotalPages": pages,
                "PrevPageLink": link(page - 1),
                "NextPageLink": link(page + 1),
                "ResultCount": len(chunk),
                "Results": chunk,
            }
        )

    # --- employees -------------------------------------------------------------------------

    def _employee_json(self, e: ScEmployee) -> dict[str, Any]:
        variables = {"Department": e.department} if e.department else {}
        return {
            "EmployeeCode": e.code,
            "FirstName": e.first_name,
            "MiddleName": None,
            "LastName": e.last_name,
            "Name2": f"{e.last_name}, {e.first_name}",
            "Designation": None,
            "Phone": e.phone,
            "Email": e.email,
            "StartDate": _stamp(e.start_date),
            "EndDate": _stamp(e.end_date),
            "States": [{"EffectiveDate": _stamp(e.start_date), "Variables": variables}],
            "RecordNumber": str(e.internal_id),
            "ExportBlock": False,
            "WebClockEnabled": True,
            "Id": [{"Id": str(e.internal_id)}],
        }

    def _list_employees(self, request: Request, access: _Issued) -> Response:
        today = self._local_now().date()
        only_active = (request.arg("onlyActive") or "true").lower() != "false"  # default inferred
        rows = [e for e in self._visible(access) if not only_active or e.active_on(today)]
        rows.sort(key=lambda e: e.code.lower())
        return self._page(request, [self._employee_json(e) for e in rows])

    def _upsert_employee(self, request: Request, access: _Issued, code: str) -> Response:
        if access.employee_code is not None:
            return _message(_DENIED, 403)
        data = request.data()
        employee = self.employees.get(code.lower())
        created = employee is None
        if employee is None:
            if (request.arg("upsert") or "").lower() != "true":
                return _message("Employee not found.", 404)
            employee = self.add_employee(code, str(data.get("FirstName") or ""), str(data.get("LastName") or ""))
        for key, attr in (
            ("FirstName", "first_name"),
            ("LastName", "last_name"),
            ("Email", "email"),
            ("Phone", "phone"),
        ):
            if key in data:
                setattr(employee, attr, data[key])
        for key, attr in (("StartDate", "start_date"), ("EndDate", "end_date")):
            if key in data:
                value = data[key]
                try:
                    setattr(employee, attr, date.fromisoformat(str(value)[:10]) if value else None)
                except ValueError:
                    return _message(f"The value of {key} is invalid.", 400)
        return Response.json(self._employee_json(employee), 201 if created else 200)

    # --- timecards and punches -------------------------------------------------------------

    def _period(self, day: date) -> tuple[date, date]:
        offset = (day - self.pay_period_anchor).days // self.pay_period_days
        begin = self.pay_period_anchor + timedelta(days=offset * self.pay_period_days)
        return begin, begin + timedelta(days=self.pay_period_days - 1)

    def _line_json(self, line: PunchLine) -> dict[str, Any]:
        seconds = int((line.punch_out - line.punch_in).total_seconds()) if line.punch_out else 0
        variables: dict[str, Any] = {"SECONDS": str(seconds)}
        if line.job:
            variables["Job"] = line.job
        # ``In``/``Out`` are this simulator's names for the punch times (inferred; §6.4: no source has any).
        return {
            "BaseCategoryR": "Regular",
            "Seconds": str(seconds),
            "Variables": variables,
            "EditEvents": [],
            "In": _stamp(line.punch_in),
            "Out": _stamp(line.punch_out),
        }

    def _timecards(self, request: Request, access: _Issued) -> Response:
        raw = request.arg("periodDate")
        try:
            day = date.fromisoformat(raw or "")
        except ValueError:
            return _message("periodDate is required (yyyy-MM-dd).", 400)
        chosen = self._selected(request, access)
        if isinstance(chosen, Response):
            return chosen
        begin, end = self._period(day)
        cards = []
        for employee in chosen:
            dates: dict[date, list[dict[str, Any]]] = {}
            for line in self.punches:
                if line.code == employee.code and begin <= line.punch_in.date() <= end:
                    dates.setdefault(line.punch_in.date(), []).append(self._line_json(line))
            for off in self.time_off:
                if off.code == employee.code and off.status == "Approved" and begin <= off.day <= end:
                    seconds = str(int(off.hours * 3600))
                    dates.setdefault(off.day, []).append(
                        {
                            "BaseCategoryR": off.category,
                            "Seconds": seconds,
                            "Variables": {"SECONDS": seconds},
                            "EditEvents": [],
                            "In": None,
                            "Out": None,
                        }
                    )
            total = sum(int(line["Seconds"]) for lines in dates.values() for line in lines)
            cards.append(
                {
                    "Employee": {
                        "EmployeeCode": employee.code,
                        "FirstName": employee.first_name,
                        "LastName": employee.last_name,
                    },
                    "Dates": [{"Date": {"Value": d.isoformat()}, "Lines": dates[d]} for d in sorted(dates)],
                    "Summary": {"TotalSeconds": total},
                    "Notifications": [],
                }
            )
        return Response.json(
            {
                "PayPeriodBeginDate": begin.isoformat(),
                "PayPeriodEndDate": end.isoformat(),
                "SiteTimeZone": str(self.tz),
                "PunchInOutTypes": ["In", "Out"],
                "PunchCategories": {},
                "IntelligentClock": False,
                "TimeCards": cards,
            }
        )

    def _punch(self, request: Request, access: _Issued) -> Response:
        """§7: a second In while in, or an Out with no open In, is a 409."""
        data = request.data()
        code = str(data.get("EmployeeCode") or "").strip()
        kind = str(data.get("Type") or "").strip().lower()
        if not code:
            return _message("EmployeeCode is required.", 400)
        if kind not in ("in", "out"):
            return _message("Type must be In or Out.", 400)
        match = _TIME.match(str(data.get("Time") or ""))
        try:
            day = date.fromisoformat(str(data.get("Date") or ""))
            if not match:
                raise ValueError
            at = datetime.combine(day, datetime.min.time()).replace(
                hour=int(match.group(1)), minute=int(match.group(2)), second=int(match.group(3) or 0)
            )
        except ValueError:
            return _message("Date (yyyy-MM-dd) and Time (HH:mm) are required.", 400)
        if access.employee_code is not None and access.employee_code.lower() != code.lower():
            return _message(_DENIED, 403)
        employee = self.employees.get(code.lower())
        if employee is None:
            return _message("Employee not found.", 404)
        if not employee.active_on(day):
            return _message("Employee is not active.", 400)
        prompts = data.get("Prompts") if isinstance(data.get("Prompts"), dict) else {}
        line = self.open_punch(employee.code)
        if kind == "in":
            if line is not None:
                return _message("Employee is already punched in.", 409)
            job = prompts.get("Job")
            self.punches.append(PunchLine(employee.code, at, job=str(job) if job else None))
        else:
            if line is None:
                return _message("Employee has no open punch in.", 409)
            if at < line.punch_in:
                return _message("The punch out is before the punch in.", 400)
            line.punch_out = at
        return Response.json(
            {
                "EmployeeCode": employee.code,
                "Date": day.isoformat(),
                "Time": at.strftime("%H:%M"),
                "Type": "In" if kind == "in" else "Out",
            },
            201,
        )

    # --- time off --------------------------------------------------------------------------

    def _day_json(self, row: TimeOffDay) -> dict[str, Any]:
        return {
            "Date": _stamp(row.day),
            "Hours": row.hours if row.status == "Approved" else None,
            "ProposedHours": row.hours,
            "Category": row.category,
            "Comments": row.comments,
            "Status": row.status,
            "DateRequestMade": _stamp(row.requested_at),
            "ApprovedDate": _stamp(row.approved_at),
            "ApprovedBy": row.approved_by,
        }

    def _result_json(self, employee: ScEmployee, days: list[TimeOffDay]) -> dict[str, Any]:
        return {
            "EmployeeCode": employee.code,
            "FirstName": employee.first_name,
            "LastName": employee.last_name,
            "Days": [self._day_json(d) for d in sorted(days, key=lambda d: d.day)],
        }

    def _list_time_off(self, request: Request, access: _Issued) -> Response:
        chosen = self._selected(request, access)
        if isinstance(chosen, Response):
            return chosen
        try:  # optional range filter (inferred; the real default window is unknown)
            start = date.fromisoformat(request.arg("startDate") or "0001-01-01")
            end = date.fromisoformat(request.arg("endDate") or "9999-12-31")
        except ValueError:
            return _message("startDate and endDate must be yyyy-MM-dd.", 400)
        results = []
        for employee in chosen:
            days = [d for d in self.time_off if d.code == employee.code and start <= d.day <= end]
            results.append(self._result_json(employee, days))
        return Response.json({"Results": results})

    def _create_time_off(self, request: Request, access: _Issued) -> Response:
        """Inferred route (§8): the GET shape posted back; new days are Pending."""
        data = request.data()
        code = str(data.get("EmployeeCode") or "").strip()
        if access.employee_code is not None and access.employee_code.lower() != code.lower():
            return _message(_DENIED, 403)
        employee = self.employees.get(code.lower())
        if employee is None:
            return _message("Employee not found.", 404)
        entries = data.get("Days")
        if not isinstance(entries, list) or not entries:
            return _message("Days is required.", 400)
        categories = {c.lower(): c for c in self.categories}
        made: list[TimeOffDay] = []
        now = self._local_now()
        for entry in entries:
            if not isinstance(entry, dict):
                return _message("Each day needs Date, Hours and Category.", 400)
            try:
                day = date.fromisoformat(str(entry.get("Date") or "")[:10])
                hours = float(entry.get("Hours"))
            except (TypeError, ValueError):
                return _message("Each day needs a Date (yyyy-MM-dd) and Hours.", 400)
            if not 0 < hours <= 24:
                return _message("Hours must be between 0 and 24.", 400)
            category = categories.get(str(entry.get("Category") or "").lower())
            if category is None:
                return _message(f"Unknown time-off category '{entry.get('Category')}'.", 400)
            taken = any(
                d.code == employee.code and d.day == day and d.status in ("Approved", "Pending") for d in self.time_off
            )
            if taken or any(d.day == day for d in made):
                return _message(f"A time-off request already exists for {day.isoformat()}.", 409)
            comments = entry.get("Comments")
            made.append(
                TimeOffDay(employee.code, day, hours, category, "Pending", str(comments) if comments else None, now)
            )
        self.time_off.extend(made)
        return Response.json(self._result_json(employee, made), 201)

    # --- accruals --------------------------------------------------------------------------

    def _list_accruals(self, request: Request, access: _Issued) -> Response:
        as_of = request.arg("asOfDate") or self._local_now().date().isoformat()
        category = (request.arg("category") or "").lower()
        rows = []
        for employee in sorted(self._visible(access), key=lambda e: e.code.lower()):
            balances = [
                {
                    "id": f"{employee.code}-{name}",
                    "category": name,
                    "isHidden": False,
                    "value": value,
                    "date": None,
                    "expires": None,
                    "effective": _stamp(employee.start_date),
                    "notes": None,
                }
                for name, value in self.balances.get(employee.code, {}).items()
                if not category or name.lower() == category
            ]
            rows.append(
                {
                    "EmployeeCode": employee.code,
                    "FirstName": employee.first_name,
                    "LastName": employee.last_name,
                    "MiddleName": None,
                    "Name2": f"{employee.last_name}, {employee.first_name}",
                    "StartDate": _stamp(employee.start_date),
                    "EndDate": _stamp(employee.end_date),
                    "AsOfDate": f"{as_of[:10]}T00:00:00",
                    "Balances": balances,
                }
            )
        return self._page(request, rows)

    def _set_accruals(self, request: Request, access: _Issued) -> Response:
        if access.employee_code is not None:
            return _message(_DENIED, 403)
        try:
            entries = request.json()
        except ValueError:
            entries = None
        if not isinstance(entries, list):
            return _message("The request body must be a list of balances.", 400)
        for entry in entries:
            employee = (
                self.employees.get(str((entry or {}).get("id") or "").lower()) if isinstance(entry, dict) else None
            )
            if employee is None or not entry.get("category"):
                return _message("Each balance needs a known employee id and a category.", 400)
            try:
                value = float(entry.get("value"))
            except (TypeError, ValueError):
                return _message("Each balance needs a numeric value.", 400)
            self.balances.setdefault(employee.code, {})[str(entry["category"])] = value
        return Response.json(entries, 201)


def serve(port: int) -> None:
    """``timebot sandbox swipeclock --port N``: the demo company, both services on one port."""
    sim = SwipeClockSim.demo(leave=True)
    base = f"http://127.0.0.1:{port}"
    print(f"SwipeClock sandbox (auth service and TWP API) on {base}")
    print(f"SWIPECLOCK_AUTH_URL={base}/AuthenticationService/oauth2/userToken")
    print(f"SWIPECLOCK_API_URL={base}/api")
    print(f"SWIPECLOCK_SITE_ID={sim.site_id}")
    print(f"SWIPECLOCK_API_SECRET={sim.site_secret}")
    print(
        f"# or sign as the partner: SWIPECLOCK_PARTNER_ID={sim.partner_id} SWIPECLOCK_API_SECRET={sim.partner_secret}"
    )
    print("Demo employees (matched by Slack email):")
    for employee in sim.employees.values():
        print(f"  {employee.code}: {employee.first_name} {employee.last_name} <{employee.email}>", flush=True)
    SimServer(sim.handle, port=port, name="swipeclock").serve_forever()
