"""SwipeClock TimeWorksPlus: self-signed HS256 JWTs traded for access tokens, punches over REST.

Contract: docs/vendors/swipeclock.md (a bare §N in this module is a section of it). What shapes
this module:

- Every call carries an *issued* access token. We get one by signing a short-lived
  "originating" JWT with the API secret and posting it to the authentication service (§4).
  Tokens are cached per (product, employee) and reused until shortly before their ``exp``; a
  401 means "re-authenticate once and retry once" (§4.5). Many worker threads share one
  connector, so a renewal happens once per token, not once per thread.
- The API is keyed on employee codes (§5), so ``vendor_user_id`` is the ``EmployeeCode``
  and people are matched by ``Email``; nobody types anything to link.
- Punches go to ``POST timecards/punch`` (§7 route A, unconfirmed) and are read back from
  ``GET timecards``; times are the site's local wall clock, hence ``SWIPECLOCK_TIMEZONE``.
- Time off is read from ``GET timeoffrequests``. Creating requests uses an endpoint no source
  documents, so it ships behind ``SWIPECLOCK_LEAVE_REQUESTS`` (§8).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import jwt
from jwt import api_jws
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain import (
    Absence,
    Action,
    Balance,
    ClockSession,
    LeaveRequest,
    LeaveType,
    LinkField,
    Portion,
    RunningSession,
    VendorPerson,
    VendorUser,
)
from bot.errors import VendorAuthError, VendorError, VendorRejected
from bot.vendors.auth import Token, TokenCache, with_token
from bot.vendors.base import VendorSpec
from bot.vendors.http import HttpPolicy, VendorHttp, unreadable_answer
from bot.vendors.settings import BaseUrl, TimeZoneName

log = logging.getLogger(__name__)

DEFAULT_AUTH_URL = "https://clock.payrollservers.us/AuthenticationService/oauth2/userToken"
DEFAULT_API_URL = "https://twpapi.payrollservers.us/api"

PRODUCT_EMPLOYEE = "twpemp"
PRODUCT_CLIENT = "twpclient"
PRODUCT_PARTNER = "twppartner"

MAX_ORIGINATING_LIFETIME = 300  # "no more than 5 minutes into the future" (documented, §4.5)
FALLBACK_TOKEN_LIFETIME = 180.0  # no readable exp: renew as a production client does (§4.5)
IDS_PER_CALL = 25  # employee codes per ``ids=`` query, to keep URLs short (inferred)
LEAVE_MARGIN = timedelta(days=31)  # leave longer than a month past the range is still cut

_DROPPED_STATUSES = {"denied", "rejected", "declined", "cancelled", "canceled", "withdrawn", "deleted", "void"}

TokenKey = tuple[str, str | None]  # (product, employee code or None for site-wide tokens)


class SwipeClockSettings(BaseSettings):
    """``SWIPECLOCK_*``: one site, signed with either its client secret or the partner's."""

    model_config = SettingsConfigDict(env_prefix="SWIPECLOCK_", env_file=".env", extra="ignore", env_ignore_empty=True)

    auth_url: BaseUrl = Field(DEFAULT_AUTH_URL, description="The token exchange endpoint itself, not just the host")
    api_url: BaseUrl = Field(DEFAULT_API_URL, description="The API root; `/{siteId}/…` is appended")
    site_id: int | None = Field(None, description="The site id; with the secret it turns SwipeClock on")
    api_secret: SecretStr | None = Field(
        None, description="The site's ApiSecret (or, with `SWIPECLOCK_PARTNER_ID`, the partner's)"
    )
    partner_id: int | None = Field(
        None, description="Set when the secret is the accountant's (partner) secret, not the site's"
    )
    timezone: TimeZoneName = Field("UTC", description="The site's zone: punches are local wall-clock times")
    act_as_employee: bool = Field(
        True, description="Per-person calls use a token for that employee; `false` signs them with the site's token"
    )
    leave_requests: bool = Field(
        False,
        description="`true` to file leave requests in SwipeClock too (its time-off "
        "request call is inferred, not documented: opt in)",
    )
    hours_per_day: float = Field(8.0, description="Hours asked for each day of a leave request")
    token_lifetime: int = Field(240, description="Seconds until the token Timebot signs expires")
    refresh_margin: float = Field(60.0, description="Seconds before its expiry an issued token is renewed")
    page_size: int = Field(50, description="Rows asked for per page of a list")


