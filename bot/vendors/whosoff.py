"""WhosOff (v4 REST API): company leave, who's off, free days and the staff directory.

Contract: docs/vendors/whosoff.md (a bare §N in this module is a section of it). The facts that
shape this module: one service account (a Super User) authenticates with a single-use nonce and
``secret = sha512(nonce + client_secret)`` (§4); every later call carries ``Authorization: Bearer``
and ``app-id``; a bad or expired token is a 400 ``TOK004`` in the ``{"Data", "Errors"}`` envelope
(§9); ranges are capped at 365 days (§10); leave ends are exclusive datetimes with half days split
at 12:00 (§7). There is no punch API, so clocking is not offered, and people are matched by email
rather than linked (§2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain import (
    Absence,
    Action,
    Balance,
    Holiday,
    LeaveRequest,
    LeaveType,
    LinkField,
    Portion,
    VendorPerson,
    VendorUser,
)
from bot.errors import OutcomeUnknown, VendorAuthError, VendorError, VendorRejected, VendorUnavailable
from bot.vendors.auth import Token, TokenCache, with_token
from bot.vendors.base import VendorSpec
from bot.vendors.http import HttpPolicy, VendorHttp, unreadable_answer
from bot.vendors.settings import BaseUrl, TimeZoneName

log = logging.getLogger(__name__)

TOKEN_INVALID = "TOK004"  # noqa: S105 - an error code: doc "Invalid Token", also sent for expired tokens
_STATUS = {100: "approved", 1: "pending", 900: "cancelled", 930: "denied"}  # documented status ids, §8
_NOT_OFF = {"cancelled", "denied"}
_FREE_DAY = 0  # free_restricted_type_id of a company free day (inferred)
_MIDNIGHT = datetime.min.time()
_NOON = _MIDNIGHT.replace(hour=12)
# Which request field an error is about, for the codes we know (SIM codes are the simulator's).
_ERROR_FIELDS = {
    "004a": "end",
    "SIM-DATE": "start",
    "SIM-OVERLAP": "start",
    "SIM-RESTRICTED": "start",
    "SIM-NOTE": "note",
    "SIM-LEAVE-TYPE": "leave_type",
}
_CREDENTIALS = "WHOSOFF_USERNAME and WHOSOFF_PASSWORD"
_ALL_AUTH_SETTINGS = "WHOSOFF_APP_ID, WHOSOFF_CLIENT_SECRET, WHOSOFF_USERNAME, WHOSOFF_PASSWORD and WHOSOFF_IP_ADDRESS"
_IP_HINT = "WHOSOFF_IP_ADDRESS (the bot's public IPv4 address, allowed in WhosOff's API settings)"
_AUTH_HINTS = {
    "SIM-AUTH-SECRET": "WHOSOFF_CLIENT_SECRET",
    "SIM-AUTH-APP": "WHOSOFF_APP_ID",
    "SIM-AUTH-IP": _IP_HINT,
    "SIM-AUTH-LOGIN": _CREDENTIALS,
}
_AUTH_WORDS = (
    (re.compile(r"\bsecret\b", re.I), "WHOSOFF_CLIENT_SECRET"),
    (re.compile(r"\bapp[ _-]?id\b", re.I), "WHOSOFF_APP_ID"),
    (re.compile(r"\bip\b", re.I), _IP_HINT),
    (re.compile(r"\b(credentials?|password|username)\b", re.I), _CREDENTIALS),
)


class WhosOffSettings(BaseSettings):
    # validate_by_name lets code build these with field names (``base_url=``) without the field name
    # being read from the environment (an alias choice ``"base_url"`` made ``BASE_URL`` configure WhosOff).
    model_config = SettingsConfigDict(
        env_prefix="WHOSOFF_",
        env_file=".env",
        extra="ignore",
        env_ignore_empty=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    # The live and sandbox roots are per account (Company Settings) and unpublished, so there is no
    # default (§3); WhosOff calls them WHOSOFF_ROOT / WHOSOFF_SANDBOX_ROOT, accepted as aliases.
    base_url: BaseUrl = Field(
        "",
        validation_alias=AliasChoices("WHOSOFF_BASE_URL", "WHOSOFF_ROOT"),
        description="Your account's API root (WhosOff gives it to you); with the app id "
        "and credentials it turns WhosOff on",
    )
    sandbox_url: BaseUrl = Field(
        "",
        validation_alias=AliasChoices("WHOSOFF_SANDBOX_URL", "WHOSOFF_SANDBOX_ROOT"),
        description="Your account's sandbox API root",
    )
    use_sandbox: bool = Field(
        False, description="Send everything to the sandbox root (WhosOff urges testing there first)"
    )
    api_version: str = Field("v4", description="The API's path prefix; empty for the unversioned routes")
    app_id: str = Field("", description="The app id of your API access")
    client_secret: SecretStr = Field(SecretStr(""), description="The client secret of your API access")
    username: str = Field(
        "", description="A WhosOff Super User's login: leave types and booking for others need that level"
    )
    password: SecretStr = Field(SecretStr(""), description="That user's password")
    ip_address: str = Field("", description="The bot's public IPv4 address, checked against the account's allow-list")
    refresh_margin_seconds: float = Field(120.0, description="Seconds before its expiry the session token is renewed")
    timezone: TimeZoneName = Field(
        "Europe/London", description="The zone of WhosOff's token expiry times, which carry no offset"
    )
    max_range_days: int = Field(365, description="Longest date range one call asks for; longer ranges are split")
    leave_type_status_id: int = Field(1, description="Which leave types are read: `1` active, `0` disabled, `99` both")
    # Where approvers decide: WhosOff's own web app (no approve call is documented).
    approval_url: str = Field(
        "",
        json_schema_extra={"doc_default": "the API root's scheme and host"},
        description="The page approvers are sent to, in WhosOff's web app",
    )

    def root(self) -> str:
        return (self.sandbox_url if self.use_sandbox else self.base_url).rstrip("/")


def make_secret(nonce: str, client_secret: str) -> str:
    """The documented authentication secret: SHA512(nonce + client secret), lowercase hex."""
    return hashlib.sha512((nonce + client_secret).encode("utf-8")).hexdigest()


# Outbound webhooks (§11): leave.created / leave.updated / leave.deleted, signed with
# HMAC SHA-256 under a client secret. The page's excerpt does not name the header, so it is a
# setting of the bot (``WHOSOFF_WEBHOOK_HEADER``); the digest is over the raw body, hex or base64,
# optionally prefixed ``sha256=``.
WEBHOOK_HEADER = "X-WhosOff-Signature"
_WEBHOOK_STATUS = {
    "pending": "pending",
    "requested": "pending",
    "approved": "approved",
    "declined": "denied",
    "denied": "denied",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


def webhook_signature(secret: str, body: bytes) -> str:
    """The HMAC SHA-256 of the raw body under the webhook's client secret, lowercase hex."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_verified(secret: str, body: bytes, signature: str | None) -> bool:
    """True only for a signature made with ``secret`` over exactly ``body``."""
    if not secret or not signature:
        return False
    given = signature.strip()
    if not given.isascii():  # compare_digest raises on non-ASCII text; no digest of ours is
        return False
    given = given.split("=", 1)[1] if given.lower().startswith("sha256=") else given
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(given.lower().encode(), digest.hex().encode()) or hmac.compare_digest(
        given.encode(), base64.b64encode(digest)
    )


