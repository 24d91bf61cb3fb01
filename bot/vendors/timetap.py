"""TimeTap: an appointment scheduler whose business-level API key buys one session token.

Contract: docs/vendors/timetap.md (a bare §N in this module is a section of it). What shapes this
module:

- One token serves every call for the business (§4): ``GET /sessionToken`` signed with
  ``md5(apiKey + privateKey)``. It idles out after 4 h, after which any call answers 401. Many
  worker threads share one connector, so the token is renewed once per expiry, not once per
  thread: renewals happen under a lock and only when the token that failed is still current
  (a generation number says which token a caller used).
- TimeTap has no clock-in/out and no holiday list (§2, §9): those methods refuse before
  anything is sent.
- Time off is a calendar block without approval (§6.1): created with ``POST /timeOffBulk`` and
  listed only through ``GET /appointments/report?onlyTimeOff=1&excludeTimeOff=false``, paged
  until an empty page (§7).
- People are matched by email from ``GET /staff``; the staff field names are inferred (§6.2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain import Absence, Action, LeaveRequest, LeaveType, LinkField, VendorPerson, VendorUser
from bot.errors import VendorAuthError, VendorError, VendorRejected
from bot.vendors.auth import Token, TokenCache, with_token
from bot.vendors.base import VendorSpec
from bot.vendors.http import HttpPolicy, VendorHttp, unreadable_answer
from bot.vendors.settings import BaseUrl

log = logging.getLogger(__name__)

TOKEN_IDLE_TTL = 4 * 3600.0  # "expire after 4 hours of inactivity" (documented, §4.4)
TOKEN_RENEW_MARGIN = 60.0  # renew an idle token a little early rather than spend a 401 on it
AUTH_FAILURE_HOLD = 5.0  # after refused credentials, answer from memory instead of asking again
PAGE_SIZE = 25  # the documented default; the maximum is unknown (§7)
MAX_PAGES = 400  # a guard against a server that ignores pageNumber
CACHE_TTL = 300.0  # staff directory and reasons change rarely
ALL_DAY = ("0000", "2359")  # inferred: how "all day" is written is unknown (§6.1)
CREDENTIALS_HINT = "TIMETAP_API_KEY / TIMETAP_PRIVATE_KEY"
_SECRET_PARAMS = frozenset({"signature", "sessiontoken", "apikey"})


class TimeTapSettings(BaseSettings):
    """``TIMETAP_*``: one business, one key pair."""

    model_config = SettingsConfigDict(env_prefix="TIMETAP_", env_file=".env", extra="ignore", env_ignore_empty=True)

    base_url: BaseUrl = Field("https://api.timetap.com", description="TimeTap's API root")
    environment: Literal["test", "live"] = Field(
        "live", description="`live`, or `test` for TimeTap's test environment (the URL prefix)"
    )
    api_key: str | None = Field(
        None,
        description="The business's API key (numeric; it is also the business id); "
        "with the private key it turns TimeTap on",
    )
    private_key: SecretStr | None = Field(None, description="The private key; only ever used to compute the signature")
    leave_reason_id: int | None = Field(
        None, description="Which PERSONAL reason time off is booked under (default: the first one)"
    )


def signature(api_key: str, private_key: str) -> str:
    """``md5_hex(apiKey + privateKey)`` in lowercase. It has no timestamp, so it never changes and
    is as sensitive as the private key itself."""
    return hashlib.md5(f"{api_key}{private_key}".encode()).hexdigest()  # noqa: S324 - the vendor's scheme


class _RedactSecrets(logging.Filter):
    """httpx logs every URL at INFO, and ``/sessionToken`` carries the signature in its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(_redacted(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


def _redacted(url: httpx.URL) -> httpx.URL | str:
    if not url.query:
        return url
    pairs = parse_qsl(url.query.decode(), keep_blank_values=True)
    if not any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
        return url
    clean = [(k, "[redacted]" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs]
    return str(url.copy_with(query=urlencode(clean, safe="[]").encode()))


def _install_redaction() -> None:
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactSecrets) for f in httpx_log.filters):
        httpx_log.addFilter(_RedactSecrets())


_install_redaction()


def _id_value(value: str) -> int | str:
    """TimeTap ids are integers in JSON; keep anything else as the caller gave it."""
    return int(value) if value.isdigit() else value


def _day(value: Any) -> date | None:
    """``YYYY-MM-DD``, possibly with a time after it."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _is_personal(reason: Mapping[str, Any]) -> bool:
    """Time-off reasons have ``reasonType`` PERSONAL (doc); real reasons also carry ``personal`` (obs)."""
    return str(reason.get("reasonType") or "").upper() == "PERSONAL" or reason.get("personal") is True


def _row_key(row: Mapping[str, Any]) -> str:
    ident = row.get("calendarId") or row.get("timeOffId")
    return f"id:{ident}" if ident is not None else json.dumps(row, sort_keys=True, default=str)


def _staff_id(row: Mapping[str, Any]) -> str | None:
    staff = row.get("staff")
    if isinstance(staff, Mapping) and staff.get("professionalId") is not None:
        return str(staff["professionalId"])
    for name in ("professionalId", "staffId"):
        value = row.get(name)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, int | str) and str(value):
            return str(value)
    return None


def _error_text(response: httpx.Response) -> str:
    """The vendor's message from an error body, for logs only; error bodies are undocumented."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, Mapping):
        for name in ("message", "errorMessage", "error", "errors"):
            if body.get(name):
                return str(body[name])[:200]
    return ""


class TimeTap:
    """The ``Vendor`` protocol over one TimeTap business."""

    name: ClassVar[str] = "timetap"
    label: ClassVar[str] = "TimeTap"
    capabilities: ClassVar[frozenset[Action]] = frozenset(
        {Action.LEAVE, Action.WHOS_OFF, Action.IDENTITY, Action.CANCEL}
    )
    half_days: ClassVar[bool] = False
    link_fields: ClassVar[tuple[LinkField, ...]] = ()

    def __init__(
        self, settings: TimeTapSettings, policy: HttpPolicy | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        if not settings.api_key or not settings.private_key:
            raise ValueError(f"{CREDENTIALS_HINT} are required")
        self.settings = settings
        self._api_key = settings.api_key.strip()
        self._private_key = settings.private_key
        self._clock = clock
        self.http = VendorHttp(self.label, f"{settings.base_url.rstrip('/')}/{settings.environment}", policy)
        self._tokens: TokenCache[None] = TokenCache(self._authenticate, clock)
        self._auth_failure: tuple[float, str] | None = None  # when and why credentials were refused
        self._cache_lock = threading.Lock()
        self._directory: tuple[float, list[VendorPerson]] | None = None
        self._reasons: tuple[float, list[dict[str, Any]]] | None = None

    def __repr__(self) -> str:
        return f"TimeTap({self.http.client.base_url})"

    def close(self) -> None:
        self.http.close()

    # --- session token ---------------------------------------------------------------------

    def _authenticate(self, _key: None, _previous: Token | None) -> Token:
        """``GET /sessionToken``; the token cache calls it, one thread at a time."""
        if self._auth_failure is not None and self._clock() - self._auth_failure[0] < AUTH_FAILURE_HOLD:
            raise self._credentials_error(self._auth_failure[1])
        params = {
            "apiKey": self._api_key,
            "timestamp": int(self._clock()),
            "signature": signature(self._api_key, self._private_key.get_secret_value()),
        }
        response = self.http.request("GET", "/sessionToken", params=params)
        if response.status_code != 200:
            detail = f"HTTP {response.status_code} from /sessionToken"
            if 400 <= response.status_code < 500:
                self._auth_failure = (self._clock(), detail)
                log.warning(
                    "TimeTap refused the session token request (HTTP %s); check %s",
                    response.status_code,
                    CREDENTIALS_HINT,
                )
                raise self._credentials_error(detail)
            raise VendorError(
                self.label,
                "TimeTap answered with an error while signing in.",
                detail=f"HTTP {response.status_code} from /sessionToken",
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("sessionToken") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise VendorError(
                self.label,
                "TimeTap sent an answer Timebot doesn't understand.",
                detail="no sessionToken in the /sessionToken answer",
            )
        self._auth_failure = None
        log.info("TimeTap session token obtained")
        return Token(token, self._idle_deadline())

    def _idle_deadline(self) -> float:
        """TimeTap drops a token after hours of disuse: renew a little before that."""
        return self._clock() + TOKEN_IDLE_TTL - TOKEN_RENEW_MARGIN

    def _credentials_error(self, detail: str) -> VendorAuthError:
        return VendorAuthError(
            self.label,
            "TimeTap isn't accepting Timebot's API key. "
            "An admin needs to check TIMETAP_API_KEY and TIMETAP_PRIVATE_KEY.",
            detail=detail,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call with the session token. A 401 means the token is gone (TimeTap checks it
        before doing anything), so even a write is safe to send once more with a fresh token."""

        def refused(response: httpx.Response) -> bool:
            if response.status_code == 401:
                log.info("TimeTap answered 401 to %s %s; renewing the session token", method, path)
            return response.status_code == 401

        response, token = with_token(
            self._tokens, None, lambda token: self.http.request(method, path, sign=_bearer(token), **kwargs), refused
        )
        if response.status_code == 401:
            raise self._credentials_error(f"HTTP 401 from {path} with a fresh session token")
        self._tokens.extend(None, token, self._idle_deadline())
        return response

    def _json(self, response: httpx.Response) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise unreadable_answer(self.label, response, "TIMETAP_BASE_URL") from None
        detail = _error_text(response)
        if status == 403:
            raise VendorAuthError(
                self.label,
                "TimeTap refused Timebot access to that. An admin needs to check "
                "the API settings of the TimeTap account.",
                detail=f"HTTP 403 {detail}".strip(),
            )
        if status == 404:
            raise VendorRejected(
                self.label, "TimeTap couldn't find that record; it may have been deleted.", detail=detail
            )
        if 400 <= status < 500:
            raise VendorRejected(self.label, f"TimeTap refused the request (HTTP {status}).", detail=detail)
        raise VendorError(self.label, f"TimeTap answered with an error (HTTP {status}).", detail=detail)

    def _list(self, response: httpx.Response, what: str) -> list[dict[str, Any]]:
        body = self._json(response)
        if not isinstance(body, list):
            raise VendorError(
                self.label, "TimeTap sent an answer Timebot doesn't understand.", detail=f"{what} is not a list"
            )
        return [row for row in body if isinstance(row, dict)]

    # --- identity --------------------------------------------------------------------------

    def link(self, fields: Mapping[str, str]) -> tuple[VendorUser, VendorPerson]:
        raise VendorRejected(
            self.label,
            "TimeTap people are linked automatically by their email. If yours differs, "
            "an admin can link you with `/timebot link @you <TimeTap staff id>`.",
        )

    def people(self) -> list[VendorPerson]:
        people = [
            _person(row)
            for row in self._list(self._call("GET", "/staff"), "/staff")
            if row.get("professionalId") is not None and row.get("active") is not False
        ]
        with self._cache_lock:
            self._directory = (self._clock(), people)
        return people

    def _people_by_id(self) -> dict[str, VendorPerson]:
        """Names and emails for who's off: report rows carry only ``staff.professionalId`` (obs)."""
        with self._cache_lock:
            cached = self._directory
        if cached is not None and self._clock() - cached[0] < CACHE_TTL:
            people = cached[1]
        else:
            try:
                people = self.people()
            except VendorError as exc:
                log.warning("TimeTap staff list unavailable, names left out: %s", exc)
                people = []
        return {p.vendor_user_id: p for p in people}

    # --- leave -----------------------------------------------------------------------------

    def _personal_reasons(self) -> list[dict[str, Any]]:
        """PERSONAL reasons from ``GET /services``, the configured one first."""
        with self._cache_lock:
            cached = self._reasons
        if cached is not None and self._clock() - cached[0] < CACHE_TTL:
            return cached[1]
        rows = self._list(self._call("GET", "/services"), "/services")
        reasons = [r for r in rows if _is_personal(r) and r.get("active") is not False and r.get("reasonId")]
        wanted = self.settings.leave_reason_id
        if wanted is not None:
            chosen = next((r for r in rows if str(r.get("reasonId")) == str(wanted)), None)
            if chosen is None:
                try:
                    chosen = self._json(self._call("GET", f"/services/{wanted}"))
                except VendorRejected:
                    chosen = None
            if not isinstance(chosen, dict):
                raise VendorRejected(
                    self.label,
                    "Timebot's TimeTap time-off reason (TIMETAP_LEAVE_REASON_ID) "
                    "doesn't exist in TimeTap. Ask an admin to fix it.",
                )
            reasons = [chosen, *(r for r in reasons if str(r.get("reasonId")) != str(wanted))]
        if not reasons:
            raise VendorRejected(
                self.label, "TimeTap has no time-off reason set up. Ask an admin to add a Personal reason in TimeTap."
            )
        with self._cache_lock:
            self._reasons = (self._clock(), reasons)
        return reasons

    def leave_types(self) -> list[LeaveType]:
        return [LeaveType(str(r["reasonId"]), str(r.get("reasonDesc") or "Time off")) for r in self._personal_reasons()]

    def request_leave(self, user: VendorUser, request: LeaveRequest) -> Absence:
        """Whole days only (``half_days`` is False: the bot writes half days into the note)."""
        reasons = self._personal_reasons()
        reason = next(
            (r for r in reasons if str(r.get("reasonId")) == request.leave_type),
            None if request.leave_type else reasons[0],
        )  # none chosen: the default reason
        if reason is None:
            raise VendorRejected(
                self.label,
                "That leave type isn't one TimeTap offers: the form may be out of date. Open `/timeoff` again.",
                field="leave_type",
            )
        body: dict[str, Any] = {
            "businessId": _id_value(self._api_key),  # the apiKey is the businessId (observed, §4.1)
            "staffId": [_id_value(user.vendor_user_id)],
            "startDate": request.start.isoformat(),
            "startTime": ALL_DAY[0],
            "endDate": request.end.isoformat(),
            "endTime": ALL_DAY[1],
            "reason": reason,
        }
        if request.note:
            body["note"] = request.note
        created = self._json(self._call("POST", "/timeOffBulk", json=body, idempotent=False))
        row = _created_row(created, user.vendor_user_id)
        if row is not None:
            absence = self._absence(row, {})
            if absence is not None:
                return absence
        # The create answer is undocumented (§6.1): read the block back instead.
        mine = [
            a
            for a in self.my_absences(user, request.start, request.end)
            if a.start == request.start and a.end == request.end
        ]
        if mine:
            return mine[-1]
        return Absence(
            user.vendor_user_id,
            request.start,
            request.end,
            kind=str(reason.get("reasonDesc") or "Time off"),
            reason=request.note,
        )

    def _time_off_rows(self, start: date, end: date) -> list[dict[str, Any]]:
        """Every time-off row overlapping [start, end]: the documented listing, paged until an
        empty page. Rows already seen end the loop too, in case pageNumber is ignored."""
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            params = {
                "onlyTimeOff": 1,
                "excludeTimeOff": "false",
                "startDate": start.isoformat(),
                "endDate": end.isoformat(),
                "pageNumber": page,
                "pageSize": PAGE_SIZE,
            }
            batch = self._list(self._call("GET", "/appointments/report", params=params), "/appointments/report")
            if not batch:
                return rows
            fresh = [r for r in batch if _row_key(r) not in seen]
            if not fresh:
                log.warning("TimeTap repeated page %d of the time-off report; stopping there", page)
                return rows
            seen.update(_row_key(r) for r in fresh)
            rows.extend(fresh)
        log.warning("TimeTap time-off report still had rows after %d pages; the rest is left out", MAX_PAGES)
        return rows

    def _absence(self, row: Mapping[str, Any], people: Mapping[str, VendorPerson]) -> Absence | None:
        """A time-off row as an Absence, or None for rows that are not live time off."""
        if row.get("active") is False or str(row.get("status") or "").upper() in {"CANCELLED", "DELETED"}:
            return None
        reason: Mapping[str, Any] = r if isinstance(r := row.get("reason"), Mapping) else {}
        if ("reasonType" in reason or "personal" in reason) and not _is_personal(reason):
            return None  # a client appointment, should the filter ever be ignored
        staff_id, start = _staff_id(row), _day(row.get("startDate"))
        if staff_id is None or start is None:
            return None
        end = _day(row.get("endDate")) or start
        staff: Mapping[str, Any] = s if isinstance(s := row.get("staff"), Mapping) else {}
        person = people.get(staff_id)
        ident = row.get("timeOffId") or row.get("calendarId")
        return Absence(
            vendor_user_id=staff_id,
            start=start,
            end=max(start, end),
            kind=str(reason.get("reasonDesc") or "Time off"),
            reason=row.get("note") or None,
            status="approved",
            absence_id=str(ident) if ident is not None else None,
            person_name=staff.get("fullName") or (person.name if person else None),
            person_email=staff.get("emailAddress") or (person.email if person else None),
        )

    def absences(self, start: date, end: date, users: Sequence[VendorUser]) -> list[Absence]:
        """Company-wide: one paged report covers everyone, so ``users`` is not needed."""
        rows = self._time_off_rows(start, end)
        people = self._people_by_id() if rows else {}
        found = (self._absence(r, people) for r in rows)
        # The date filter is observed, not documented, for time-off rows (§7): check it here.
        return [a for a in found if a is not None and a.start <= end and a.end >= start]

    def my_absences(self, user: VendorUser, start: date, end: date) -> list[Absence]:
        """The report has no documented staff filter, so the person's rows are picked out here."""
        found = (self._absence(r, {}) for r in self._time_off_rows(start, end))
        return [
            a
            for a in found
            if a is not None and a.vendor_user_id == user.vendor_user_id and a.start <= end and a.end >= start
        ]

    def cancel_leave(self, user: VendorUser, absence_id: str) -> None:
        """``DELETE /timeOff/{id}``: a soft delete (§6.1); a 404 means it is gone already.
        The block is read first, so nobody removes another person's time off by its id."""
        path = f"/timeOff/{_id_value(absence_id)}"
        found = self._call("GET", path)
        if found.status_code == 404:
            return
        row = self._json(found) or {}
        if not isinstance(row, dict) or _staff_id(row) != user.vendor_user_id or row.get("active") is False:
            return
        response = self._call("DELETE", path, idempotent=True)
        if response.status_code != 404:
            self._json(response)

    # --- health ----------------------------------------------------------------------------

    def check(self) -> str:
        return f"{len(self.people())} staff"


def _bearer(token: str) -> Callable[[], dict[str, str]]:
    return lambda: {"Authorization": f"Bearer {token}"}


def _person(row: Mapping[str, Any]) -> VendorPerson:
    email = row.get("emailAddress") or row.get("email") or None
    name = row.get("fullName") or " ".join(str(row[k]) for k in ("firstName", "lastName") if row.get(k)) or None
    return VendorPerson(str(row["professionalId"]), str(email).strip() if email else None, name)


def _created_row(body: Any, staff_id: str) -> dict[str, Any] | None:
    """Our block from the ``/timeOffBulk`` answer: a list with one entry per staffId (inferred)."""
    rows = body if isinstance(body, list) else [body]
    rows = [r for r in rows if isinstance(r, dict) and r.get("startDate")]
    return next((r for r in rows if _staff_id(r) == staff_id), rows[0] if len(rows) == 1 else None)


SPEC = VendorSpec(
    name="timetap",
    label="TimeTap",
    settings_cls=TimeTapSettings,
    is_configured=lambda s: bool(s.api_key and s.private_key),
    build=lambda s, policy: TimeTap(s, policy),
    settings_hint="TIMETAP_API_KEY / TIMETAP_PRIVATE_KEY / TIMETAP_BASE_URL",
    required=("api_key", "private_key"),
    credentials_hint="TIMETAP_API_KEY and TIMETAP_PRIVATE_KEY",
    url_hint="TIMETAP_BASE_URL and TIMETAP_ENVIRONMENT",
)
