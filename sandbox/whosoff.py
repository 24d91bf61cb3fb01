"""A local WhosOff v4 API that enforces what WhosOff documents (docs/vendors/whosoff.md; its §14 lists
what, and a bare §N in this module is a section of that page), so the connector is tested against
the rules rather than against our own assumptions.

Faithful where a client could be wrong without noticing: the one-time nonce, ``secret =
sha512(nonce + client_secret)``, the ``app-id`` header, the IPv4 allow-list, the ``{"Data",
"Errors"}`` envelope, 400 ``TOK004`` for a bad or expired bearer token, 400 ``004a`` for ranges
over 365 days, the §7 date grammar (exclusive ends, 12:00 half days, 15-minute hours) and the
documented user levels. Conditions the docs never name answer with ``SIM-`` codes (§9) so
nobody mistakes them for real ones. Used by the tests and by ``timebot sandbox whosoff``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import Portion
from sandbox.people import DEMO_PEOPLE, DemoWeek
from sandbox.server import Request, Response, SimServer
from sandbox.webhooks import WebhookSender

# User levels (documented, §8).
STAFF, APPROVER, APPROVER_ADD, APPROVER_EDIT, SUPER_USER, SUPER_USER_HUB = 100, 200, 210, 220, 300, 310
_LEVEL_NAMES = {STAFF: "STAFF", APPROVER: "APPROVER", SUPER_USER: "SUPER USER"}

# Leave status ids (documented, §8).
PENDING, APPROVED, CANCELLED, DECLINED = 1, 100, 900, 930
_STATUS_IDS = {
    "pending": PENDING,
    "approved": APPROVED,
    "cancelled": CANCELLED,
    "declined": DECLINED,
    "denied": DECLINED,
}
# ``status_id`` filters of leave/get and leave/my (documented, §8).
_STATUS_FILTERS: dict[int, frozenset[int]] = {
    0: frozenset({APPROVED, PENDING}),
    1: frozenset({PENDING}),
    100: frozenset({APPROVED}),
    900: frozenset({CANCELLED}),
    930: frozenset({DECLINED}),
    1000: frozenset({APPROVED, DECLINED}),
    1010: frozenset({CANCELLED, DECLINED}),
}
_LIVE = frozenset({APPROVED, PENDING})  # what counts as "off" and what overlaps block

FREE, RESTRICTED = 0, 1  # free_restricted_type_id (inferred: the controller is not readable)

MAX_RANGE_DAYS = 365  # doc: 004a "Date range can only be for a maximum of 365 days"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
_BEARER = re.compile(r"^Bearer\s+(\S+)$", re.IGNORECASE)
_MIDNIGHT = datetime.min.time()
_NOON = _MIDNIGHT.replace(hour=12)


class SimError(Exception):
    """Raised inside a route; becomes the documented error envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class WoUser:
    user_id: int
    first_name: str
    last_name: str
    email_address: str
    department_id: int
    department_name: str
    user_type_id: int = STAFF
    password: str | None = None
    status_id: int = 1  # 1 active, 0 disabled
    approver_id: int | None = None
    staff_code: str = ""
    tags: frozenset[int] = frozenset()

    def json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "staff_code": self.staff_code,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email_address": self.email_address,
            "department_id": self.department_id,
            "department_name": self.department_name,
            "user_type_id": self.user_type_id,
            "status_id": self.status_id,
            "approver_id": self.approver_id,
            "image_url_small": "",
            "image_url_large": "",
        }


@dataclass
class WoLeaveType:
    leave_type_id: int
    name: str
    code: str
    colour: str = "#3a87ad"
    requires_approval: bool = False
    note_required: bool = False
    status_id: int = 1

    def json(self) -> dict[str, Any]:
        return {
            "leave_type_id": self.leave_type_id,
            "name": self.name,
            "code": self.code,
            "colour": self.colour,
            "deduct_allowance_id": 1,
            "requires_approval": self.requires_approval,
            "note_required": self.note_required,
            "status_id": self.status_id,
        }


@dataclass
class WoLeave:
    leave_id: int
    user_id: int
    leave_type_id: int
    start: datetime  # naive, company-local
    end: datetime  # exclusive (documented, §7)
    status_id: int
    note: str = ""
    requested_by: int | None = None
    decided_by: int | None = None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass
class WoFreeRestricted:
    free_restricted_id: int
    name: str
    start: date
    end: date  # inclusive
    type_id: int = FREE


@dataclass
class _Token:
    user_id: int
    expires_at: float
    revoked: bool = False


@dataclass
class _Ctx:
    """One authorised call: who is calling and the parsed body."""

    user: WoUser
    body: dict[str, Any] = field(default_factory=dict)


def compute_secret(nonce: str, client_secret: str) -> str:
    """The documented authentication secret: SHA512 of nonce followed by client secret, hex."""
    return hashlib.sha512((nonce + client_secret).encode("utf-8")).hexdigest()