def originating_claims(
    *,
    issuer: int,
    subject: Literal["client", "partner"],
    product: str,
    site_id: int,
    now: float,
    lifetime: int,
    employee_code: str | None = None,
) -> dict[str, Any]:
    """The originating token's claims, in the order of §4.2 and §4.6's worked example."""
    issued = int(now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "exp": issued + max(1, min(lifetime, MAX_ORIGINATING_LIFETIME)),
        "iat": issued,
        "product": product,
        "siteInfo": {"type": "id", "id": str(site_id)},
    }
    if employee_code is not None:
        claims["user"] = {"type": "empcode", "id": employee_code}
    return claims


def sign_claims(claims: Mapping[str, Any], secret: str) -> str:
    """HS256 over compact JSON. PyJWT's ``jwt.encode`` refuses the integer ``iss`` SwipeClock
    requires, so the payload is serialised here and signed with PyJWT's JWS layer."""
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return api_jws.encode(payload, secret, algorithm="HS256")


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The issued token's claims without checking its signature: we don't hold SwipeClock's key
    and only want ``exp``; trust comes from having received it over TLS from the auth service."""
    try:
        payload = api_jws.decode_complete(token, options={"verify_signature": False})["payload"]
        claims = json.loads(payload)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    return claims if isinstance(claims, dict) else None


def _bearer(token: str) -> Callable[[], dict[str, str]]:
    return lambda: {"Authorization": f"Bearer {token}"}


def _message(response: httpx.Response) -> str:
    """ASP.NET's ``{"Message": …}`` error body (inferred, §9), or nothing."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("Message") or body.get("message") or "")
    return ""


