"""TimeClock (self-hosted bizley/timeclock): every call is signed with the person's own key.

Contract facts that shape this module (docs/vendors/timeclock.md): a bad token is 403, not 401;
the ±60 s window is corrected from the server's ``Date`` header; the API lets a second session
run, so callers check first; a session cannot pass midnight in the server's zone; who's off
means asking each linked person with their own key; a year's public holidays are empty until
someone asks the server to fetch them; a created off-time answers ``"approved": null``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, TypeVar, overload
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain import (
    Absence,
    Action,
    ClockSession,
    Holiday,
    LeaveRequest,
    LeaveType,
    LinkField,
    RunningSession,
    VendorPerson,
    VendorUser,
)
from bot.errors import SessionCrossesMidnight, VendorAuthError, VendorError, VendorRejected
from bot.telemetry import progress
from bot.vendors.base import VendorSpec
from bot.vendors.http import HttpPolicy, VendorHttp, unreadable_answer
from bot.vendors.settings import BaseUrl, TimeZoneName

log = logging.getLogger(__name__)
_T = TypeVar("_T")

LEAVE_TYPES = (LeaveType("1", "Vacation"), LeaveType("0", "Other time off"))
_FIELD_NAMES = {"startAt": "start", "endAt": "end", "type": "leave_type", "note": "note"}


class TimeClockSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIMECLOCK_", env_file=".env", extra="ignore", env_ignore_empty=True)

    base_url: BaseUrl | None = Field(
        None, description="Where your TimeClock runs (the API is under `/api`); setting it turns TimeClock on"
    )
    timezone: TimeZoneName = Field("UTC", description='The server\'s `timeZone`: where "midnight" is')
    service_user_id: str | None = Field(
        None, description="Optional: the user id of one person's key for company-wide reads (holidays, `timebot check`)"
    )
    service_api_key: SecretStr | None = Field(None, description="That person's TimeClock API key")
    concurrency: int = Field(
        8, description="One `/whosoff` or `/whosin` asks at most this many people's TimeClock at once"
    )


def sign(user_id: str, api_key: str, timestamp: int) -> str:
    """The bearer token: ``id:timestamp:sha1(timestamp + key)`` in lowercase hex."""
    checksum = hashlib.sha1(f"{timestamp}{api_key}".encode()).hexdigest()  # noqa: S324 - vendor's scheme
    return f"{user_id}:{timestamp}:{checksum}"


@overload
def _utc(stamp: int) -> datetime: ...
@overload
def _utc(stamp: int | None) -> datetime | None: ...
def _utc(stamp: int | None) -> datetime | None:
    return None if stamp is None else datetime.fromtimestamp(int(stamp), UTC)


class TimeClock:
    name: ClassVar[str] = "timeclock"
    label: ClassVar[str] = "TimeClock"
    capabilities: ClassVar[frozenset[Action]] = frozenset(
        {
            Action.CLOCK,
            Action.HOURS,
            Action.WHOS_IN,
            Action.LEAVE,
            Action.WHOS_OFF,
            Action.HOLIDAYS,
            Action.LEAVE_DECISION,
            Action.CANCEL,
        }
    )
    company_wide: ClassVar[bool] = False  # every call is the key owner's: who's in asks each person
    half_days: ClassVar[bool] = False
    company_wide_status: ClassVar[bool] = False  # every call is scoped to one person's key
    clock_notes: ClassVar[bool] = True
    clock_in_at: ClassVar[bool] = True  # POST /api/sessions takes clockIn (a Unix time)
    link_fields: ClassVar[tuple[LinkField, ...]] = (
        LinkField(
            "pin",
            "TimeClock PIN",
            "Generate it on your TimeClock Profile page; it starts with your user id.",
            secret=True,
        ),
    )

    def __init__(
        self, settings: TimeClockSettings, policy: HttpPolicy | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        if not settings.base_url:
            raise ValueError("TIMECLOCK_BASE_URL is required")
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone)
        self.http = VendorHttp(self.label, settings.base_url.rstrip("/"), policy)
        self._clock = clock
        self.skew = 0.0  # server clock minus ours, learnt from a rejected request's Date header
        self._lock = threading.Lock()
        self._service_user: VendorUser | None = None
        if settings.service_user_id and settings.service_api_key:
            self._service_user = VendorUser(settings.service_user_id, settings.service_api_key.get_secret_value())
        self._any_user = self._service_user
        self._holiday_fetches: set[int] = set()  # years this process asked the server to fetch

    def close(self) -> None:
        self.http.close()

    # --- signed calls ----------------------------------------------------------------------

    def _call(self, user: VendorUser, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if not user.secret:
            raise VendorAuthError(self.label, "Your TimeClock link has no API key. Link again with `/timebot link`.")

        def auth() -> dict[str, str]:
            stamp = int(self._clock() + self.skew)
            return {"Authorization": f"Bearer {sign(user.vendor_user_id, user.secret or '', stamp)}"}

        response = self.http.request(method, url, sign=auth, **kwargs)
        if response.status_code == 403 and self._learn_skew(response):
            response = self.http.request(method, url, sign=auth, **kwargs)
        if response.status_code in (401, 403):
            if user == self._any_user and user != self._service_user:
                self._any_user = None  # a revoked key: company-wide reads use the next one that works
            raise VendorAuthError(
                self.label,
                "TimeClock refused your API key: it may have been changed or revoked. Link again with `/timebot link`.",
                detail=f"HTTP {response.status_code}",
            )
        self._any_user = self._any_user or user
        return response

    def _learn_skew(self, response: httpx.Response) -> bool:
        """True when our clock is off by enough to explain a 403; the next signature corrects it."""
        header = response.headers.get("Date")
        if not header:
            return False
        try:
            server = parsedate_to_datetime(header).timestamp()
        except (TypeError, ValueError):
            return False
        skew = server - self._clock()
        with self._lock:
            if abs(skew - self.skew) <= 30:
                return False
            log.warning("TimeClock clock differs from ours by %.0f s; correcting signatures", skew)
            self.skew = skew
        return True

    def _json(self, response: httpx.Response, *, ok: tuple[int, ...] = (200, 201), changes: bool | None = None) -> Any:
        if response.status_code in ok:
            try:
                return response.json() if response.content else None
            except ValueError as exc:
                raise unreadable_answer(self.label, response, "TIMECLOCK_BASE_URL", changes=changes) from exc
        self._raise(response)
        return None

    def _raise(self, response: httpx.Response) -> None:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if status == 422 and isinstance(body, list) and body:
            first = body[0]
            message = str(first.get("message", "TimeClock refused the request."))
            if message.startswith("Session can not last through midnight"):
                message = "A session can't last through midnight."
            raise VendorRejected(self.label, message, field=_FIELD_NAMES.get(first.get("field"), first.get("field")))
        if status == 404:
            raise VendorRejected(self.label, "TimeClock couldn't find that record; it may have been deleted.")
        said = body.get("message") if isinstance(body, dict) else None
        raise VendorError(self.label, f"TimeClock answered with an error (HTTP {status}).", detail=str(said or ""))

    def _pages(self, user: VendorUser, url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            response = self._call(user, "GET", url, params={**params, "page": page, "per-page": 50})
            batch = self._json(response) or []
            rows.extend(batch)
            pages = int(response.headers.get("X-Pagination-Page-Count", "1") or 1)
            if not batch or page >= pages:
                return rows
            page += 1

    # --- identity --------------------------------------------------------------------------

    def link(self, fields: Mapping[str, str]) -> tuple[VendorUser, VendorPerson]:
        pin = "".join(str(fields.get("pin", "")).split())
        if not pin.isdigit() or len(pin) < 4:
            raise VendorRejected(self.label, "A TimeClock PIN is your user id followed by 3 digits.", field="pin")
        response = self.http.request("POST", "/api/key", json={"pin": pin}, idempotent=True, changes=False)
        if response.status_code == 422:
            raise VendorRejected(
                self.label, "TimeClock didn't accept that PIN. Check it on your Profile page.", field="pin"
            )
        data = self._json(response, changes=False) or {}  # a PIN exchange changes nothing
        if not data.get("apiKey"):
            raise VendorRejected(
                self.label,
                "Your TimeClock account has no API access yet: click “Grant yourself API access” "
                "on your Profile page, then link again.",
                field="pin",
            )
        user = VendorUser(str(data["userId"]), str(data["apiKey"]))
        profile = self._json(self._call(user, "GET", "/api/profile")) or {}
        return user, VendorPerson(user.vendor_user_id, profile.get("email"), profile.get("name"))

    # --- clock -----------------------------------------------------------------------------

    def _session(self, row: dict[str, Any]) -> ClockSession:
        project = row.get("project") or None
        return ClockSession(
            session_id=str(row["id"]),
            started_at=_utc(row["clockIn"]),
            ended_at=_utc(row.get("clockOut")),
            project=project.get("name") if isinstance(project, dict) else None,
            note=row.get("note"),
        )

    def current_session(self, user: VendorUser) -> ClockSession | None:
        """The most recent running session, if any (the API itself would allow several)."""
        response = self._call(user, "GET", "/api/sessions", params={"sort": "-clockIn", "per-page": 50})
        for row in self._json(response) or []:
            if row.get("clockOut") is None:
                return self._session(row)
        return None

    def _project_id(self, user: VendorUser, project: str) -> int:
        wanted = project.strip().lower()
        projects = self._pages(user, "/api/projects", {})
        for p in projects:
            if str(p.get("id")) == wanted or str(p.get("name", "")).lower() == wanted:
                return int(p["id"])
        names = ", ".join(sorted(str(p.get("name")) for p in projects)) or "none"
        raise VendorRejected(
            self.label, f"You have no TimeClock project called “{project}”. Yours: {names}.", field="project"
        )

    def clock_in(
        self, user: VendorUser, *, project: str | None = None, note: str | None = None, at: datetime | None = None
    ) -> ClockSession:
        body: dict[str, Any] = {}
        if at is not None:
            body["clockIn"] = int(at.timestamp())
        if note:
            body["note"] = note
        if project:
            body["projectId"] = self._project_id(user, project)
        return self._session(self._json(self._call(user, "POST", "/api/sessions", json=body)))

    def clock_out(
        self, user: VendorUser, session: ClockSession, *, at: datetime | None = None, note: str | None = None
    ) -> ClockSession:
        end = at or datetime.fromtimestamp(self._clock() + self.skew, UTC)
        # TimeClock needs clockOut > clockIn to the second; an instant clock-out still ends the session.
        end = max(end, session.started_at + timedelta(seconds=1))
        start_day = session.started_at.astimezone(self.tz).date()
        if end.astimezone(self.tz).date() != start_day:
            raise SessionCrossesMidnight(self.label, session, start_day)
        body: dict[str, Any] = {"clockOut": int(end.timestamp())}
        if note:
            body["note"] = note
        response = self._call(user, "PATCH", f"/api/sessions/{session.session_id}", json=body, idempotent=True)
        if response.status_code == 422:
            try:
                if "midnight" in str(response.json()[0].get("message", "")):
                    raise SessionCrossesMidnight(self.label, session, start_day)
            except (ValueError, IndexError, AttributeError):
                pass
        return self._session(self._json(response))

    def sessions(self, user: VendorUser, start: datetime, end: datetime) -> list[ClockSession]:
        """Filtered on ``clockIn`` (docs/vendors/timeclock.md): a closed session never passes midnight, so one
        overlapping ``start`` began at most a day before it; a running one may be older (forgotten),
        so the current session is asked for too when the range reaches now."""
        params = {
            "filter[clockIn][gte]": max(1, int((start - timedelta(days=1)).timestamp())),
            "filter[clockIn][lt]": int(end.timestamp()),
            "sort": "clockIn",
        }
        found = [self._session(r) for r in self._pages(user, "/api/sessions", params)]
        now = datetime.fromtimestamp(self._clock() + self.skew, UTC)
        if end > now - timedelta(minutes=1) and not any(s.running for s in found):
            current = self.current_session(user)
            if current is not None:
                found.insert(0, current)
        return [s for s in found if s.started_at < end and (s.ended_at is None or s.ended_at > start)]

    def clocked_in(self, users: Sequence[VendorUser]) -> list[RunningSession]:
        """One read per linked person (keys are per person), concurrent but bounded."""

        def one(user: VendorUser) -> list[RunningSession]:
            try:
                session = self.current_session(user)
            except VendorAuthError:
                log.warning("TimeClock refused the key of user %s; left out of who's in", user.vendor_user_id)
                return []
            return [RunningSession(user.vendor_user_id, session)] if session is not None else []

        return [r for batch in self._each(users, one) for r in batch]

    def _each(self, users: Sequence[VendorUser], one: Callable[[VendorUser], list[_T]]) -> list[list[_T]]:
        if not users:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(self.settings.concurrency, len(users)))) as pool:
            return list(pool.map(progress.carried(one), users))

    def session_day_end(self, session: ClockSession) -> datetime:
        """The last instant a session may end: 23:59 on its start day in the server's zone."""
        day = session.started_at.astimezone(self.tz).date()
        return datetime.combine(day, datetime.max.time().replace(microsecond=0), self.tz) - timedelta(seconds=59)

    # --- leave -----------------------------------------------------------------------------

    def leave_types(self) -> list[LeaveType]:
        return list(LEAVE_TYPES)

    def _absence(self, row: dict[str, Any]) -> Absence:
        kind = next((t.name for t in LEAVE_TYPES if t.id == str(row.get("type"))), "Time off")
        approved = row.get("approved")  # null in a create's answer, 0 on later reads: both pending
        status = {1: "approved", 2: "denied"}.get(approved if isinstance(approved, int) else 0, "pending")
        if row.get("type") == 0:
            status = "approved"  # only vacations go through approval
        return Absence(
            vendor_user_id=str(row.get("userId")),
            start=date.fromisoformat(row["startAt"]),
            end=date.fromisoformat(row["endAt"]),
            kind=kind,
            reason=row.get("note"),
            status=status,
            absence_id=str(row.get("id")),
        )

    def request_leave(self, user: VendorUser, request: LeaveRequest) -> Absence:
        if request.leave_type and request.leave_type not in {t.id for t in LEAVE_TYPES}:
            raise VendorRejected(
                self.label,
                "That leave type isn't one TimeClock offers: the form may be out of date. Open `/timeoff` again.",
                field="leave_type",
            )
        leave_type = request.leave_type or LEAVE_TYPES[0].id
        body = {
            "startAt": request.start.isoformat(),
            "endAt": request.end.isoformat(),
            "type": int(leave_type),
            "note": request.note or "",
        }
        return self._absence(self._json(self._call(user, "POST", "/api/off-times", json=body)))

    def my_absences(self, user: VendorUser, start: date, end: date) -> list[Absence]:
        rows = self._pages(
            user, "/api/off-times", {"filter[startAt][lte]": end.isoformat(), "filter[endAt][gte]": start.isoformat()}
        )
        return [a for a in map(self._absence, rows) if a.status != "denied"]

    def leave_requests(self, start: date, end: date, users: Sequence[VendorUser]) -> list[Absence]:
        """Each person's off-times with their ``approved`` state (0 pending, 1 approved, 2 denied),
        one paged read per person: TimeClock has no admin API to list everyone's."""
        found: list[Absence] = []
        for user in users:
            try:
                rows = self._pages(
                    user,
                    "/api/off-times",
                    {"filter[startAt][lte]": end.isoformat(), "filter[endAt][gte]": start.isoformat()},
                )
            except VendorAuthError:
                log.warning("TimeClock refused the key of user %s; their requests are left out", user.vendor_user_id)
                continue
            found.extend(map(self._absence, rows))
        return found

    def approval_url(self, absence: Absence) -> str:
        """The admins' off-time page of the web UI for the leave's own month, where it can be
        approved or denied (``/admin/off`` alone opens the current month)."""
        base = (self.settings.base_url or "").rstrip("/")
        return f"{base}/admin/off/{absence.start.month}/{absence.start.year}"

    def approvers(self, user: VendorUser) -> list[VendorPerson]:
        return []  # TimeClock names no approver per person: TIMEBOT_LEAVE_APPROVERS says who

    def cancel_leave(self, user: VendorUser, absence_id: str) -> None:
        """``DELETE /api/off-times/{id}`` (204); a 404 means it is gone already."""
        if not absence_id.isdigit():
            raise VendorRejected(self.label, "That isn't a TimeClock off-time.")
        response = self._call(user, "DELETE", f"/api/off-times/{absence_id}")
        if response.status_code not in (204, 200, 404):
            self._raise(response)

    def absences(self, start: date, end: date, users: Sequence[VendorUser]) -> list[Absence]:
        """One query per linked person (TimeClock scopes every call to the key's owner), run
        concurrently but bounded so a big team does not flood a self-hosted server."""

        def one(user: VendorUser) -> list[Absence]:
            try:
                return self.my_absences(user, start, end)
            except VendorAuthError:
                log.warning("TimeClock refused the key of user %s; their leave is left out", user.vendor_user_id)
                return []

        return [a for batch in self._each(users, one) for a in batch]

    # --- holidays --------------------------------------------------------------------------

    def holidays(self, start: date, end: date) -> list[Holiday]:
        user = self._any_user
        if user is None:
            return []  # holidays need some key; none is known until someone links
        found: list[Holiday] = []
        for year in range(start.year, end.year + 1):
            rows = self._pages(user, "/api/holidays", {"filter[year]": year})
            if not rows and self._fetch_holidays(year):
                rows = self._pages(user, "/api/holidays", {"filter[year]": year})
            for row in rows:
                day = date(int(row["year"]), int(row["month"]), int(row["day"]))
                if start <= day <= end:
                    found.append(Holiday(day, "Public holiday"))
        return found

    def _fetch_holidays(self, year: int) -> bool:
        """Ask the server to fill ``year`` (it does so only when its web calendar is opened, or on
        this call), with the service key, once per year per process: a server that cannot reach
        its holiday source answers 204 and stays empty, and asking again would change nothing.
        True when the server took the request, so a second read may find the days."""
        user = self._service_user
        if user is None:
            return False  # a write to the company's server: only on a key the operator gave for it
        with self._lock:
            if year in self._holiday_fetches:
                return False
            self._holiday_fetches.add(year)
        try:
            response = self._call(user, "POST", "/api/holidays/fetch", json={"year": year}, idempotent=True)
        except VendorError as exc:
            log.warning("TimeClock could not fetch the public holidays of %s: %s", year, exc)
            return False
        if response.status_code not in (200, 204):
            log.warning("TimeClock refused to fetch the public holidays of %s (HTTP %s)", year, response.status_code)
            return False
        return True

    def check(self) -> str:
        if self._any_user is not None:
            profile = self._json(self._call(self._any_user, "GET", "/api/profile")) or {}
            return f"signed in as user {profile.get('id')}"
        response = self.http.request("GET", "/api/profile")
        if response.status_code == 401 and "Bearer" in response.headers.get("WWW-Authenticate", ""):
            return "reachable (each person links their own key; set TIMECLOCK_SERVICE_* to test one)"
        raise VendorError(
            self.label,
            f"{self.settings.base_url} doesn't look like a TimeClock API "
            f"(HTTP {response.status_code} from /api/profile).",
        )


SPEC = VendorSpec(
    name="timeclock",
    label="TimeClock",
    settings_cls=TimeClockSettings,
    is_configured=lambda s: bool(s.base_url),
    build=lambda s, policy: TimeClock(s, policy),
    settings_hint="TIMECLOCK_BASE_URL",
    required=("base_url",),
    credentials_hint="TIMECLOCK_SERVICE_USER_ID and TIMECLOCK_SERVICE_API_KEY",
    url_hint="TIMECLOCK_BASE_URL",
)