def encode_span(
    start: date, end: date, start_portion: Portion = Portion.FULL, end_portion: Portion = Portion.FULL
) -> tuple[datetime, datetime]:
    """Inclusive days with half-day portions to the §7 [start, exclusive end) datetimes."""
    if start == end:
        portion = start_portion if start_portion is not Portion.FULL else end_portion
        day = datetime.combine(start, _MIDNIGHT)
        if portion is Portion.AM:
            return day, day.replace(hour=12)
        if portion is Portion.PM:
            return day.replace(hour=12), day + timedelta(days=1)
        return day, day + timedelta(days=1)
    first = datetime.combine(start, _NOON if start_portion is Portion.PM else _MIDNIGHT)
    last = (
        datetime.combine(end, _NOON)
        if end_portion is Portion.AM
        else datetime.combine(end + timedelta(days=1), _MIDNIGHT)
    )
    return first, last


def _fmt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M")


def _ok(data: list[Any]) -> Response:
    return Response.json({"Data": data, "Errors": []}, 200, {"X-Sim-Gzip": "1"})


def _err(status: int, code: str, message: str) -> Response:
    return Response.json({"Data": [], "Errors": [{"Code": code, "Message": message}]}, status, {"X-Sim-Gzip": "1"})


def _bad(message: str, code: str = "SIM-BAD-REQUEST") -> SimError:
    return SimError(400, code, message)