def _number(value: Any) -> float | None:
    """Hours and balances arrive as numbers, numeric strings or "" (§6.3)."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _status(value: Any) -> str | None:
    """``Status`` strings are unknown (§6.5): approved, dropped, or else treated as pending."""
    text = str(value or "").strip().lower()
    if text in _DROPPED_STATUSES:
        return None
    return "approved" if text.startswith("approv") else "pending"


def _adjacent(previous: date, following: date) -> bool:
    """Next day, or separated only by a weekend: a Friday-and-Monday request is one absence."""
    gap = (following - previous).days
    return gap == 1 or (1 < gap <= 3 and all((previous + timedelta(days=i)).weekday() >= 5 for i in range(1, gap)))


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class SwipeClock:
    """The TimeWorksPlus connector for one site."""

    name: ClassVar[str] = "swipeclock"
    label: ClassVar[str] = "SwipeClock"
    capabilities: ClassVar[frozenset[Action]] = frozenset(
        {Action.CLOCK, Action.HOURS, Action.WHOS_IN, Action.WHOS_OFF, Action.IDENTITY, Action.BALANCES}
    )
    company_wide: ClassVar[bool] = True  # a site token reads every employee's timecard at once
    clock_notes: ClassVar[bool] = False  # punches carry no note (none documented, §7)
    clock_in_at: ClassVar[bool] = False  # a punch is recorded when it arrives
    link_fields: ClassVar[tuple[LinkField, ...]] = ()

    def __init__(
        self, settings: SwipeClockSettings, policy: HttpPolicy | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        if settings.site_id is None:
            raise ValueError("SWIPECLOCK_SITE_ID is required")
        if settings.api_secret is None or not settings.api_secret.get_secret_value():
            raise ValueError("SWIPECLOCK_API_SECRET is required")
        try:
            self.tz = ZoneInfo(settings.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"SWIPECLOCK_TIMEZONE={settings.timezone!r} is not a known time zone") from exc
        self.settings = settings
        self.site_id: int = settings.site_id
        self._none_open_before: set[tuple[str, date]] = set()  # (employee, period start): nothing left open
        self._secret = settings.api_secret
        self._clock = clock
        self._api_url = settings.api_url.rstrip("/")
        self.auth_http = VendorHttp(self.label, settings.auth_url, policy, headers={"Accept": "application/json"})
        self.http = VendorHttp(
            self.label,
            self._api_url,
            policy,
            headers={"Accept": "application/json", "Content-Type": "application/json"},
        )
        # Which secret signs decides ``sub``, ``iss`` and the site-wide product (§4.3).
        self.subject: Literal["client", "partner"] = "client" if settings.partner_id is None else "partner"
        self._issuer: int = settings.site_id if settings.partner_id is None else settings.partner_id
        self._site_key: TokenKey = (PRODUCT_CLIENT if self.subject == "client" else PRODUCT_PARTNER, None)
        self._tokens: TokenCache[TokenKey] = TokenCache(self._exchange, clock)

    @classmethod
    def for_settings(
        cls, settings: SwipeClockSettings, policy: HttpPolicy | None = None, clock: Callable[[], float] = time.time
    ) -> SwipeClock:
        """The connector the settings ask for: with leave requests only when opted in."""
        chosen = SwipeClockWithLeave if settings.leave_requests else cls
        return chosen(settings, policy, clock)

    def close(self) -> None:
        self.auth_http.close()
        self.http.close()

    # --- authentication ---------------------------------------------------------------------

    def _settings_hint(self) -> str:
        if self.subject == "partner":
            return "SWIPECLOCK_API_SECRET, SWIPECLOCK_PARTNER_ID and SWIPECLOCK_SITE_ID"
        return "SWIPECLOCK_API_SECRET and SWIPECLOCK_SITE_ID"

    def _exchange(self, key: TokenKey, _previous: Token | None) -> Token:
        """Sign an originating JWT and trade it for an issued one (§4.1). The exchange changes
        nothing at SwipeClock, so it is safe to retry; each attempt is signed afresh."""
        product, code = key
        settings = self.settings

        def originating() -> dict[str, str]:
            claims = originating_claims(
                issuer=self._issuer,
                subject=self.subject,
                product=product,
                site_id=self.site_id,
                now=self._clock(),
                lifetime=settings.token_lifetime,
                employee_code=code,
            )
            return {"Authorization": f"Bearer {sign_claims(claims, self._secret.get_secret_value())}"}

        response = self.auth_http.request(
            "POST",
            settings.auth_url,
            idempotent=True,
            changes=False,
            sign=originating,
            headers={"Content-Type": "application/json"},
            content=b"",
        )
        status = response.status_code
        if 200 <= status < 300:
            try:
                value = response.json().get("token")
            except (ValueError, AttributeError):
                value = None
            if not isinstance(value, str) or not value:
                raise VendorError(self.label, "SwipeClock's sign-in answered without a token.", detail=f"HTTP {status}")
            log.info("SwipeClock issued a %s token", product)
            return Token(value, self._renew_at(value))
        if status in (400, 401, 403) and code is not None:
            self._tokens.get(self._site_key)  # raises VendorAuthError when the credentials are the problem
            raise VendorRejected(
                self.label,
                f"SwipeClock doesn't recognise employee {code}. Ask an admin to check your link.",
                detail=f"HTTP {status}: {_message(response)}",
            )
        if status in (400, 401, 403):
            raise VendorAuthError(
                self.label,
                f"SwipeClock refused Timebot's credentials. An admin should check {self._settings_hint()}.",
                detail=f"HTTP {status}: {_message(response)}",
            )
        raise VendorAuthError(
            self.label,
            "SwipeClock's sign-in service didn't answer as expected. An admin should check SWIPECLOCK_AUTH_URL.",
            detail=f"HTTP {status}",
        )

    def _renew_at(self, token: str) -> float:
        """Renew ``refresh_margin`` before exp, or halfway for short-lived tokens."""
        now = self._clock()
        exp = _number((unverified_claims(token) or {}).get("exp"))
        if exp is None:
            return now + FALLBACK_TOKEN_LIFETIME
        lifetime = exp - now
        return max(now + 1.0, exp - min(self.settings.refresh_margin, lifetime / 2))

    def _call(
        self, key: TokenKey, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One API call with an issued token; a 401 renews the token once and retries once.
        Repeating after a 401 is safe even for writes: the request was refused, not processed."""

        def send(token: str) -> httpx.Response:
            return self.http.request(method, url, idempotent=idempotent, sign=_bearer(token), **kwargs)

        def refused(response: httpx.Response) -> bool:
            if response.status_code == 401:
                log.info("SwipeClock answered 401 to %s; renewing the token once", method)
            return response.status_code == 401

        response, _ = with_token(self._tokens, key, send, refused)
        if response.status_code == 401:
            raise VendorAuthError(
                self.label,
                f"SwipeClock refused Timebot's access. An admin should check {self._settings_hint()}.",
                detail=f"HTTP 401: {_message(response)}",
            )
        if response.status_code == 403:
            raise VendorAuthError(
                self.label,
                f"SwipeClock didn't allow that for site {self.site_id}. An admin should check "
                "SWIPECLOCK_SITE_ID and the secret's access.",
                detail=f"HTTP 403: {_message(response)}",
            )
        return response

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code in (200, 201):
            try:
                return response.json() if response.content else None
            except ValueError as exc:
                raise unreadable_answer(self.label, response, "SWIPECLOCK_API_URL") from exc
        self._raise(response)
        return None

    def _raise(self, response: httpx.Response) -> None:
        status = response.status_code
        message = _message(response)
        if status == 404:
            raise VendorRejected(self.label, "SwipeClock couldn't find that.", detail=message)
        if 400 <= status < 500:
            raise VendorRejected(self.label, message or "SwipeClock refused the request.", detail=f"HTTP {status}")
        raise VendorError(self.label, f"SwipeClock answered with an error (HTTP {status}).", detail=message)

    def _person_key(self, user: VendorUser) -> TokenKey:
        if not user.vendor_user_id:
            raise VendorRejected(self.label, "Your SwipeClock employee code is missing. Ask an admin to link you.")
        return (PRODUCT_EMPLOYEE, user.vendor_user_id) if self.settings.act_as_employee else self._site_key

    def _path(self, endpoint: str) -> str:
        return f"/{self.site_id}/{endpoint}"

    # --- identity ---------------------------------------------------------------------------

    def link(self, fields: Mapping[str, str]) -> tuple[VendorUser, VendorPerson]:
        raise VendorRejected(
            self.label,
            "SwipeClock accounts are matched by your email automatically. If yours isn't found, "
            "ask an admin to link you to your employee code.",
        )

    def _employees(self) -> list[dict[str, Any]]:
        """Every active employee, following ``NextPageLink`` like the official SDK (§6.1)."""
        return self._listed(self._site_key, "employees", {"onlyActive": "true"})

    def _listed(
        self, key: TokenKey, endpoint: str, extra: dict[str, Any], stop: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """A list endpoint's ``Results``, page after page (``stop``: a row that ends the search)."""
        rows: list[dict[str, Any]] = []
        url: str = self._path(endpoint)
        first: dict[str, Any] = {"pageSize": self.settings.page_size, **extra}
        params: dict[str, Any] | None = first
        for page in range(2, 10_000):
            data = self._json(self._call(key, "GET", url, params=params)) or {}
            batch = [r for r in data.get("Results") or [] if isinstance(r, dict)]
            rows.extend(batch)
            link = data.get("NextPageLink")
            if not link or (stop is not None and any(stop(r) for r in batch)):
                break
            if isinstance(link, str) and link.startswith(self._api_url + "/"):
                url, params = link, None
            else:
                # Never send our token to a host we weren't configured with; page by number instead.
                url, params = self._path(endpoint), {**first, "page": page}
        return rows

    def balances(self, user: VendorUser) -> list[Balance]:
        """``GET /accruals`` (§6.3): each category's ``value`` exactly as SwipeClock states it
        (hours, inferred from TWP's time-based accruals); hidden categories are left out."""
        code = user.vendor_user_id.lower()
        rows = self._listed(
            self._person_key(user), "accruals", {}, stop=lambda r: str(r.get("EmployeeCode") or "").lower() == code
        )
        mine = next((r for r in rows if str(r.get("EmployeeCode") or "").lower() == code), None)
        found = []
        for item in (mine or {}).get("Balances") or []:
            if not isinstance(item, dict) or item.get("isHidden") or item.get("value") in (None, ""):
                continue
            category = str(item.get("category") or "Accrual")
            found.append(Balance(category, str(item["value"]), "hours", frozenset({category.lower()})))
        return found

    @staticmethod
    def _person(row: Mapping[str, Any]) -> VendorPerson:
        name = " ".join(str(row.get(k) or "").strip() for k in ("FirstName", "LastName")).strip()
        return VendorPerson(
            str(row.get("EmployeeCode")), str(row.get("Email") or "").strip() or None, name or row.get("Name2") or None
        )

    def people(self) -> list[VendorPerson]:
        return [self._person(row) for row in self._employees() if row.get("EmployeeCode")]

    def check(self) -> str:
        data = self._json(self._call(self._site_key, "GET", self._path("employees"), params={"pageSize": 1})) or {}
        count = data.get("TotalCount")
        if count is None:
            count = len(data.get("Results") or [])
        return f"{count} employees at site {self.site_id}"

    # --- clock ------------------------------------------------------------------------------

    def _now_local(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), self.tz)

    def _utc(self, local: datetime, fold: int = 0) -> datetime:
        """A site wall-clock time as UTC; ``fold`` picks the second of a repeated hour (DST end)."""
        return local.replace(tzinfo=self.tz, fold=fold).astimezone(UTC)

    def _local_stamp(self, value: Any) -> datetime | None:
        if not isinstance(value, str) or not value:
            return None
        try:
            return datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            return None

    def _timecard(self, key: TokenKey, code: str, day: date) -> dict[str, Any]:
        params = {"periodDate": day.isoformat(), "ids": code}
        return self._json(self._call(key, "GET", self._path("timecards"), params=params)) or {}

    def _punch_lines(
        self, card: Mapping[str, Any], code: str | None = None
    ) -> Iterable[tuple[str, str | None, ClockSession]]:
        """(employee code, name, session) for each line with a punch in, of ``code`` or everyone.
        The ``In``/``Out`` line fields are the simulator's (inferred, §6.4): no source shows
        punch times inside a line, so lines without them (time off, edits) are not sessions."""
        for timecard in card.get("TimeCards") or []:
            employee = timecard.get("Employee") or {}
            who = str(employee.get("EmployeeCode", ""))
            if code is not None and who.lower() != code.lower():
                continue
            name = " ".join(str(employee.get(k) or "").strip() for k in ("FirstName", "LastName")).strip() or None
            for entry in timecard.get("Dates") or []:
                for line in entry.get("Lines") or []:
                    started = self._local_stamp(line.get("In"))
                    if started is None:
                        continue
                    ended = self._local_stamp(line.get("Out"))
                    job = (line.get("Variables") or {}).get("Job")
                    yield (
                        who,
                        name,
                        ClockSession(
                            started.isoformat(),
                            self._utc(started),
                            self._utc(ended) if ended else None,
                            project=str(job) if job else None,
                        ),
                    )

    def _open_line(self, card: Mapping[str, Any], code: str) -> ClockSession | None:
        """The latest line with a punch in and no punch out."""
        running = [s for _, _, s in self._punch_lines(card, code) if s.running]
        return max(running, key=lambda s: s.started_at, default=None)

    def sessions(self, user: VendorUser, start: datetime, end: datetime) -> list[ClockSession]:
        """The person's timecards for every pay period the range touches (a shift may begin the
        evening before ``start``): one call per period."""
        key, code = self._person_key(user), user.vendor_user_id
        day, last = (start - timedelta(days=1)).astimezone(self.tz).date(), end.astimezone(self.tz).date()
        found: dict[str, ClockSession] = {}
        while day <= last:
            card = self._timecard(key, code, day)
            for _, _, session in self._punch_lines(card, code):
                found[session.session_id] = session
            period_end = _day(card.get("PayPeriodEndDate"))
            day = period_end + timedelta(days=1) if period_end and period_end >= day else last + timedelta(days=1)
        return sorted(
            (s for s in found.values() if s.started_at < end and (s.ended_at is None or s.ended_at > start)),
            key=lambda s: s.started_at,
        )

    def clocked_in(self, users: Sequence[VendorUser]) -> list[RunningSession]:
        """Company-wide: the site's timecards for this pay period in one read (no ``ids``: every
        employee), and the previous period's too on its first two days, where last night's open
        shift sits. ``users`` is not needed; people are named by their timecards."""
        today = self._now_local().date()
        card = self._site_timecards(today)
        begin = _day(card.get("PayPeriodBeginDate"))
        cards = [card]
        if begin is not None and (today - begin).days < 2:
            cards.append(self._site_timecards(begin - timedelta(days=1)))
        latest: dict[str, RunningSession] = {}
        for one in cards:
            for code, name, session in self._punch_lines(one):
                seen = latest.get(code.lower())
                if session.running and (seen is None or session.started_at > seen.session.started_at):
                    latest[code.lower()] = RunningSession(code, session, name)
        return sorted(latest.values(), key=lambda r: r.session.started_at)

    def everyones_sessions(self, start: datetime, end: datetime) -> list[tuple[str, str | None, ClockSession]]:
        """Company-wide: every employee's sessions over [start, end], one site timecard read per
        pay period the range touches (no ``ids``: everyone), for team reports."""
        day, last = (start - timedelta(days=1)).astimezone(self.tz).date(), end.astimezone(self.tz).date()
        found: dict[tuple[str, str], tuple[str, str | None, ClockSession]] = {}
        while day <= last:
            card = self._site_timecards(day)
            for code, name, session in self._punch_lines(card):
                if session.started_at < end and (session.ended_at is None or session.ended_at > start):
                    found[(code.lower(), session.session_id)] = (code, name, session)
            period_end = _day(card.get("PayPeriodEndDate"))
            day = period_end + timedelta(days=1) if period_end and period_end >= day else last + timedelta(days=1)
        return sorted(found.values(), key=lambda r: (r[0].lower(), r[2].started_at))

    def _site_timecards(self, day: date) -> dict[str, Any]:
        return (
            self._json(
                self._call(self._site_key, "GET", self._path("timecards"), params={"periodDate": day.isoformat()})
            )
            or {}
        )

    def current_session(self, user: VendorUser) -> ClockSession | None:
        key, code = self._person_key(user), user.vendor_user_id
        today = self._now_local().date()
        card = self._timecard(key, code, today)
        session = self._open_line(card, code)
        begin = _day(card.get("PayPeriodBeginDate"))
        if session is None and begin is not None and (code.lower(), begin) not in self._none_open_before:
            # A shift begun before this pay period (last night, or left open) sits in the previous one.
            session = self._open_line(self._timecard(key, code, begin - timedelta(days=1)), code)
            if session is None:  # a closed pay period gains no open shift: don't ask again this period
                self._none_open_before.add((code.lower(), begin))
        return session

    def _punch(
        self, user: VendorUser, kind: Literal["In", "Out"], at: datetime, project: str | None = None
    ) -> datetime:
        """Send one punch (§7, route A) and return its local time as SwipeClock recorded it."""
        code = user.vendor_user_id
        body: dict[str, Any] = {
            "EmployeeCode": code,
            "Date": at.date().isoformat(),
            "Time": at.strftime("%H:%M"),
            "Type": kind,
        }
        if project:
            body["Prompts"] = {"Job": project}  # ``Job`` is a timecard variable (§7)
        response = self._call(self._person_key(user), "POST", self._path("timecards/punch"), json=body)
        if response.status_code == 409:
            message = (
                "You're already clocked in on SwipeClock." if kind == "In" else "You aren't clocked in on SwipeClock."
            )
            raise VendorRejected(self.label, message, detail=_message(response))
        if response.status_code in (404, 405):
            raise VendorRejected(
                self.label,
                "SwipeClock doesn't take clock-ins from Timebot for this site. Use the SwipeClock WebClock instead.",
                detail=f"HTTP {response.status_code}",
            )
        data = self._json(response) or {}
        recorded = self._local_stamp(f"{data.get('Date', body['Date'])}T{data.get('Time', body['Time'])}")
        return recorded or at.replace(second=0, microsecond=0, tzinfo=None)

    def clock_in(
        self, user: VendorUser, *, project: str | None = None, note: str | None = None, at: datetime | None = None
    ) -> ClockSession:
        now = self._now_local()  # knows which of a repeated hour it is; the punch's wall time doesn't
        started = self._punch(user, "In", now, project)
        return ClockSession(started.isoformat(), self._utc(started, fold=now.fold), project=project)

    def clock_out(
        self, user: VendorUser, session: ClockSession, *, at: datetime | None = None, note: str | None = None
    ) -> ClockSession:
        end = (at or datetime.fromtimestamp(self._clock(), UTC)).astimezone(self.tz)
        if end < session.started_at.replace(second=0, microsecond=0):
            raise VendorRejected(self.label, "The end time must be after you clocked in.")
        ended = self._punch(user, "Out", end)
        return ClockSession(session.session_id, session.started_at, self._utc(ended), project=session.project)

    # --- time off ---------------------------------------------------------------------------

    def session_day_end(self, session: ClockSession) -> datetime | None:
        """A shift may run past midnight: no limit."""
        return None

    def _time_off(self, key: TokenKey, codes: Sequence[str], start: date, end: date) -> list[dict[str, Any]]:
        """``timeoffrequests`` for the codes. ``startDate``/``endDate`` are a hint the API may ignore
        (inferred); results are filtered here either way. The window is widened by
        ``LEAVE_MARGIN`` so that leave overlapping the range comes back whole (its real first and
        last day: "back on …" depends on it), not cut to the days asked about."""
        results: list[dict[str, Any]] = []
        since, until = start - LEAVE_MARGIN, end + LEAVE_MARGIN
        for batch in _chunks(codes, IDS_PER_CALL):
            params = {"ids": ",".join(batch), "startDate": since.isoformat(), "endDate": until.isoformat()}
            data = self._json(self._call(key, "GET", self._path("timeoffrequests"), params=params)) or {}
            results.extend(r for r in data.get("Results") or [] if isinstance(r, dict))
        return results

    def _absences(
        self, result: Mapping[str, Any], start: date, end: date, person: VendorPerson | None = None
    ) -> list[Absence]:
        """Collapse a request's days (§6.5) into ranges of one category, status and comment."""
        code = str(result.get("EmployeeCode") or "")
        days: list[tuple[date, str | None, str, str | None]] = []
        for row in result.get("Days") or []:
            day = _day(row.get("Date"))
            hours = _number(row.get("Hours"))
            if hours is None:
                hours = _number(row.get("ProposedHours"))
            status = _status(row.get("Status"))
            if day is None or hours is None or hours <= 0 or status is None:
                continue
            days.append((day, row.get("Category") or None, status, row.get("Comments") or None))
        days.sort(key=lambda d: d[0])
        groups: list[list[tuple[date, str | None, str, str | None]]] = []
        for item in days:
            last = groups[-1][-1] if groups else None
            if last is not None and _adjacent(last[0], item[0]) and last[1:] == item[1:]:
                groups[-1].append(item)
            else:
                groups.append([item])
        name = person.name if person else None
        if name is None:
            name = " ".join(str(result.get(k) or "") for k in ("FirstName", "LastName")).strip() or None
        found = []
        for group in groups:
            first, last_day = group[0][0], group[-1][0]
            if last_day < start or first > end:
                continue
            _, kind, status, comments = group[0]
            found.append(
                Absence(
                    code,
                    first,
                    last_day,
                    kind=kind,
                    reason=comments,
                    status=status,
                    absence_id=f"{code}:{first.isoformat()}",
                    person_name=name,
                    person_email=person.email if person else None,
                )
            )
        return found

    def my_absences(self, user: VendorUser, start: date, end: date) -> list[Absence]:
        code = user.vendor_user_id
        results = self._time_off(self._person_key(user), [code], start, end)
        return [
            a
            for r in results
            if str(r.get("EmployeeCode", "")).lower() == code.lower()
            for a in self._absences(r, start, end)
        ]

    def absences(self, start: date, end: date, users: Sequence[VendorUser]) -> list[Absence]:
        """Company-wide: every employee's requests, so ``users`` is not needed."""
        people = {p.vendor_user_id: p for p in self.people()}
        results = self._time_off(self._site_key, sorted(people), start, end)
        return [a for r in results for a in self._absences(r, start, end, people.get(str(r.get("EmployeeCode"))))]