def webhook_delivery(payload: Mapping[str, Any]) -> tuple[str | None, datetime | None]:
    """The event's id and time as WhosOff sends them (``event_id``, ``created_At``), when present.
    The time carries no zone in the documented example: read as UTC."""
    event_id = payload.get("event_id")
    event_id = str(event_id)[:64] if isinstance(event_id, (str, int)) and str(event_id) else None
    raw = payload.get("created_At", payload.get("created_at"))
    at = None
    if isinstance(raw, str) and len(raw) <= 40:
        try:
            at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            at = None
        if at is not None:
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return event_id, at


def webhook_change(payload: Mapping[str, Any]) -> tuple[str, str, str | None] | None:
    """(leave id, status, approver) from a leave webhook, or None for anything else."""
    if not str(payload.get("event_type") or "").startswith("leave."):
        return None
    data = payload.get("data")
    if not isinstance(data, Mapping) or data.get("id") in (None, ""):
        return None
    word = str(data.get("status") or "").strip().lower()
    status = _WEBHOOK_STATUS.get(word)
    if status is None:
        return None
    return str(data["id"]), status, (str(data.get("approver") or "").strip() or None)


def encode_leave(request: LeaveRequest) -> tuple[str, str]:
    """A leave request as the §7 ``start_date``/``end_date`` pair: the end is exclusive (midnight
    after the last day), a morning ends at 12:00 and an afternoon starts at 12:00."""
    if request.end < request.start:
        raise VendorRejected("WhosOff", "The last day is before the first day.", field="end")
    if request.start == request.end:
        portions = {request.start_portion, request.end_portion} - {Portion.FULL}
        if len(portions) > 1:
            raise VendorRejected(
                "WhosOff", "A one-day request can be a morning or an afternoon, not both.", field="end_portion"
            )
        portion = portions.pop() if portions else Portion.FULL
        day = datetime.combine(request.start, _MIDNIGHT)
        start, end = {
            Portion.FULL: (day, day + timedelta(days=1)),
            Portion.AM: (day, day.replace(hour=12)),
            Portion.PM: (day.replace(hour=12), day + timedelta(days=1)),
        }[portion]
    else:
        if request.start_portion is Portion.AM:
            raise VendorRejected(
                "WhosOff",
                "A leave that goes on past its first day can only start in the afternoon.",
                field="start_portion",
            )
        if request.end_portion is Portion.PM:
            raise VendorRejected(
                "WhosOff", "A leave that began earlier can only end after the morning.", field="end_portion"
            )
        start = datetime.combine(request.start, _NOON if request.start_portion is Portion.PM else _MIDNIGHT)
        end = (
            datetime.combine(request.end, _NOON)
            if request.end_portion is Portion.AM
            else datetime.combine(request.end + timedelta(days=1), _MIDNIGHT)
        )
    return start.strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M")


