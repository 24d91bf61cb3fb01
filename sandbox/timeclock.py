"""A local TimeClock (bizley/timeclock 2.4.x API) that behaves as docs/vendors/timeclock.md says.

Faithful where the bot could be fooled: the ``id:timestamp:sha1`` bearer check with its ±60 s
window and 401-vs-403 split, per-owner scoping, Yii-style pagination and filters, and the 422
validation messages (overlaps, midnight). Like the real server, a year has no public holidays
until it is fetched (the web calendar or ``POST /api/holidays/fetch`` scrapes them), and a
created off-time answers ``"approved": null`` (the column's default, 0, shows on later reads).
Where this file and the real server ever disagree, the real server is right: the contract tests
in ``tests/contract/`` run the same requests on both. Used by the tests and by
``timebot sandbox timeclock``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sandbox.people import DEMO_PEOPLE, DemoWeek
from sandbox.server import Request, Response, SimServer

_TOKEN = re.compile(r"^(\d+):(\d+):(.+)$")
_BEARER = re.compile(r"^Bearer\s+(.*?)$")
_FILTER = re.compile(r"^filter\[(\w+)\](?:\[(\w+)\])?$")
_ADMIN_OFF = re.compile(r"^/admin/off(/\d+/\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^\s*[-+]?(\d*\.?\d+|\d+\.)([eE][-+]?\d+)?\s*$")  # Yii's NumberValidator
# What each index may be filtered on, and how a value is validated (docs/vendors/timeclock.md): "int"
# ≥ 1, "int0" one of 0..2, "int01" 0 or 1, "date" yyyy-MM-dd, "str" anything. Keyed by the index's default sort.
_FILTERABLE: dict[str, dict[str, str]] = {
    "clockIn": {
        "id": "int",
        "clockIn": "int",
        "clockOut": "int",
        "createdAt": "int",
        "updatedAt": "int",
        "note": "str",
    },
    "startAt": {
        "id": "int",
        "createdAt": "int",
        "updatedAt": "int",
        "startAt": "date",
        "endAt": "date",
        "type": "int01",
        "approved": "int0",
        "note": "str",
    },
    "year": {"year": "int", "month": "int", "day": "int"},
    "name": {"id": "int", "name": "str", "color": "str"},
}


@dataclass
class TcUser:
    id: int
    name: str
    email: str
    api_key: str | None
    pin: str | None = None
    status: int = 1
    phone: str = ""
    project_id: int | None = None


@dataclass
class TcProject:
    id: int
    name: str
    color: str = "#3366cc"
    assignees: set[int] = field(default_factory=set)
    status: int = 1  # 0 deleted, 1 active, 2 locked (once a session has used it)
    created_at: int = 0
    updated_at: int = 0


def _error(status: int, name: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response.json({"name": name, "message": message, "code": 0, "status": status}, status, headers)


def _invalid(errors: list[tuple[str, str]]) -> Response:
    return Response.json([{"field": f, "message": m} for f, m in errors], 422)


def _forbidden() -> Response:
    return _error(403, "Forbidden", "Invalid token provided")


class TimeClockSim:
    def __init__(self, clock: Callable[[], float] = time.time, timezone: str = "UTC") -> None:
        self.clock = clock
        self.tz = ZoneInfo(timezone)
        self.users: dict[int, TcUser] = {}
        self.projects: dict[int, TcProject] = {}
        self.sessions: dict[int, dict[str, Any]] = {}
        self.off_times: dict[int, dict[str, Any]] = {}
        self.holidays: set[tuple[int, int, int]] = set()  # the server's table: what GET /api/holidays reads
        self.calendar: set[tuple[int, int, int]] = set()  # the public site a fetch scrapes
        self.fetched: list[int] = []  # the years asked for through POST /api/holidays/fetch, in order
        self.rejected_auth = 0
        self.accepted_auth = 0
        self._ids = {"session": 0, "off": 0}
        self._lock = threading.RLock()

    # --- seeding ---------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        name: str,
        email: str,
        *,
        api_key: str | None = None,
        pin: str | None = None,
        status: int = 1,
    ) -> TcUser:
        """``pin`` is the 3 digits the profile page shows; the full PIN is ``<id><pin>``."""
        user = TcUser(
            user_id, name, email, api_key if api_key is not None else secrets.token_urlsafe(15)[:20], pin, status
        )
        self.users[user_id] = user
        return user

    def add_project(self, project_id: int, name: str, assignees: set[int] | None = None) -> TcProject:
        now = int(self.clock())
        self.projects[project_id] = TcProject(
            project_id, name, assignees=set(assignees or ()), created_at=now, updated_at=now
        )
        return self.projects[project_id]

    def add_holiday(self, day: date) -> None:
        """A public holiday on the calendar the server scrapes. Like the real server, it is not
        served until its year is fetched (``fetch_holidays`` or ``POST /api/holidays/fetch``)."""
        self.calendar.add((day.year, day.month, day.day))

    def fetch_holidays(self, year: int) -> None:
        """What opening the web calendar on ``year`` (or the fetch route) does: fill the year from
        the public calendar, unless it holds some day already."""
        with self._lock:
            if not any(y == year for (y, _m, _d) in self.holidays):
                self.holidays.update(d for d in self.calendar if d[0] == year)

    def add_off_time(self, user_id: int, start: date, end: date, *, type_: int = 1, note: str | None = None) -> dict:
        with self._lock:
            return self._insert_off(user_id, start.isoformat(), end.isoformat(), type_, note)

    def add_session(
        self,
        user_id: int,
        clock_in: float,
        clock_out: float | None = None,
        *,
        project_id: int | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """A session as if made in TimeClock's web UI (seeding; no validation)."""
        with self._lock:
            self._ids["session"] += 1
            now = int(self.clock())
            row = {
                "id": self._ids["session"],
                "user_id": user_id,
                "clock_in": int(clock_in),
                "clock_out": None if clock_out is None else int(clock_out),
                "note": note,
                "project_id": project_id,
                "created_at": now,
                "updated_at": now,
            }
            self.sessions[row["id"]] = row
            return row

    def decide(self, off_id: int, approved: int) -> None:
        """The admin hook: what ``admin/off-approve`` (1) and ``admin/off-deny`` (2) do in the web
        UI. ``approved`` is not writable through the API, as in the real product."""
        if approved not in (0, 1, 2):
            raise ValueError("approved is 0 (pending), 1 (approved) or 2 (denied)")
        with self._lock:
            self.off_times[off_id].update(approved=approved, updated_at=int(self.clock()))

    @classmethod
    def demo(cls, *, leave: bool = False) -> TimeClockSim:
        """The demo people with PINs and projects; ``leave`` adds leave this week and next and a
        public holiday next week (``timebot sandbox`` and ``timebot console``; tests start empty).
        The holiday is on the public calendar: it shows once its year is fetched, as on the real
        server (the bot fetches it when it has a service key)."""
        sim = cls()
        for i, person in enumerate(DEMO_PEOPLE, start=1):
            sim.add_user(i, person.name, person.email, pin=f"{100 + i}")
        sim.add_project(1, "Website", {u for u in sim.users})
        sim.add_project(2, "Support", {u for u in sim.users})
        if leave:
            week = DemoWeek.of(datetime.fromtimestamp(sim.clock(), sim.tz).date())
            sim.add_off_time(2, week.first, week.first + timedelta(days=1), type_=1, note="Conference")
            sim.add_off_time(4, week.next_week(1), week.next_week(3), type_=1, note="Family visit")
            sim.add_off_time(3, week.next_week(2), week.next_week(2), type_=0, note="Dentist")
            sim.add_holiday(week.next_week(4))
        return sim

    # --- auth ------------------------------------------------------------------------------

    def sign(self, user_id: int, at: float | None = None) -> str:
        """A valid Authorization header for ``user_id`` (for tests that call the sim directly)."""
        ts = int(self.clock() if at is None else at)
        key = self.users[user_id].api_key or ""
        return f"Bearer {user_id}:{ts}:{hashlib.sha1((str(ts) + key).encode()).hexdigest()}"  # noqa: S324

    def _authenticate(self, request: Request) -> TcUser | Response:
        header = request.headers.get("authorization", "")
        m = _BEARER.match(header)
        if not m:
            self.rejected_auth += 1
            return _error(
                401,
                "Unauthorized",
                "Your request was made with invalid credentials.",
                {"WWW-Authenticate": 'Bearer realm="api"'},
            )
        t = _TOKEN.match(m.group(1))
        if not t:
            self.rejected_auth += 1
            return _forbidden()
        user_id, stamp, checksum = int(t.group(1)), int(t.group(2)), t.group(3)
        now = int(self.clock())
        if now > stamp + 60 or now < stamp - 60:
            self.rejected_auth += 1
            return _forbidden()
        user = self.users.get(user_id)
        if user is None or user.status != 1 or not user.api_key:
            self.rejected_auth += 1
            return _forbidden()
        expected = hashlib.sha1((str(stamp) + user.api_key).encode()).hexdigest()  # noqa: S324
        if not secrets.compare_digest(expected, checksum):
            self.rejected_auth += 1
            return _forbidden()
        self.accepted_auth += 1
        return user

    # --- dispatch --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        response = self._route(request)
        response.headers.setdefault("Date", formatdate(self.clock(), usegmt=True))
        return response

    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if _ADMIN_OFF.match(path):
            # the admins' off-time page (of a month): the web UI, behind its login
            login = f"http://{request.headers.get('host', '127.0.0.1')}/site/login"
            return Response(302, b"", {"Location": login, "Content-Type": "text/html; charset=UTF-8"})
        if not path.startswith("/api/"):
            return Response.text("<html><body>Not Found</body></html>", 404, "text/html; charset=UTF-8")
        parts = path[len("/api/") :].split("/")
        if parts == ["key"]:
            if request.method != "POST":
                return self._not_allowed("POST")
            return self._key(request)
        auth = self._authenticate(request)
        if isinstance(auth, Response):
            return auth
        user = auth
        with self._lock:
            resource, rest = parts[0], parts[1:]
            if resource == "sessions":
                if rest == ["summary"]:
                    return self._summary(user, request)
                return self._collection(
                    request, user, rest, self.sessions, self._session_json, self._save_session, "clockIn"
                )
            if resource == "off-times":
                return self._collection(request, user, rest, self.off_times, self._off_json, self._save_off, "startAt")
            if resource == "holidays" and rest == ["fetch"] and request.method == "POST":
                return self._fetch(request)
            if resource == "holidays" and not rest:
                if request.method not in {"GET", "HEAD"}:
                    return self._not_allowed("GET, HEAD")
                rows = [{"year": y, "month": m, "day": d} for (y, m, d) in sorted(self.holidays)]
                return self._index(request, rows, "year")
            if resource == "profile" and not rest:
                return Response.json(self._profile_json(user))
            if resource == "projects":
                visible = [p for p in self.projects.values() if user.id in p.assignees and p.status != 0]
                rows = [{"id": p.id, "name": p.name, "color": p.color} for p in visible]
                if rest:
                    match = [r for r in rows if str(r["id"]) == rest[0]]
                    return (
                        Response.json(match[0]) if match else _error(404, "Not Found", f"Object not found: {rest[0]}")
                    )
                return self._index(request, rows, "name")
        return Response.text("<html><body>Not Found</body></html>", 404, "text/html; charset=UTF-8")

    def _not_allowed(self, allowed: str) -> Response:
        return _error(
            405,
            "Method Not Allowed",
            f"Method Not Allowed. This URL can only handle the following request methods: {allowed}.",
            {"Allow": allowed},
        )

    def _fetch(self, request: Request) -> Response:
        """``POST /api/holidays/fetch {"year": Y}``: 204 whatever the scrape found; the year goes
        through PHP's ``intval`` first, so a missing or non-numeric one reads as 0."""
        raw = request.data().get("year")
        try:
            year = int(raw) if raw is not None else 0
        except (TypeError, ValueError):
            year = 0
        if year < 1:
            return _invalid([("year", "Year must be no less than 1.")])
        self.fetched.append(year)
        self.fetch_holidays(year)
        return Response(204, b"", {"Content-Type": "text/html; charset=UTF-8"})

    def _key(self, request: Request) -> Response:
        pin = str(request.data().get("pin") or "").strip()
        if not pin:
            return _invalid([("pin", "Pin cannot be blank.")])
        if not _NUMBER.match(pin):
            return _invalid([("pin", "Pin must be a number.")])
        if not pin.isdigit() or len(pin) < 4:
            return _invalid([("pin", "Invalid PIN.")])
        user = self.users.get(int(pin[:-3]))
        if user is None or user.status != 1 or not user.pin or not secrets.compare_digest(user.pin, pin[-3:]):
            return _invalid([("pin", "Invalid PIN.")])
        return Response.json({"userId": user.id, "apiKey": user.api_key})

    # --- generic REST collection ---------------------------------------------------------

    def _collection(
        self,
        request: Request,
        user: TcUser,
        rest: list[str],
        table: dict[int, dict[str, Any]],
        render: Callable[[dict[str, Any]], dict[str, Any]],
        save: Callable[[TcUser, dict[str, Any] | None, dict[str, Any]], Response | dict[str, Any]],
        default_sort: str,
    ) -> Response:
        own = [row for row in table.values() if row["user_id"] == user.id]
        if not rest:
            if request.method in {"GET", "HEAD"}:
                return self._index(request, [render(r) for r in own], default_sort)
            if request.method == "POST":
                result = save(user, None, request.data())
                if isinstance(result, Response):
                    return result
                return Response.json(render(result), 201, {"Location": f"{request.path.rstrip('/')}/{result['id']}"})
            return self._not_allowed("GET, HEAD, POST")
        if not rest[0].isdigit():
            return Response.text("<html><body>Not Found</body></html>", 404, "text/html; charset=UTF-8")
        row = table.get(int(rest[0]))
        if row is None or row["user_id"] != user.id:
            return _error(404, "Not Found", f"Object not found: {rest[0]}")
        if request.method in {"GET", "HEAD"}:
            return Response.json(render(row))
        if request.method in {"PUT", "PATCH"}:
            result = save(user, row, request.data())
            return result if isinstance(result, Response) else Response.json(render(result))
        if request.method == "DELETE":
            del table[row["id"]]
            return Response(204, b"", {"Content-Type": "text/html; charset=UTF-8"})
        return self._not_allowed("GET, HEAD, PUT, PATCH, DELETE")

    def _index(self, request: Request, rows: list[dict[str, Any]], default_sort: str) -> Response:
        allowed = _FILTERABLE.get(default_sort, {})
        for key, values in request.query.items():
            m = _FILTER.match(key)
            if not m:
                continue
            attr, op = m.group(1), m.group(2) or "eq"
            kind = allowed.get(attr)
            if kind is None:
                return _invalid([("filter", f'Unknown filter attribute "{attr}"')])
            if op not in _OPERATORS:
                return _invalid([("filter", f'Operator "{op}" is not allowed.')])
            problem = _filter_value_error(kind, op, values[0])
            if problem:
                return _invalid([("filter", problem.format(label=_label(attr)))])
            rows = [r for r in rows if _compare(r.get(attr), op, values[0])]
        sort = request.arg("sort") or default_sort
        for key in reversed(sort.split(",")):
            desc = key.startswith("-")
            name = key.lstrip("-")
            rows.sort(key=lambda r, n=name: (r.get(n) is None, r.get(n) if r.get(n) is not None else 0), reverse=desc)
        per_page = min(50, max(1, int(request.arg("per-page") or 20)))
        page = max(1, int(request.arg("page") or 1))
        total = len(rows)
        page_rows = rows[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Pagination-Total-Count": str(total),
            "X-Pagination-Page-Count": str(-(-total // per_page)),  # 0 when there are no rows
            "X-Pagination-Current-Page": str(page),
            "X-Pagination-Per-Page": str(per_page),
        }
        links = [f"<{self._page_url(request, page)}>; rel=self"]
        if page * per_page < total:
            links.append(f"<{self._page_url(request, page + 1)}>; rel=next")
        headers["Link"] = ", ".join(links)
        return Response.json(page_rows, 200, headers)

    @staticmethod
    def _page_url(request: Request, page: int) -> str:
        query = {k: v[0] for k, v in request.query.items() if k != "page"}
        query["page"] = str(page)
        return f"http://{request.headers.get('host', '127.0.0.1')}{request.path}?{urlencode(query)}"

    # --- sessions --------------------------------------------------------------------------

    def _session_json(self, row: dict[str, Any]) -> dict[str, Any]:
        project = self.projects.get(row["project_id"] or 0)
        return {
            "id": row["id"],
            "userId": row["user_id"],
            "clockIn": row["clock_in"],
            "clockOut": row["clock_out"],
            "note": row["note"],
            # the whole project record, as the real server serializes the relation (not just id, name, color)
            "project": {
                "id": project.id,
                "name": project.name,
                "color": project.color,
                "assignees": sorted(project.assignees),
                "status": project.status,
                "created_at": project.created_at,
                "updated_at": project.updated_at,
            }
            if project
            else None,
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
        }

    def _day(self, stamp: int) -> date:
        return datetime.fromtimestamp(stamp, self.tz).date()

    def _save_session(self, user: TcUser, row: dict[str, Any] | None, data: dict[str, Any]) -> Response | dict:
        now = int(self.clock())
        errors: list[tuple[str, str]] = []
        values: dict[str, Any] = {}
        for name, label in (
            ("clockIn", "Clock In"),
            ("clockOut", "Clock Out"),
            ("projectId", "Project ID"),
            ("defaultProject", "Default Project"),
        ):
            if name in data and data[name] not in (None, ""):
                try:
                    values[name] = int(data[name])
                except (TypeError, ValueError):
                    errors.append((name, f"{label} must be an integer."))
        if errors:
            return _invalid(errors)
        clock_in = values.get("clockIn", row["clock_in"] if row else now)
        clock_out = values.get("clockOut", row["clock_out"] if row else None)
        note = data.get("note", row["note"] if row else None) or None
        project_id = row["project_id"] if row else None
        default_project = values.get("defaultProject", 0 if row else 1)
        if "projectId" in values:
            project_id = values["projectId"] or None
        elif default_project:
            project_id = user.project_id
        if project_id:
            project = self.projects.get(project_id)
            if project is None or project.status == 0:
                errors.append(("projectId", "Can not find project of given ID."))
            elif user.id not in project.assignees:
                errors.append(("projectId", "You are not assigned to selected project."))
        ended = [
            s
            for s in self.sessions.values()
            if s["user_id"] == user.id and s["clock_out"] is not None and (row is None or s["id"] != row["id"])
        ]
        if clock_out is not None and clock_out <= clock_in:
            errors.append(("clockOut", 'Clock Out must be greater than "Clock In".'))
        elif any(s["clock_in"] < clock_in < s["clock_out"] for s in ended):
            errors.append(("clockIn", "Can not start session because it overlaps with another ended session."))
        elif clock_out is not None and any(s["clock_in"] < clock_out < s["clock_out"] for s in ended):
            errors.append(("clockOut", "Can not end session because it overlaps with another ended session."))
        elif clock_out is not None and self._day(clock_in) != self._day(clock_out):
            errors.append(("clockOut", "Session can not last through midnight."))
        elif clock_out is not None and any(clock_in < s["clock_in"] and s["clock_out"] < clock_out for s in ended):
            errors.append(("clockOut", "Can not modify session because it overlaps with another ended session."))
        if errors:
            return _invalid(errors[:1])
        if row is None:
            self._ids["session"] += 1
            row = {"id": self._ids["session"], "user_id": user.id, "created_at": now}
            self.sessions[row["id"]] = row
        row.update(clock_in=clock_in, clock_out=clock_out, note=note, project_id=project_id, updated_at=now)
        used = self.projects.get(project_id or 0)
        if used is not None and used.status == 1:  # a project in use is locked, as the server's Clock::afterSave does
            used.status, used.updated_at = 2, now
        return row

    def _summary(self, user: TcUser, request: Request) -> Response:
        start, end = int(request.arg("from") or 0), int(request.arg("to") or self.clock())
        start, end = min(start, end), max(start, end)
        closed = [
            s
            for s in self.sessions.values()
            if s["user_id"] == user.id
            and s["clock_out"] is not None
            and s["clock_in"] >= start
            and s["clock_out"] <= end
        ]
        return Response.json(
            {
                "userId": user.id,
                "from": start,
                "to": end,
                "summary": sum(s["clock_out"] - s["clock_in"] for s in closed),
                "sessions": len(closed),
            }
        )

    def running_sessions(self, user_id: int) -> list[dict[str, Any]]:
        return [s for s in self.sessions.values() if s["user_id"] == user_id and s["clock_out"] is None]

    # --- off-times -------------------------------------------------------------------------

    def _off_json(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "userId": row["user_id"],
            "startAt": row["start_at"],
            "endAt": row["end_at"],
            "note": row["note"],
            "type": row["type"],
            "approved": row["approved"],
            "createdAt": row["created_at"],
            "updatedAt": row["updated_at"],
        }

    def _insert_off(self, user_id: int, start: str, end: str, type_: int, note: str | None) -> dict[str, Any]:
        self._ids["off"] += 1
        now = int(self.clock())
        row = {
            "id": self._ids["off"],
            "user_id": user_id,
            "start_at": start,
            "end_at": end,
            "type": type_,
            "note": note or None,
            "approved": 0,
            "created_at": now,
            "updated_at": now,
        }
        self.off_times[row["id"]] = row
        return row

    def _save_off(self, user: TcUser, row: dict[str, Any] | None, data: dict[str, Any]) -> Response | dict:
        start = data.get("startAt", row["start_at"] if row else None)
        end = data.get("endAt", row["end_at"] if row else None)
        errors: list[tuple[str, str]] = []
        for name, label, value in (("startAt", "Start At", start), ("endAt", "End At", end)):
            if value in (None, ""):
                errors.append((name, f"{label} cannot be blank."))
            elif not isinstance(value, str) or not _DATE.match(value) or not _valid_date(value):
                errors.append((name, f"The format of {label} is invalid."))
        try:
            type_ = int(data.get("type", row["type"] if row else 0))
        except (TypeError, ValueError):
            type_ = -1
        if type_ not in (0, 1):
            errors.append(("type", "Type is invalid."))
        if errors:
            return _invalid(errors[:1])
        others = [
            o for o in self.off_times.values() if o["user_id"] == user.id and (row is None or o["id"] != row["id"])
        ]
        if start > end:
            errors.append(("endAt", "Off-time ending day can not be earlier than starting day."))
        elif any(o["start_at"] <= start <= o["end_at"] for o in others):
            errors.append(("startAt", "Can not start off-time because it overlaps with another off-time."))
        elif any(o["start_at"] <= end <= o["end_at"] for o in others):
            errors.append(("endAt", "Can not end off-time because it overlaps with another off-time."))
        elif any(start <= o["start_at"] and o["end_at"] <= end for o in others):
            errors.append(("endAt", "Can not modify off-time because it overlaps with another off-time."))
        if errors:
            return _invalid(errors[:1])
        note = data.get("note", row["note"] if row else None)
        if row is None:
            # the API's create leaves ``approved`` unset: its answer says null, the column's 0 shows later
            return {**self._insert_off(user.id, start, end, type_, note), "approved": None}
        row.update(start_at=start, end_at=end, type=type_, note=note or None, updated_at=int(self.clock()))
        return row

    def _profile_json(self, user: TcUser) -> dict[str, Any]:
        project = self.projects.get(user.project_id or 0)
        available = [{"id": p.id, "name": p.name} for p in self.projects.values() if user.id in p.assignees]
        return {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "phone": user.phone or None,
            "defaultProject": {"id": project.id, "name": project.name} if project else None,
            "availableProjects": available,
            "createdAt": 1545245502,
            "updatedAt": 1545247839,
        }


def _valid_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


_OPERATORS = {"lt", "gt", "lte", "gte", "eq", "neq", "in", "nin", "like"}


def _label(attr: str) -> str:
    """Yii's generated attribute label: ``clockIn`` → "Clock In", ``id`` → "ID"."""
    return "ID" if attr == "id" else re.sub(r"(?<!^)(?=[A-Z])", " ", attr).title()


def _filter_value_error(kind: str, op: str, raw: str) -> str | None:
    """Yii's search-model rules and their messages: ids and stamps are integers ≥ 1, ``type`` and
    ``approved`` are in a range, dates are yyyy-MM-dd. ``{label}`` is the attribute's label."""
    values = raw.split(",") if op in {"in", "nin"} else [raw]
    for value in values:
        if kind == "int":
            if not value.lstrip("-").isdigit():
                return "{label} must be an integer."
            if int(value) < 1:
                return "{label} must be no less than 1."
        elif kind in {"int0", "int01"} and value not in ({"0", "1", "2"} if kind == "int0" else {"0", "1"}):
            return "{label} is invalid."
        elif kind == "date" and not (_DATE.match(value) and _valid_date(value)):
            return "The format of {label} is invalid."
    return None


def _compare(actual: Any, op: str, raw: str) -> bool:
    if actual is None:
        return op == "neq"
    expected: Any = raw
    if isinstance(actual, int):
        try:
            expected = int(raw)
        except ValueError:
            return False
    if op == "like":
        return str(raw).lower() in str(actual).lower()
    if op == "in":
        return str(actual) in raw.split(",")
    if op == "nin":
        return str(actual) not in raw.split(",")
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "eq": lambda a, b: a == b,
        "neq": lambda a, b: a != b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
    }
    return ops.get(op, ops["eq"])(actual, expected)


def serve(port: int) -> None:
    sim = TimeClockSim.demo(leave=True)
    print(f"TimeClock sandbox on http://127.0.0.1:{port}")
    print(f"TIMECLOCK_BASE_URL=http://127.0.0.1:{port}")
    print("TIMECLOCK_SERVICE_USER_ID=1")  # lets the bot fetch the public holidays, as on a real server
    print(f"TIMECLOCK_SERVICE_API_KEY={sim.users[1].api_key}")
    print("Demo PINs (link with /timebot link):")
    for user in sim.users.values():
        print(f"  {user.email}: {user.id}{user.pin}")
    SimServer(sim.handle, port=port, name="timeclock").serve_forever()