class SwipeClockWithLeave(SwipeClock):
    """SwipeClock with leave requests, for sites where ``POST timeoffrequests`` has been confirmed
    (``SWIPECLOCK_LEAVE_REQUESTS=true``); a separate class keeps ``capabilities`` a class fact."""

    capabilities: ClassVar[frozenset[Action]] = SwipeClock.capabilities | {Action.LEAVE}
    half_days: ClassVar[bool] = False  # request days carry hours, not a morning/afternoon

    def leave_types(self) -> list[LeaveType]:
        data = self._json(self._call(self._site_key, "GET", self._path("timeoffrequests/categories"))) or []
        found: list[LeaveType] = []
        for row in data if isinstance(data, list) else []:
            if isinstance(row, str):
                found.append(LeaveType(row, row))
                continue
            if not isinstance(row, dict):
                continue
            category = row.get("Category") or row.get("category") or row.get("Name") or row.get("name")
            if category:
                found.append(LeaveType(str(category), str(row.get("Description") or category)))
        return found

    def request_leave(self, user: VendorUser, request: LeaveRequest) -> Absence:
        """One day entry per weekday (weekends are not charged; inferred). Half days arrive as whole
        days: ``half_days`` is False, so the use case already wrote the half into the note."""
        days = [request.start + timedelta(days=i) for i in range((request.end - request.start).days + 1)]
        days = [d for d in days if d.weekday() < 5]
        if not days:
            raise VendorRejected(self.label, "Those dates are all on a weekend.", field="start")
        if request.leave_type not in {t.id for t in self.leave_types()}:
            raise VendorRejected(
                self.label,
                "That leave type isn't one SwipeClock offers: the form may be out of date. Open `/timeoff` again.",
                field="leave_type",
            )
        entries = []
        for day in days:
            half = (day == request.start and request.start_portion is not Portion.FULL) or (
                day == request.end and request.end_portion is not Portion.FULL
            )
            hours = self.settings.hours_per_day / 2 if half else self.settings.hours_per_day
            entry: dict[str, Any] = {"Date": day.isoformat(), "Hours": hours, "Category": request.leave_type}
            if request.note:
                entry["Comments"] = request.note
            entries.append(entry)
        body = {"EmployeeCode": user.vendor_user_id, "Days": entries}
        response = self._call(self._person_key(user), "POST", self._path("timeoffrequests"), json=body)
        if response.status_code in (404, 405):
            raise VendorRejected(
                self.label,
                "SwipeClock doesn't take leave requests from Timebot for this site. Request it in SwipeClock instead.",
                detail=f"HTTP {response.status_code}",
            )
        data = self._json(response) or {}
        result = data if "Days" in data else next(iter(data.get("Results") or []), {})
        made = self._absences(result, request.start, request.end) if result else []
        if made:
            return Absence(
                user.vendor_user_id,
                made[0].start,
                made[-1].end,
                kind=made[0].kind,
                reason=request.note,
                status=made[0].status,
                absence_id=made[0].absence_id,
            )
        return Absence(
            user.vendor_user_id,
            days[0],
            days[-1],
            kind=request.leave_type,
            reason=request.note,
            status="pending",
            absence_id=f"{user.vendor_user_id}:{days[0].isoformat()}",
        )


def _configured(s: BaseSettings) -> bool:
    if not isinstance(s, SwipeClockSettings):
        return False
    secret = s.api_secret.get_secret_value() if s.api_secret else ""
    return bool(s.site_id and secret)


SPEC = VendorSpec(
    name="swipeclock",
    label="SwipeClock",
    settings_cls=SwipeClockSettings,
    is_configured=_configured,
    build=lambda s, policy: SwipeClock.for_settings(s, policy),
    settings_hint="SWIPECLOCK_SITE_ID, SWIPECLOCK_API_SECRET (plus SWIPECLOCK_PARTNER_ID for a partner secret)",
    required=("site_id", "api_secret"),
    credentials_hint="SWIPECLOCK_SITE_ID and SWIPECLOCK_API_SECRET (plus SWIPECLOCK_PARTNER_ID for a partner secret)",
    url_hint="SWIPECLOCK_API_URL and SWIPECLOCK_AUTH_URL",
)