def _parse_datetime(value: Any) -> datetime:
    text = str(value).strip().replace(" ", "T")
    return datetime.fromisoformat(text[:-1] if text.endswith("Z") else text).replace(tzinfo=None)


def decode_leave(start_value: Any, end_value: Any) -> tuple[date, Portion, date, Portion]:
    """The inverse of ``encode_leave``, tolerant of hour-based leave: a part day that ends by noon
    counts as a morning, one that starts at noon or later as an afternoon."""
    start, end = _parse_datetime(start_value), _parse_datetime(end_value)
    first = start.date()
    start_portion = Portion.PM if start.time() >= _NOON else Portion.FULL
    if end.time() == _MIDNIGHT:
        last, end_portion = end.date() - timedelta(days=1), Portion.FULL
    else:
        last, end_portion = end.date(), Portion.AM if end.time() <= _NOON else Portion.FULL
    if last <= first:
        last = first
        portion = Portion.PM if start_portion is Portion.PM else end_portion
        return first, portion, first, portion
    return first, start_portion, last, end_portion


def _windows(start: date, end: date, days: int) -> Iterator[tuple[date, date]]:
    """[start, end] as consecutive inclusive windows of at most ``days`` days."""
    step = timedelta(days=max(1, days) - 1)
    while start <= end:
        stop = min(end, start + step)
        yield start, stop
        start = stop + timedelta(days=1)


def _as_int(value: str, what: str, field: str | None = None) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise VendorRejected("WhosOff", f"That isn't a WhosOff {what}.", field=field) from None


def _status(value: Any) -> str:
    """A leave ``status_id`` (or, defensively, a status word) as Absence.status."""
    if value is None or value == "":
        return "approved"
    text = str(value).strip().lower()
    if text.isdigit():
        return _STATUS.get(int(text), "pending")
    return {"declined": "denied"}.get(text, text)