class WhosOffSim:
    """Stateful WhosOff: users, leave types, leave and free/restricted days, behind the real auth."""

    def __init__(
        self,
        app_id: str = "sim-app-id",
        client_secret: str = "sim-client-secret",  # noqa: S107 - a simulator's own test value
        *,
        clock: Callable[[], float] = time.time,
        token_ttl: float = 1800.0,
        allowed_ips: Iterable[str] | None = ("127.0.0.0/8",),
        strict_nonce_length: bool = False,
        timezone: str = "Europe/London",
    ) -> None:
        self.app_id = app_id
        self.client_secret = client_secret
        self.clock = clock
        self.token_ttl = token_ttl
        self.allowed_ips = None if allowed_ips is None else [ipaddress.ip_network(n) for n in allowed_ips]
        self.strict_nonce_length = strict_nonce_length
        self.tz = ZoneInfo(timezone)
        self.users: dict[int, WoUser] = {}
        self.leave_types: dict[int, WoLeaveType] = {}
        self.leave: dict[int, WoLeave] = {}
        self.free_restricted: dict[int, WoFreeRestricted] = {}
        self.departments: dict[str, int] = {}
        self.credential_auth_count = 0
        self.refresh_auth_count = 0
        self.rejected_auth_count = 0
        self._by_user: dict[int, list[int]] = {}
        self._by_login: dict[str, int] = {}
        self._tokens: dict[str, _Token] = {}
        self._nonces: set[str] = set()
        self._ids = {"user": 1000, "leave": 50000, "leave_type": 10, "free_restricted": 0}
        self._lock = threading.RLock()
        self.allowances: dict[int, list[dict[str, Any]]] = {}
        self.webhook: WebhookSender | None = None  # set by a test (or the sandbox) to receive events

    # --- test hooks --------------------------------------------------------------------------

    @property
    def auth_count(self) -> int:
        """Every successful authentication, with credentials or by refreshing an access token."""
        return self.credential_auth_count + self.refresh_auth_count

    @property
    def used_nonces(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._nonces)

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (they stay refreshable, as expired tokens are)."""
        now = self.clock()
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = min(token.expires_at, now)

    def revoke_tokens(self) -> None:
        """Every token is forgotten (as after a vendor-side reset): calls get TOK004 and refreshing
        is refused too, so only signing in with credentials works."""
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True

    def secret_for(self, nonce: str) -> str:
        """A valid ``secret`` for ``nonce`` (for tests that call the simulator directly)."""
        return compute_secret(nonce, self.client_secret)

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), self.tz).date()

    # --- seeding (cheap: no HTTP, no validation beyond what keeps state consistent) ------------

    def add_user(
        self,
        name: str,
        email: str,
        *,
        user_id: int | None = None,
        department: str = "Staff",
        user_type_id: int = STAFF,
        password: str | None = None,
        active: bool = True,
        approver_id: int | None = None,
        staff_code: str = "",
    ) -> int:
        """Add a person and return their ``user_id``; a password lets them authenticate."""
        first, _, last = name.strip().partition(" ")
        with self._lock:
            if user_id is None:
                self._ids["user"] += 1
                user_id = self._ids["user"]
            else:
                self._ids["user"] = max(self._ids["user"], user_id)
            dept_id = self.departments.setdefault(department, len(self.departments) + 1)
            self.users[user_id] = WoUser(
                user_id,
                first,
                last,
                email,
                dept_id,
                department,
                user_type_id,
                password,
                1 if active else 0,
                approver_id,
                staff_code,
            )
            self._by_login[email.lower()] = user_id
            self._by_user.setdefault(user_id, [])
        return user_id

    def add_leave_type(
        self,
        name: str,
        *,
        code: str | None = None,
        colour: str = "#3a87ad",
        requires_approval: bool = False,
        note_required: bool = False,
        active: bool = True,
        leave_type_id: int | None = None,
    ) -> int:
        with self._lock:
            if leave_type_id is None:
                self._ids["leave_type"] += 1
                leave_type_id = self._ids["leave_type"]
            self.leave_types[leave_type_id] = WoLeaveType(
                leave_type_id,
                name,
                code or name[:3].upper(),
                colour,
                requires_approval,
                note_required,
                1 if active else 0,
            )
        return leave_type_id

    def add_leave(
        self,
        user_id: int,
        start: date,
        end: date | None = None,
        *,
        leave_type: int | str | None = None,
        start_portion: Portion = Portion.FULL,
        end_portion: Portion = Portion.FULL,
        status: str = "approved",
        note: str = "",
    ) -> int:
        """Record leave directly (no overlap checks) and return its ``leave_id``; ``leave_type`` is an
        id or a name, defaulting to the first type."""
        begin, finish = encode_span(start, end or start, start_portion, end_portion)
        with self._lock:
            type_id = self._leave_type_id(leave_type)
            self._ids["leave"] += 1
            leave_id = self._ids["leave"]
            self.leave[leave_id] = WoLeave(
                leave_id, user_id, type_id, begin, finish, _STATUS_IDS[status], note, user_id
            )
            self._by_user.setdefault(user_id, []).append(leave_id)
        return leave_id

    def add_holiday(self, day: date, name: str, *, end: date | None = None, restricted: bool = False) -> int:
        """A company free day (a holiday) or, with ``restricted``, a day nobody may book leave on."""
        with self._lock:
            self._ids["free_restricted"] += 1
            fid = self._ids["free_restricted"]
            self.free_restricted[fid] = WoFreeRestricted(fid, name, day, end or day, RESTRICTED if restricted else FREE)
        return fid

    def set_allowance(
        self,
        user_id: int,
        remaining: float,
        *,
        allowance_type_id: int = 0,
        name: str = "Annual allowance",
        opening: float | None = None,
    ) -> None:
        """A user's allowance as the User Allowance controller would give it (fields inferred)."""
        with self._lock:
            self.allowances[user_id] = [
                {
                    "user_id": user_id,
                    "name": name,
                    "allowance_type_id": allowance_type_id,
                    "start_date": f"{self.today().year}-01-01",
                    "opening": remaining if opening is None else opening,
                    "remaining": remaining,
                }
            ]

    def decide(self, leave_id: int, status: str, *, by: int | None = None) -> None:
        """The admin hook: approve, decline or cancel a request the way an approver does in
        WhosOff's web app (the API documents no such call); a webhook follows, as WhosOff sends one."""
        with self._lock:
            leave = self.leave[leave_id]
            leave.status_id = _STATUS_IDS[status]
            leave.decided_by = by
            data = self._webhook_data(leave)
        if self.webhook is not None:
            self.webhook.send("leave.updated" if status == "approved" else "leave.deleted", data)

    def _webhook_data(self, leave: WoLeave) -> dict[str, Any]:
        user = self.users.get(leave.user_id)
        lt = self.leave_types.get(leave.leave_type_id)
        approver = self.users.get(leave.decided_by or 0)
        words = {PENDING: "pending", APPROVED: "approved", CANCELLED: "cancelled", DECLINED: "declined"}
        return {
            "id": str(leave.leave_id),
            "name": lt.name if lt else "",
            "staff": f"{user.first_name} {user.last_name}" if user else "",
            "approver": f"{approver.first_name} {approver.last_name}" if approver else "",
            "status": words[leave.status_id],
            "start_date": leave.start.strftime("%Y-%m-%d %H:%M"),
            "end_date": leave.end.strftime("%Y-%m-%d %H:%M"),
        }

    def _leave_type_id(self, leave_type: int | str | None) -> int:
        if leave_type is None:
            return next(iter(self.leave_types))
        if isinstance(leave_type, int):
            return leave_type
        for lt in self.leave_types.values():
            if lt.name.lower() == leave_type.lower():
                return lt.leave_type_id
        raise KeyError(leave_type)

    @classmethod
    def demo(cls, clock: Callable[[], float] = time.time, *, leave: bool = False) -> WhosOffSim:
        """The shared demo company, a Super User service account for the bot, a few leave types,
        some upcoming leave (one of it a half day) and the next Christmas holidays; ``leave`` adds
        sickness this week and a company holiday next week (the sandbox and the console)."""
        sim = cls(app_id="demo-whosoff-app", client_secret="demo-whosoff-client-secret", clock=clock)  # noqa: S106
        sim.add_user(
            "Timebot Service",
            "timebot@example.com",
            department="Operations",
            user_type_id=SUPER_USER,
            password="demo-whosoff-password",  # noqa: S106 - sandbox login
        )
        ids = [
            sim.add_user(
                p.name,
                p.email,
                department="Engineering" if i % 2 else "Research",
                user_type_id=SUPER_USER if i == 0 else STAFF,
                password="demo-password",  # noqa: S106 - sandbox login
            )
            for i, p in enumerate(DEMO_PEOPLE)
        ]
        sim.add_leave_type("Annual Leave", code="AL", colour="#3a87ad")
        sim.add_leave_type("Sickness", code="SIC", colour="#b94a48")
        sim.add_leave_type("Working From Home", code="WFH", colour="#468847")
        sim.add_leave_type("Unpaid Leave", code="UPL", colour="#999999", requires_approval=True)
        today = sim.today()
        monday = today + timedelta(days=7 - today.weekday())
        sim.add_leave(ids[1], monday, monday + timedelta(days=2), leave_type="Annual Leave", note="Family visit")
        sim.add_leave(
            ids[2],
            monday + timedelta(days=1),
            leave_type="Annual Leave",
            start_portion=Portion.PM,
            end_portion=Portion.PM,
            note="Dentist",
        )
        sim.add_leave(
            ids[3],
            monday + timedelta(days=14),
            monday + timedelta(days=18),
            leave_type="Unpaid Leave",
            status="pending",
        )
        year = today.year if today <= date(today.year, 12, 25) else today.year + 1
        sim.add_holiday(date(year, 12, 25), "Christmas Day")
        sim.add_holiday(date(year, 12, 26), "Boxing Day")
        sim.add_holiday(date(year + 1, 1, 1), "New Year's Day")
        sim.add_holiday(date(year, 12, 31), "Year-end close", restricted=True)
        if leave:
            week = DemoWeek.of(today)
            sim.add_leave(ids[4], week.first, week.first + timedelta(days=1), leave_type="Sickness")
            sim.add_holiday(week.next_week(4), "Founders' Day")
        return sim

    # --- dispatch ----------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path.startswith("/v4/"):
            path = path[3:]  # the docs show both {root}/v4/... and {root}/... (inferred: serve both)
        parts = [p for p in path.split("/") if p]
        try:
            with self._lock:
                if len(parts) == 2 and parts[0] == "authenticate":
                    return self._authenticate(request, parts[1])
                return self._route(request, parts)
        except SimError as exc:
            return _err(exc.status, exc.code, exc.message)

    def _route(self, request: Request, parts: list[str]) -> Response:
        post, get = request.method == "POST", request.method in {"GET", "HEAD"}
        key = "/".join(parts[:2])
        routes: dict[str, tuple[bool, int, Callable[[_Ctx], list[Any]]]] = {
            "user/retrieve": (post, STAFF, self._user_retrieve),
            "leave-type/retrieve": (post, SUPER_USER, self._leave_type_retrieve),
            "leave/validate": (post, STAFF, lambda c: self._leave_write(c, commit=False)),
            "leave/submit": (post, STAFF, lambda c: self._leave_write(c, commit=True)),
            "leave/my": (post, STAFF, self._leave_my),
            "leave/get": (post, APPROVER, self._leave_get),
            "whosoff/retrieve": (post, STAFF, self._whosoff_retrieve),
            "reporting/work": (post, APPROVER, self._reporting_work),
            "free-restricted/retrieve": (post, STAFF, self._free_restricted_retrieve),
            "user-allowance/retrieve": (post, STAFF, self._allowance_retrieve),
        }
        by_id: dict[str, tuple[int, Callable[[_Ctx, int], list[Any]]]] = {
            "user/get-by-id": (STAFF, self._user_by_id),
            "leave/get-by-id": (STAFF, self._leave_by_id),
        }
        if len(parts) == 2 and key in routes and routes[key][0]:
            _, level, fn = routes[key]
            return _ok(fn(self._authorise(request, level)))
        if len(parts) == 3 and key in by_id and get:
            level, fn_id = by_id[key]
            ctx = self._authorise(request, level)
            if not parts[2].isdigit():
                raise _bad("The id must be a number.")
            return _ok(fn_id(ctx, int(parts[2])))
        return _err(404, "SIM-404", "Endpoint not valid")

    # --- authentication ----------------------------------------------------------------------

    def _authenticate(self, request: Request, kind: str) -> Response:
        if kind not in {"with-credentials", "with-access-token"} or request.method not in {"POST", "GET"}:
            return _err(404, "SIM-404", "Endpoint not valid")
        try:
            body = request.json() or {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        try:
            user, old = self._check_auth(request, body, kind)
        except SimError:
            self.rejected_auth_count += 1
            raise
        if old is not None:
            old.revoked = True  # a refreshed token is spent
            self.refresh_auth_count += 1
        else:
            self.credential_auth_count += 1
        token = secrets.token_hex(32)
        expires = self.clock() + self.token_ttl
        self._tokens[token] = _Token(user.user_id, expires)
        user_json = {
            k: v
            for k, v in user.json().items()
            if k in {"user_id", "first_name", "last_name", "email_address", "user_type_id"}
        }
        expiry = datetime.fromtimestamp(expires, self.tz).strftime("%Y-%m-%dT%H:%M:%S")
        return _ok([{"token": {"access_token": token, "token_expiry_date": expiry}, "user": user_json}])

    def _check_auth(self, request: Request, body: dict[str, Any], kind: str) -> tuple[WoUser, _Token | None]:
        """The order of §14: app id, IP, nonce, secret, then credentials or token."""
        header_app, body_app = request.headers.get("app-id"), body.get("app_id")
        if (header_app is None and body_app is None) or any(
            a is not None and not secrets.compare_digest(str(a), self.app_id) for a in (header_app, body_app)
        ):
            raise _bad("App Id is missing or not valid", "SIM-AUTH-APP")
        ip = str(body.get("ip_address") or "")
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError:
            raise _bad("ip_address must be an IPv4 address", "SIM-AUTH-IP") from None
        if self.allowed_ips is not None and not any(address in net for net in self.allowed_ips):
            raise _bad("Requests are not permitted from this IP address", "SIM-AUTH-IP")
        nonce = str(body.get("nonce") or "")
        if not nonce or len(nonce) > 64 or (self.strict_nonce_length and len(nonce) != 32):
            raise _bad("Nonce must be a unique 32 character string", "SIM-AUTH-NONCE")
        if nonce in self._nonces:
            raise _bad("Nonce has already been used", "SIM-AUTH-NONCE")
        self._nonces.add(nonce)  # burnt even if the rest fails: a nonce is single use
        expected = compute_secret(nonce, self.client_secret)
        if not secrets.compare_digest(expected, str(body.get("secret") or "").lower()):
            raise _bad("Secret is not valid", "SIM-AUTH-SECRET")
        if kind == "with-access-token":
            token = self._tokens.get(str(body.get("access_token") or ""))
            user = self.users.get(token.user_id) if token else None
            if token is None or token.revoked or user is None or user.status_id != 1:
                raise _bad("Invalid Token", "TOK004")
            return user, token  # an expired token is accepted here: refreshing it is the point
        uid = self._by_login.get(str(body.get("username") or "").lower())
        user = self.users.get(uid) if uid is not None else None
        password = str(body.get("password") or "")
        if (
            user is None
            or user.password is None
            or user.status_id != 1
            or not secrets.compare_digest(user.password, password)
        ):
            raise SimError(401, "SIM-AUTH-LOGIN", "Can't authenticate with those credentials")
        return user, None

    def _authorise(self, request: Request, level: int) -> _Ctx:
        app = request.headers.get("app-id")
        if app is None or not secrets.compare_digest(app, self.app_id):
            raise _bad("App Id is missing or not valid", "SIM-AUTH-APP")
        m = _BEARER.match(request.headers.get("authorization", ""))
        token = self._tokens.get(m.group(1)) if m else None
        if token is None or token.revoked or self.clock() >= token.expires_at:
            raise _bad("Invalid Token", "TOK004")
        user = self.users.get(token.user_id)
        if user is None or user.status_id != 1:
            raise _bad("Invalid Token", "TOK004")
        if user.user_type_id < level:
            raise SimError(403, "SIM-PERM", f"This call needs user level {_LEVEL_NAMES.get(level, level)}")
        if request.method == "POST":
            try:
                body = request.json()
            except ValueError:
                raise _bad("The request body is not valid JSON.") from None
            if body is not None and not isinstance(body, dict):
                raise _bad("The request body must be a JSON object.")
            return _Ctx(user, body or {})
        return _Ctx(user)

    # --- field parsing -----------------------------------------------------------------------

    @staticmethod
    def _int(
        body: dict[str, Any],
        name: str,
        *,
        required: bool = True,
        default: int | None = None,
        allowed: Iterable[int] | None = None,
    ) -> int | None:
        """Numbers or numeric strings, as the samples send ids as strings (documented, §5)."""
        value = body.get(name)
        if value is None or value == "":
            if required:
                raise _bad(f"{name} is required.")
            return default
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise _bad(f"{name} must be a number.")
        number = int(value)
        if allowed is not None and number not in set(allowed):
            raise _bad(f"{name} is not a valid value.")
        return number

    @staticmethod
    def _bool(body: dict[str, Any], name: str, *, required: bool) -> bool:
        value = body.get(name)
        if value is None:
            if required:
                raise _bad(f"{name} is required.")
            return False
        if not isinstance(value, bool):
            raise _bad(f"{name} must be true or false.")
        return value

    @staticmethod
    def _date(body: dict[str, Any], name: str) -> date:
        value = body.get(name)
        if not isinstance(value, str) or not _DATE.match(value):
            raise _bad(f"{name} must be a date like 2023-03-28.", "SIM-DATE")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _bad(f"{name} is not a real date.", "SIM-DATE") from None

    @staticmethod
    def _datetime(body: dict[str, Any], name: str) -> datetime:
        value = body.get(name)
        if not isinstance(value, str) or not _DATETIME.match(value):
            raise _bad(f"{name} must look like 2023-03-28T00:00.", "SIM-DATE")
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise _bad(f"{name} is not a real date and time.", "SIM-DATE") from None

    @staticmethod
    def _check_range(start: date, end: date) -> None:
        if end < start:
            raise _bad("end_date is before start_date.", "SIM-DATE")
        if (end - start).days > MAX_RANGE_DAYS:
            raise _bad("Date range can only be for a maximum of 365 days", "004a")

    def _range(self, body: dict[str, Any], *, option: bool = False) -> tuple[date, date]:
        """``start_date``/``end_date`` (DATE), or a ``date_option`` year where the route has one."""
        choice = self._int(body, "date_option", required=False, default=0, allowed=(0, 1, 2, 3)) if option else 0
        if choice:
            year = self.today().year + {1: 0, 2: 1, 3: -1}[choice or 0]
            return date(year, 1, 1), date(year, 12, 31)
        start, end = self._date(body, "start_date"), self._date(body, "end_date")
        self._check_range(start, end)
        return start, end

    @staticmethod
    def _leave_type_ids(body: dict[str, Any]) -> set[int] | None:
        raw = body.get("leave_type_ids")
        if not raw:
            return None
        if not isinstance(raw, list):
            raise _bad("leave_type_ids must be a list.")
        ids = set()
        for item in raw:
            value = item.get("leave_type_id") if isinstance(item, dict) else item
            if isinstance(value, bool) or not str(value).isdigit():
                raise _bad("leave_type_ids must hold leave type ids.")
            ids.add(int(value))
        return ids

    def _scope(self, body: dict[str, Any], caller: WoUser, max_type: int) -> Callable[[WoUser], bool]:
        """The "map" filter (documented, §5): company, department, tag, staff, my staff, by approver."""
        map_type = self._int(body, "map_type_id", allowed=range(max_type + 1))
        map_id = self._int(body, "map_id", required=map_type in {1, 2, 3, 5}, default=0)
        if map_type == 0:
            return lambda u: True
        if map_type == 1:
            return lambda u: u.department_id == map_id
        if map_type == 2:
            return lambda u: map_id in u.tags
        if map_type == 3:
            return lambda u: u.user_id == map_id
        if map_type == 4:
            return lambda u: u.approver_id == caller.user_id
        if map_type == 5:
            return lambda u: u.approver_id == map_id
        raise _bad("map_type_id 6 and 7 are undocumented; the simulator does not model them.", "SIM-MAP")

    @staticmethod
    def _user_status(body: dict[str, Any], name: str) -> set[int]:
        value = WhosOffSim._int(body, name, allowed=(0, 1, 99))
        return {0, 1} if value == 99 else {value or 0}

    # --- users -------------------------------------------------------------------------------

    def _user_retrieve(self, ctx: _Ctx) -> list[Any]:
        in_scope = self._scope(ctx.body, ctx.user, 5)
        statuses = self._user_status(ctx.body, "status_id")
        last = ctx.body.get("last_name")
        if last is not None and (not isinstance(last, str) or len(last) > 250):
            raise _bad("last_name must be text of at most 250 characters.")
        return [
            u.json()
            for u in self.users.values()
            if u.status_id in statuses and in_scope(u) and (not last or u.last_name.lower() == last.lower())
        ]

    def _allowance_retrieve(self, ctx: _Ctx) -> list[Any]:
        user_id = self._int(ctx.body, "user_id")
        if user_id not in self.users:
            raise _bad("User not found", "SIM-NOT-FOUND")
        if user_id != ctx.user.user_id and ctx.user.user_type_id < APPROVER:
            raise SimError(403, "SIM-PERM", "Another user's allowance needs an approver or super user")
        return list(self.allowances.get(user_id or 0, []))

    def _user_by_id(self, ctx: _Ctx, user_id: int) -> list[Any]:
        user = self.users.get(user_id)
        if user is None:
            raise _bad("User not found", "SIM-NOT-FOUND")
        return [user.json()]

    # --- leave types -------------------------------------------------------------------------

    def _leave_type_retrieve(self, ctx: _Ctx) -> list[Any]:
        statuses = self._user_status(ctx.body, "status_id")  # 0 disabled, 1 active, 99 both (inferred)
        return [lt.json() for lt in self.leave_types.values() if lt.status_id in statuses]

    # --- leave -------------------------------------------------------------------------------

    def _leave_json(self, leave: WoLeave) -> dict[str, Any]:
        user = self.users.get(leave.user_id)
        lt = self.leave_types.get(leave.leave_type_id)
        by = self.users.get(leave.requested_by or leave.user_id)
        return {
            "leave_id": leave.leave_id,
            "user_id": leave.user_id,
            "first_name": user.first_name if user else "",
            "last_name": user.last_name if user else "",
            "email_address": user.email_address if user else "",
            "department_id": user.department_id if user else None,
            "department_name": user.department_name if user else "",
            "requested_by_first_name": by.first_name if by else "",
            "requested_by_last_name": by.last_name if by else "",
            "image_url_small": "",
            "image_url_large": "",
            "leave_type_id": leave.leave_type_id,
            "leave_type_name": lt.name if lt else "",
            "code": lt.code if lt else "",
            "colour": lt.colour if lt else "",
            "cancellation_period": 0,
            "status_id": leave.status_id,
            "start_date": _fmt(leave.start),
            "end_date": _fmt(leave.end),
            "note": leave.note,
        }

    def _leave_in(
        self,
        start: date,
        end: date,
        statuses: frozenset[int],
        types: set[int] | None,
        leave_ids: Iterable[int] | None = None,
    ) -> list[WoLeave]:
        begin = datetime.combine(start, _MIDNIGHT)
        finish = datetime.combine(end + timedelta(days=1), _MIDNIGHT)
        pool = self.leave.values() if leave_ids is None else (self.leave[i] for i in leave_ids)
        found = [
            lv
            for lv in pool
            if lv.status_id in statuses and (types is None or lv.leave_type_id in types) and lv.overlaps(begin, finish)
        ]
        return sorted(found, key=lambda lv: (lv.start, lv.leave_id))

    def _leave_write(self, ctx: _Ctx, *, commit: bool) -> list[Any]:
        """``leave/validate`` and ``leave/submit``: the same checks; only submit stores."""
        body = ctx.body
        type_id = self._int(body, "leave_type_id")
        lt = self.leave_types.get(type_id or 0)
        if lt is None or lt.status_id != 1:
            raise _bad("Leave type not found", "SIM-LEAVE-TYPE")
        user_id = self._int(body, "user_id", required=False, default=ctx.user.user_id) or ctx.user.user_id
        admin = self._bool(body, "admin", required=False)
        if user_id != ctx.user.user_id and (ctx.user.user_type_id < APPROVER_ADD or not admin):
            raise SimError(
                403, "SIM-PERM", "Booking leave for someone else needs an approver or super user with admin set to true"
            )
        target = self.users.get(user_id)
        if target is None or target.status_id != 1:
            raise _bad("User not found", "SIM-USER")
        start, end = self._datetime(body, "start_date"), self._datetime(body, "end_date")
        self._check_shape(start, end)
        note = body.get("note") or ""
        if not isinstance(note, str) or len(note) > 500:
            raise _bad("The note can be at most 500 characters.", "SIM-NOTE")
        if lt.note_required and not note.strip():
            raise _bad(f"A note is required for {lt.name}.", "SIM-NOTE")
        for other in (self.leave[i] for i in self._by_user.get(user_id, [])):
            if other.status_id in _LIVE and other.overlaps(start, end):
                raise _bad(
                    f"This overlaps leave already booked from {_fmt(other.start)} to {_fmt(other.end)}.", "SIM-OVERLAP"
                )
        for fr in self.free_restricted.values():
            if (
                fr.type_id == RESTRICTED
                and start < datetime.combine(fr.end + timedelta(days=1), _MIDNIGHT)
                and datetime.combine(fr.start, _MIDNIGHT) < end
            ):
                raise _bad(f"Leave can't be booked on a restricted day ({fr.name}).", "SIM-RESTRICTED")
        status = PENDING if lt.requires_approval else APPROVED
        result = {
            "user_id": user_id,
            "leave_type_id": lt.leave_type_id,
            "start_date": _fmt(start),
            "end_date": _fmt(end),
            "status_id": status,
        }
        if not commit:
            return [result]
        self._ids["leave"] += 1
        leave_id = self._ids["leave"]
        leave = WoLeave(leave_id, user_id, lt.leave_type_id, start, end, status, note, ctx.user.user_id)
        self.leave[leave_id] = leave
        self._by_user.setdefault(user_id, []).append(leave_id)
        if self.webhook is not None:
            webhook, data = self.webhook, self._webhook_data(leave)
            threading.Thread(target=webhook.send, args=("leave.created", data), daemon=True).start()
        return [{"leave_id": leave_id, **result}]

    @staticmethod
    def _check_shape(start: datetime, end: datetime) -> None:
        """§7: whole and half days start/end at 00:00 or 12:00 (end exclusive); hours stay within
        one day on 15-minute boundaries."""
        if end <= start:
            raise _bad("end_date must be after start_date.", "SIM-DATE")
        if (end.date() - start.date()).days > MAX_RANGE_DAYS + 1:
            raise _bad("Date range can only be for a maximum of 365 days", "004a")
        day_marks = {_MIDNIGHT, _NOON}
        if start.time() in day_marks and end.time() in day_marks:
            return
        if start.date() != end.date() or start.minute % 15 or end.minute % 15:
            raise _bad("Part-day leave must be within one day, in 15 minute increments.", "SIM-DATE")

    def _leave_by_id(self, ctx: _Ctx, leave_id: int) -> list[Any]:
        leave = self.leave.get(leave_id)
        if leave is None:
            raise _bad("Leave not found", "SIM-NOT-FOUND")
        return [self._leave_json(leave)]

    def _statuses(self, body: dict[str, Any]) -> frozenset[int]:
        return _STATUS_FILTERS[self._int(body, "status_id", required=False, default=0, allowed=_STATUS_FILTERS) or 0]

    def _leave_my(self, ctx: _Ctx) -> list[Any]:
        start, end = self._range(ctx.body, option=True)
        found = self._leave_in(
            start,
            end,
            self._statuses(ctx.body),
            self._leave_type_ids(ctx.body),
            self._by_user.get(ctx.user.user_id, []),
        )
        return [
            {
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "leave": [self._leave_json(lv) for lv in found],
            }
        ]

    def _leave_get(self, ctx: _Ctx) -> list[Any]:
        in_scope = self._scope(ctx.body, ctx.user, 4)
        user_statuses = self._user_status(ctx.body, "user_status_id")
        start, end = self._range(ctx.body, option=True)
        found = self._leave_in(start, end, self._statuses(ctx.body), self._leave_type_ids(ctx.body))
        rows = []
        for lv in found:
            user = self.users.get(lv.user_id)
            if user is not None and user.status_id in user_statuses and in_scope(user):
                rows.append(self._leave_json(lv))
        return rows

    def _work(self, user: WoUser) -> dict[str, Any]:
        """A standard 7.5-hour, Monday-to-Friday pattern (minutes per weekday, as WhosOff's "work" is: §2)."""
        week = {d: 450 for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}
        return {"start_date": "2020-01-01", "end_date": None, **week, "saturday": 0, "sunday": 0}

    def _whosoff_retrieve(self, ctx: _Ctx) -> list[Any]:
        """Per-user rows with nested ``leave`` (the nesting is inferred: the doc cuts off there).
        Approved and pending leave count as off; cancelled and declined do not."""
        in_scope = self._scope(ctx.body, ctx.user, 7)
        start, end = self._range(ctx.body)
        self._bool(ctx.body, "include_free_restricted", required=True)  # its output shape is unknown
        only_off = self._bool(ctx.body, "include_only_whosoff", required=True)
        found = self._leave_in(start, end, _LIVE, self._leave_type_ids(ctx.body))
        by_user: dict[int, list[dict[str, Any]]] = {}
        for lv in found:
            by_user.setdefault(lv.user_id, []).append(self._leave_json(lv))
        people = (self.users[u] for u in by_user if u in self.users) if only_off else iter(self.users.values())
        rows = []
        for user in people:
            if user.status_id == 1 and in_scope(user):
                rows.append({**user.json(), "work": self._work(user), "leave": by_user.get(user.user_id, [])})
        return rows

    def _reporting_work(self, ctx: _Ctx) -> list[Any]:
        in_scope = self._scope(ctx.body, ctx.user, 5) if "map_type_id" in ctx.body else (lambda u: True)
        rows = []
        for user in self.users.values():
            if user.status_id == 1 and in_scope(user):
                work = self._work(user)
                days = {k: v for k, v in work.items() if k.endswith("day")}
                rows.append(
                    {
                        "user_id": user.user_id,
                        "first_name": user.first_name,
                        "last_name": user.last_name,
                        "department_name": user.department_name,
                        "allowance_type_id": 0,
                        **days,
                        "total": sum(days.values()),
                    }
                )
        return rows

    def _free_restricted_retrieve(self, ctx: _Ctx) -> list[Any]:
        """Company free days and restricted days (route and fields inferred from the controller name)."""
        start, end = self._range(ctx.body)
        return [
            {
                "free_restricted_id": fr.free_restricted_id,
                "name": fr.name,
                "start_date": fr.start.isoformat(),
                "end_date": fr.end.isoformat(),
                "free_restricted_type_id": fr.type_id,
            }
            for fr in sorted(self.free_restricted.values(), key=lambda f: f.start)
            if fr.start <= end and start <= fr.end
        ]


def serve(port: int) -> None:
    """``timebot sandbox whosoff``: the demo company on 127.0.0.1 and the settings that reach it."""
    sim = WhosOffSim.demo(leave=True)
    service = next(u for u in sim.users.values() if u.user_type_id == SUPER_USER)
    print(f"WhosOff sandbox on http://127.0.0.1:{port}")
    print(f"WHOSOFF_BASE_URL=http://127.0.0.1:{port}")
    print(f"WHOSOFF_APP_ID={sim.app_id}")
    print(f"WHOSOFF_CLIENT_SECRET={sim.client_secret}")
    print(f"WHOSOFF_USERNAME={service.email_address}")
    print(f"WHOSOFF_PASSWORD={service.password}")
    print("WHOSOFF_IP_ADDRESS=127.0.0.1")
    SimServer(sim.handle, port=port, name="whosoff").serve_forever()