def _name(row: Mapping[str, Any]) -> str | None:
    name = " ".join(str(row.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    return name or None


def _email(row: Mapping[str, Any]) -> str | None:
    """``email_address`` at authenticate, ``email_contact`` at create; retrieve's key is unknown."""
    for key in ("email_address", "email_contact", "email"):
        if row.get(key):
            return str(row[key]).strip()
    return None


class WhosOff:
    name: ClassVar[str] = "whosoff"
    label: ClassVar[str] = "WhosOff"
    capabilities: ClassVar[frozenset[Action]] = frozenset(
        {
            Action.LEAVE,
            Action.WHOS_OFF,
            Action.HOLIDAYS,
            Action.IDENTITY,
            Action.DEPARTMENTS,
            Action.LEAVE_DECISION,
            Action.BALANCES,
        }
    )
    half_days: ClassVar[bool] = True
    company_wide_status: ClassVar[bool] = True
    link_fields: ClassVar[tuple[LinkField, ...]] = ()

    def __init__(
        self, settings: WhosOffSettings, policy: HttpPolicy | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        root = settings.root()
        if not root:
            raise ValueError(
                "WHOSOFF_SANDBOX_URL is required" if settings.use_sandbox else "WHOSOFF_BASE_URL is required"
            )
        self.settings = settings
        self.http = VendorHttp(
            self.label, root, policy, headers={"app-id": settings.app_id, "Accept": "*/*", "Accept-Encoding": "gzip"}
        )
        self._prefix = f"/{settings.api_version.strip('/')}" if settings.api_version.strip("/") else ""
        self._clock = clock
        self._tz = ZoneInfo(settings.timezone)
        self._tokens: TokenCache[None] = TokenCache(self._authenticate, clock)  # one for every worker thread
        self._type_names: dict[str, str] = {}

    def close(self) -> None:
        self.http.close()

    def _path(self, route: str) -> str:
        return f"{self._prefix}/{route}"

    # --- authentication ----------------------------------------------------------------------

    def _authenticate(self, _key: None, previous: Token | None) -> Token:
        """Refresh with the token we have, else sign in with credentials; the token cache calls
        it, one thread at a time."""
        if previous is not None:
            try:
                return self._auth_call("with-access-token", {"access_token": previous.value})
            except (VendorAuthError, VendorRejected) as exc:
                log.info("WhosOff token refresh refused (%s); signing in with credentials", exc.detail)
        return self._auth_call(
            "with-credentials",
            {"username": self.settings.username, "password": self.settings.password.get_secret_value()},
        )

    def _auth_call(self, kind: str, credentials: dict[str, Any]) -> Token:
        nonce = uuid.uuid4().hex  # 32 characters, never reused
        body = {
            **credentials,
            "ip_address": self.settings.ip_address,
            "nonce": nonce,
            "secret": make_secret(nonce, self.settings.client_secret.get_secret_value()),
            "app_id": self.settings.app_id,
        }
        try:
            # Not idempotent: a retried body would reuse its nonce; a lost answer costs one sign-in.
            response = self.http.request(
                "POST", self._path(f"authenticate/{kind}"), json=body, idempotent=False, changes=False
            )
        except OutcomeUnknown as exc:
            raise VendorUnavailable(
                self.label, "WhosOff didn't answer the sign-in in time. Try again shortly.", detail=kind
            ) from exc
        data, errors = self._envelope(response)
        token = (data[0].get("token") if data else None) or {}
        if response.status_code != 200 or not token.get("access_token"):
            raise self._auth_error(response.status_code, errors)
        now = self._clock()
        expires = self._expiry(token.get("token_expiry_date"), now)
        margin = min(self.settings.refresh_margin_seconds, max(0.0, (expires - now) / 2))
        log.info("WhosOff sign-in (%s) ok; token valid for %.0f s", kind, expires - now)
        return Token(str(token["access_token"]), expires - margin)

    def _expiry(self, value: Any, now: float) -> float:
        """``token_expiry_date`` as a timestamp; naive values are UK local time (inferred). If it is
        missing or unreadable, assume 15 minutes and let a TOK004 correct us."""
        if not value:
            return now + 900
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return now + 900
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._tz)
        return moment.timestamp()

    def _auth_error(self, status: int, errors: list[dict[str, Any]]) -> VendorAuthError:
        """Name the setting to check: by the simulator's codes, else by the words of the message."""
        code, message = self._first_error(errors)
        hint = _AUTH_HINTS.get(code)
        if hint is None:
            hint = next((h for pattern, h in _AUTH_WORDS if pattern.search(message)), None)
        if hint is None:
            hint = (
                _CREDENTIALS
                if status == 401
                else "WHOSOFF_BASE_URL and WHOSOFF_API_VERSION"
                if status == 404
                else _ALL_AUTH_SETTINGS
            )
        why = f" ({message})" if message else ""
        return VendorAuthError(
            self.label,
            f"WhosOff refused Timebot's sign-in{why}. An admin should check {hint}.",
            detail=f"HTTP {status} {code}".strip(),
        )

    # --- calls -------------------------------------------------------------------------------

    def _call(
        self, route: str, body: Mapping[str, Any] | None = None, *, method: str = "POST", idempotent: bool = True
    ) -> list[dict[str, Any]]:
        """One API call with the cached token; a refused token (TOK004) means one re-authentication
        and one retry. WhosOff refuses the token before doing anything, so retrying a write is safe."""
        response, _ = with_token(
            self._tokens, None, lambda token: self._send(method, route, body, token, idempotent), self._token_refused
        )
        if self._token_refused(response):
            raise VendorAuthError(
                self.label,
                f"WhosOff keeps refusing Timebot's access token. An admin should check {_ALL_AUTH_SETTINGS}.",
                detail=TOKEN_INVALID,
            )
        return self._unwrap(response, changes=not idempotent)

    def _send(
        self, method: str, route: str, body: Mapping[str, Any] | None, token: str, idempotent: bool
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {} if body is None else {"json": dict(body)}
        return self.http.request(
            method,
            self._path(route),
            idempotent=idempotent,
            changes=not idempotent,
            sign=lambda: {"Authorization": f"Bearer {token}", "app-id": self.settings.app_id},
            **kwargs,
        )

    def _token_refused(self, response: httpx.Response) -> bool:
        if response.status_code == 401:
            return True
        if response.status_code != 400:
            return False
        _, errors = self._envelope(response)
        return any(str(e.get("Code")) == TOKEN_INVALID for e in errors)

    def _envelope(
        self, response: httpx.Response, *, changes: bool = False
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``{"Data", "Errors"}`` with ``Data`` as a list whether the vendor sent a list or an object
        (``changes``: the request was a write; WhosOff reads are POSTs too)."""
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            if response.status_code < 400:
                raise unreadable_answer(self.label, response, "WHOSOFF_BASE_URL", changes=changes) from None
            payload = {}
        if not isinstance(payload, dict):
            payload = {"Data": payload}
        data = payload.get("Data")
        rows = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        errors = payload.get("Errors") or []
        return (
            [r for r in rows if isinstance(r, dict)],
            [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else [],
        )

    @staticmethod
    def _first_error(errors: list[dict[str, Any]]) -> tuple[str, str]:
        if not errors:
            return "", ""
        return str(errors[0].get("Code") or ""), str(errors[0].get("Message") or "").strip()

    def _unwrap(self, response: httpx.Response, *, changes: bool = False) -> list[dict[str, Any]]:
        status = response.status_code
        data, errors = self._envelope(response, changes=changes)
        if status == 200:
            if errors and not data:
                raise self._rejected(errors)
            if errors:
                log.warning("WhosOff answered with warnings: %s", ", ".join(str(e.get("Code")) for e in errors))
            return data
        code, message = self._first_error(errors)
        if status == 400 and code.startswith("SIM-AUTH"):
            raise self._auth_error(status, errors)
        if status == 400:
            raise self._rejected(errors)
        if status == 403:
            raise VendorAuthError(
                self.label,
                "WhosOff says Timebot's account isn't allowed to do that. An admin "
                "should make WHOSOFF_USERNAME a WhosOff Super User.",
                detail=f"HTTP 403 {code}",
            )
        if status == 404:
            raise VendorError(
                self.label,
                "WhosOff doesn't know that address. An admin should check WHOSOFF_BASE_URL and WHOSOFF_API_VERSION.",
                detail=f"HTTP 404 {response.url.path}",
            )
        raise VendorError(self.label, f"WhosOff answered with an error (HTTP {status}).", detail=f"{code} {message}")

    def _rejected(self, errors: list[dict[str, Any]]) -> VendorRejected:
        code, message = self._first_error(errors)
        text = message.rstrip(".") or "the request was refused"
        return VendorRejected(
            self.label, f"WhosOff didn't accept this: {text}.", field=_ERROR_FIELDS.get(code), detail=code
        )

    # --- identity ----------------------------------------------------------------------------

    def link(self, fields: Mapping[str, str]) -> tuple[VendorUser, VendorPerson]:
        raise VendorRejected(
            self.label,
            "There's nothing to link for WhosOff: people are matched by the email "
            "address on their WhosOff account. If yours differs from Slack's, ask an admin.",
        )

    def people(self) -> list[VendorPerson]:
        """Every active user, in one company-wide call (the API has no email filter)."""
        rows = self._call("user/retrieve", {"map_type_id": 0, "map_id": 0, "status_id": 1})
        return [VendorPerson(str(r["user_id"]), _email(r), _name(r)) for r in rows if r.get("user_id") is not None]

    def departments(self) -> dict[str, str]:
        """Each active user's department, from the same company-wide ``user/retrieve`` (§6)."""
        rows = self._call("user/retrieve", {"map_type_id": 0, "map_id": 0, "status_id": 1})
        return {str(r["user_id"]): str(r.get("department_name") or "") for r in rows if r.get("user_id") is not None}

    # --- leave -------------------------------------------------------------------------------

    def leave_types(self) -> list[LeaveType]:
        rows = self._call("leave-type/retrieve", {"status_id": self.settings.leave_type_status_id})
        types = [
            LeaveType(str(r["leave_type_id"]), str(r.get("name") or r.get("code") or r["leave_type_id"]))
            for r in rows
            if r.get("leave_type_id") is not None
        ]
        self._type_names = {t.id: t.name for t in types}
        return types

    def _type_name(self, type_id: str) -> str | None:
        if type_id not in self._type_names:
            try:
                self.leave_types()
            except VendorError:
                return None
        return self._type_names.get(type_id)

    def request_leave(self, user: VendorUser, request: LeaveRequest) -> Absence:
        """Validate, then submit on the person's behalf (``admin: true``), as §6 and §12 describe."""
        start, end = encode_leave(request)
        note = (request.note or "").strip()
        if len(note) > 500:
            raise VendorRejected(self.label, "WhosOff notes can be at most 500 characters.", field="note")
        body = {
            "user_id": _as_int(user.vendor_user_id, "user id"),
            "leave_type_id": _as_int(request.leave_type, "leave type", "leave_type"),
            "start_date": start,
            "end_date": end,
            "admin": True,
            "note": note,
        }
        self._call("leave/validate", body)
        rows = self._call("leave/submit", body, idempotent=False)
        row = rows[0] if rows else {}
        first, start_portion, last, end_portion = decode_leave(start, end)
        leave_id = row.get("leave_id")
        return Absence(
            vendor_user_id=user.vendor_user_id,
            start=first,
            end=last,
            start_portion=start_portion,
            end_portion=end_portion,
            kind=self._type_name(str(request.leave_type)),
            reason=note or None,
            status=_status(row.get("status_id")),
            absence_id=None if leave_id is None else str(leave_id),
        )

    def _absence(self, row: Mapping[str, Any], person: Mapping[str, Any]) -> Absence:
        first, start_portion, last, end_portion = decode_leave(row["start_date"], row["end_date"])
        type_id = row.get("leave_type_id")
        return Absence(
            vendor_user_id=str(row.get("user_id") or person.get("user_id")),
            start=first,
            end=last,
            start_portion=start_portion,
            end_portion=end_portion,
            kind=row.get("leave_type_name") or (self._type_names.get(str(type_id)) if type_id is not None else None),
            reason=row.get("note") or None,
            status=_status(row.get("status_id")),
            absence_id=None if row.get("leave_id") is None else str(row["leave_id"]),
            person_name=_name(row) or _name(person),
            person_email=_email(row) or _email(person),
            decided_by=str(row.get("approver") or "").strip() or None,
        )

    def _collect(
        self,
        rows: Sequence[Mapping[str, Any]],
        person: Mapping[str, Any],
        start: date,
        end: date,
        found: dict[str, Absence],
    ) -> None:
        for row in rows:
            if not row.get("start_date") or not row.get("end_date"):
                continue
            try:
                absence = self._absence(row, person)
            except (TypeError, ValueError):
                log.warning("WhosOff leave %s has unreadable dates; skipped", row.get("leave_id"))
                continue
            if absence.status in _NOT_OFF or absence.end < start or absence.start > end:
                continue
            key = absence.absence_id or f"{absence.vendor_user_id}:{absence.start}:{absence.end}:{absence.kind}"
            found[key] = absence  # a leave spanning two windows comes back twice

    def absences(self, start: date, end: date, users: Sequence[VendorUser]) -> list[Absence]:
        """Everyone off in [start, end] from ``whosoff/retrieve`` (company scope, only people who are
        off): one request per 365-day window however large the company. ``users`` is ignored.
        The API documents no paging, so each window is a single response."""
        found: dict[str, Absence] = {}
        for lo, hi in _windows(start, end, self.settings.max_range_days):
            rows = self._call(
                "whosoff/retrieve",
                {
                    "map_type_id": 0,
                    "map_id": 0,
                    "start_date": lo.isoformat(),
                    "end_date": hi.isoformat(),
                    "include_free_restricted": False,
                    "include_only_whosoff": True,
                },
            )
            for item in rows:
                if "leave_id" in item:  # a flat leave row, should the API ever answer that way
                    self._collect([item], item, start, end, found)
                else:
                    self._collect([r for r in item.get("leave") or [] if isinstance(r, dict)], item, start, end, found)
        return sorted(found.values(), key=lambda a: (a.start, a.vendor_user_id))

    def my_absences(self, user: VendorUser, start: date, end: date) -> list[Absence]:
        """One person's approved and pending leave via ``leave/get`` scoped to that staff member."""
        user_id = _as_int(user.vendor_user_id, "user id")
        found: dict[str, Absence] = {}
        for lo, hi in _windows(start, end, self.settings.max_range_days):
            rows = self._call(
                "leave/get",
                {
                    "map_type_id": 3,
                    "map_id": user_id,
                    "user_status_id": 99,
                    "leave_type_ids": [],
                    "date_option": 0,
                    "start_date": lo.isoformat(),
                    "end_date": hi.isoformat(),
                    "status_id": 0,
                },
            )
            self._collect(rows, {"user_id": user_id}, start, end, found)
        return sorted(found.values(), key=lambda a: a.start)

    # --- after the request ----------------------------------------------------------------------

    def leave_requests(self, start: date, end: date, users: Sequence[VendorUser]) -> list[Absence]:
        """Everyone's requests in every status from ``leave/get`` at company scope: the documented
        status filters need two calls (0: approved + pending, 1010: cancelled + declined) per
        365-day window, however many people there are. ``users`` is ignored."""
        found: dict[str, Absence] = {}
        for lo, hi in _windows(start, end, self.settings.max_range_days):
            for status_filter in (0, 1010):
                rows = self._call(
                    "leave/get",
                    {
                        "map_type_id": 0,
                        "map_id": 0,
                        "user_status_id": 99,
                        "leave_type_ids": [],
                        "date_option": 0,
                        "start_date": lo.isoformat(),
                        "end_date": hi.isoformat(),
                        "status_id": status_filter,
                    },
                )
                for row in rows:
                    try:
                        absence = self._absence(row, row)
                    except (KeyError, TypeError, ValueError):
                        continue
                    found[absence.absence_id or f"{absence.vendor_user_id}:{absence.start}"] = absence
        return sorted(found.values(), key=lambda a: (a.start, a.vendor_user_id))

    def approval_url(self, absence: Absence) -> str:
        if self.settings.approval_url:
            return self.settings.approval_url
        parsed = httpx.URL(self.settings.root())
        return f"{parsed.scheme}://{parsed.netloc.decode()}/"

    def _user(self, user_id: str) -> dict[str, Any] | None:
        rows = self._call(f"user/get-by-id/{_as_int(user_id, 'user id')}", None, method="GET")
        return rows[0] if rows else None

    def approvers(self, user: VendorUser) -> list[VendorPerson]:
        """The person's ``approver_id`` (§6), looked up for their email."""
        row = self._user(user.vendor_user_id) or {}
        approver = row.get("approver_id")
        if approver in (None, "", 0, "0"):
            return []
        found = self._user(str(approver))
        return [VendorPerson(str(approver), _email(found), _name(found))] if found else []

    def balances(self, user: VendorUser) -> list[Balance]:
        """The User Allowance controller (route and fields inferred: its page was not readable):
        ``remaining`` as WhosOff states it, in days or hours (``allowance_type_id`` 0 / 1)."""
        rows = self._call("user-allowance/retrieve", {"user_id": _as_int(user.vendor_user_id, "user id")})
        found = []
        for row in rows:
            if row.get("remaining") in (None, ""):
                continue
            unit = "hours" if str(row.get("allowance_type_id")) == "1" else "days"
            label = str(row.get("name") or "Allowance")
            found.append(Balance(label, str(row["remaining"]), unit))
        return found

    # --- holidays ----------------------------------------------------------------------------

    def holidays(self, start: date, end: date) -> list[Holiday]:
        """Company free days from the Free Restricted controller (route and fields inferred).
        Restricted days (no leave allowed) are not holidays and are left out."""
        days: dict[date, Holiday] = {}
        for lo, hi in _windows(start, end, self.settings.max_range_days):
            for row in self._call(
                "free-restricted/retrieve", {"start_date": lo.isoformat(), "end_date": hi.isoformat()}
            ):
                if str(row.get("free_restricted_type_id") or _FREE_DAY) != str(_FREE_DAY):
                    continue
                try:
                    first = date.fromisoformat(str(row["start_date"])[:10])
                    last = date.fromisoformat(str(row.get("end_date") or row["start_date"])[:10])
                except (KeyError, ValueError):
                    continue
                day = max(first, start)
                while day <= min(last, end):
                    days.setdefault(day, Holiday(day, str(row.get("name") or "Company holiday")))
                    day += timedelta(days=1)
        return [days[d] for d in sorted(days)]

    # --- health ------------------------------------------------------------------------------

    def check(self) -> str:
        return f"{len(self.people())} users"


SPEC = VendorSpec(
    name="whosoff",
    label="WhosOff",
    settings_cls=WhosOffSettings,
    is_configured=lambda s: bool(
        s.root() and s.app_id and s.client_secret.get_secret_value() and s.username and s.password.get_secret_value()
    ),
    build=lambda s, policy: WhosOff(s, policy),
    settings_hint="WHOSOFF_BASE_URL, WHOSOFF_APP_ID, WHOSOFF_CLIENT_SECRET, WHOSOFF_USERNAME (a Super User), "
    "WHOSOFF_PASSWORD and WHOSOFF_IP_ADDRESS",
    required=("base_url", "app_id", "client_secret", "username", "password"),
    credentials_hint="WHOSOFF_APP_ID, WHOSOFF_CLIENT_SECRET, WHOSOFF_USERNAME, WHOSOFF_PASSWORD and WHOSOFF_IP_ADDRESS",
    url_hint="WHOSOFF_BASE_URL",
)
