"""Settings from the environment and ``.env`` (pydantic-settings).

Vendor settings live beside each vendor (``TIMECLOCK_*``, ``TIMETAP_*`` …); this module holds
what the bot itself needs. A bad setting stops start-up with one line naming it.
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain import Action, QuietHours
from bot.vendors.http import DEFAULT_CONCURRENCY, HttpPolicy
from bot.vendors.registry import VendorName
from bot.vendors.settings import BaseUrl, ConfigError, TimeZoneName, one_line

__all__ = ["ConfigError", "Settings", "load_settings", "routing_setting"]


def routing_setting(action: Action) -> str:
    """The setting that routes ``action`` to a vendor: ``TIMEBOT_WHOSOFF_VENDOR`` …"""
    return f"TIMEBOT_{action.name.replace('WHOS_OFF', 'WHOSOFF')}_VENDOR"



class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: BaseUrl = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///timebot.db", alias="DATABASE_URL")
    secret_key: SecretStr | None = Field(default=None, alias="TIMEBOT_SECRET_KEY")
    old_secret_keys: str = Field(default="", alias="TIMEBOT_OLD_SECRET_KEYS")
    admins: str = Field(default="", alias="TIMEBOT_ADMINS")
    default_tz: TimeZoneName = Field(default="UTC", alias="TIMEBOT_DEFAULT_TZ")
    workers: int = Field(default=640, ge=1, le=4096, alias="TIMEBOT_WORKERS")  # vendor cap 500, room for the rest
    listener_threads: int = Field(default=32, ge=5, le=1024, alias="TIMEBOT_LISTENER_THREADS")
    http_threads: int = Field(default=32, ge=4, le=1024, alias="TIMEBOT_HTTP_THREADS")
    socket_connections: int = Field(default=2, ge=1, le=10, alias="TIMEBOT_SOCKET_CONNECTIONS")
    slow_notice_seconds: float = Field(default=2.5, gt=0, alias="TIMEBOT_SLOW_NOTICE_SECONDS")
    ack_first_seconds: float = Field(default=2.0, ge=0, alias="TIMEBOT_ACK_FIRST_SECONDS")
    takeover_seconds: float = Field(default=30.0, ge=1, le=3600, alias="TIMEBOT_TAKEOVER_SECONDS")
    resume_within_minutes: float = Field(default=15.0, gt=0, le=1440, alias="TIMEBOT_RESUME_WITHIN")
    show_leave_kind: bool = Field(default=True, alias="TIMEBOT_SHOW_LEAVE_KIND")
    scheduler_enabled: bool = Field(default=True, alias="TIMEBOT_SCHEDULER")
    sick_leave_types: str = Field(default="Sickness,Sick leave,Sick", alias="TIMEBOT_SICK_LEAVE_TYPES")
    clockout_reminder_hours: float = Field(default=10.0, gt=0, alias="TIMEBOT_CLOCKOUT_REMINDER_HOURS")
    auto_clockout_hours: float | None = Field(default=None, gt=0, alias="TIMEBOT_AUTO_CLOCKOUT_HOURS")
    quiet_hours: str = Field(default="21:00-07:00", alias="TIMEBOT_QUIET_HOURS")
    hygiene_check_seconds: float = Field(default=300.0, ge=5, alias="TIMEBOT_HYGIENE_CHECK_SECONDS")
    session_sweep_minutes: float = Field(default=30.0, gt=0, alias="TIMEBOT_SESSION_SWEEP_MINUTES")

    # Leave follow-up (issue 12)
    leave_poll_seconds: float = Field(default=300.0, gt=0, alias="TIMEBOT_LEAVE_POLL_SECONDS")
    leave_approvers: str = Field(default="", alias="TIMEBOT_LEAVE_APPROVERS")
    approval_remind_hours: float = Field(default=24.0, gt=0, alias="TIMEBOT_APPROVAL_REMIND_HOURS")
    leave_backdate_days: int = Field(default=14, ge=0, le=366, alias="TIMEBOT_LEAVE_BACKDATE_DAYS")
    whosoff_webhook_secret: SecretStr | None = Field(default=None, alias="WHOSOFF_WEBHOOK_SECRET")
    whosoff_webhook_header: str = Field(default="X-WhosOff-Signature", alias="WHOSOFF_WEBHOOK_HEADER")
    # leave in the Slack status (each person's consent through OAuth; see bot/slack_oauth.py)
    public_url: str | None = Field(default=None, alias="TIMEBOT_PUBLIC_URL")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    leave_statuses: str = Field(default="sick=:face_with_thermometer: Out sick;*=:palm_tree: On leave",
                                alias="TIMEBOT_LEAVE_STATUSES")
    leave_dnd: bool = Field(default=False, alias="TIMEBOT_LEAVE_DND")
    leave_status_poll_seconds: float = Field(default=300.0, ge=10, alias="TIMEBOT_LEAVE_STATUS_POLL_SECONDS")

    http_connect_timeout: float = Field(default=3.0, gt=0, alias="TIMEBOT_HTTP_CONNECT_TIMEOUT")
    http_read_timeout: float = Field(default=10.0, gt=0, alias="TIMEBOT_HTTP_READ_TIMEOUT")
    http_max_retries: int = Field(default=2, ge=0, le=10, alias="TIMEBOT_HTTP_MAX_RETRIES")
    breaker_failures: int = Field(default=5, ge=1, alias="TIMEBOT_BREAKER_FAILURES")
    breaker_cooldown: float = Field(default=30.0, gt=0, alias="TIMEBOT_BREAKER_COOLDOWN")
    # requests in flight to each vendor at once, across the whole bot (each retry included); not
    # named <vendor>_concurrency: with populate_by_name the field name is read from the environment
    # too, and TIMECLOCK_CONCURRENCY is TimeClock's own who's-off setting
    in_flight_timeclock: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=4096,
                                       alias="TIMEBOT_TIMECLOCK_CONCURRENCY")
    in_flight_timetap: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=4096, alias="TIMEBOT_TIMETAP_CONCURRENCY")
    in_flight_swipeclock: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=4096,
                                        alias="TIMEBOT_SWIPECLOCK_CONCURRENCY")
    in_flight_whosoff: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=4096, alias="TIMEBOT_WHOSOFF_CONCURRENCY")

    clock_vendor: VendorName | None = Field(default=None, alias="TIMEBOT_CLOCK_VENDOR")
    leave_vendor: VendorName | None = Field(default=None, alias="TIMEBOT_LEAVE_VENDOR")
    whosoff_vendor: VendorName | None = Field(default=None, alias="TIMEBOT_WHOSOFF_VENDOR")
    holidays_vendor: VendorName | None = Field(default=None, alias="TIMEBOT_HOLIDAYS_VENDOR")
    identity_vendor: VendorName | None = Field(default=None, alias="TIMEBOT_IDENTITY_VENDOR")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, v: str) -> str:
        QuietHours.parse(v)
        return v

    @field_validator("auto_clockout_hours", mode="before")
    @classmethod
    def _blank_auto(cls, v: object) -> object:
        return None if v == "" else v

    @field_validator("public_url", "slack_client_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, v: object) -> object:
        return None if v == "" else v

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("https://", "http://")):
            raise ValueError("must be the bot's public base URL, e.g. https://timebot.example.com")
        return v.rstrip("/") if v else v

    @field_validator("clock_vendor", "leave_vendor", "whosoff_vendor", "holidays_vendor", "identity_vendor",
                     mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if v == "" else v

    @property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.admins.split(",") if a.strip())

    @property
    def sick_leave_names(self) -> frozenset[str]:
        """Leave types (by name, case-insensitive) the company marks as sick: shown only as "off"
        except to the person and admins, their reason never shown, and no future date needed."""
        return frozenset(t.strip().lower() for t in self.sick_leave_types.split(",") if t.strip())

    @property
    def http_policy(self) -> HttpPolicy:
        return HttpPolicy(
            connect_timeout=self.http_connect_timeout,
            read_timeout=self.http_read_timeout,
            max_retries=self.http_max_retries,
            breaker_failures=self.breaker_failures,
            breaker_cooldown=self.breaker_cooldown,
            vendor_concurrency={
                "timeclock": self.in_flight_timeclock,
                "timetap": self.in_flight_timetap,
                "swipeclock": self.in_flight_swipeclock,
                "whosoff": self.in_flight_whosoff,
            },
        )

    @property
    def routing(self) -> dict[Action, str]:
        chosen = {
            Action.CLOCK: self.clock_vendor,
            Action.LEAVE: self.leave_vendor,
            Action.WHOS_OFF: self.whosoff_vendor,
            Action.HOLIDAYS: self.holidays_vendor,
            Action.IDENTITY: self.identity_vendor,
        }
        return {a: v for a, v in chosen.items() if v}

    @property
    def api_url(self) -> str:
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"

    def require_secret_key(self) -> None:
        if self.secret_key is None or not self.secret_key.get_secret_value():
            raise ConfigError(
                "TIMEBOT_SECRET_KEY is not set: it encrypts stored vendor keys. "
                "Create one with `./dev keys generate` (or `timebot keys generate`) and put it in .env."
            )
        for name, key in [("TIMEBOT_SECRET_KEY", self.secret_key.get_secret_value())] + [
            ("TIMEBOT_OLD_SECRET_KEYS", k) for k in self.old_keys
        ]:
            try:
                Fernet(key)
            except (ValueError, TypeError) as exc:
                raise ConfigError(
                    f"{name} is not a valid key (it must be 32 url-safe base64 bytes): "
                    "create one with `./dev keys generate` (or `timebot keys generate`)."
                ) from exc

    @property
    def old_keys(self) -> list[str]:
        return [k.strip() for k in self.old_secret_keys.split(",") if k.strip()]

    def require_slack(self, socket_mode: bool | None = None) -> None:
        """Check the Slack tokens ``timebot run`` needs; Socket Mode when SLACK_APP_TOKEN is set."""
        if self.slack_bot_token is None or not self.slack_bot_token.get_secret_value():
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your Slack app's "
                "OAuth & Permissions page into .env."
            )
        if not self.slack_bot_token.get_secret_value().startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
        socket = self.slack_app_token is not None if socket_mode is None else socket_mode
        if socket:
            token = self.slack_app_token.get_secret_value() if self.slack_app_token else ""
            if not token.startswith("xapp-"):
                raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp- (Socket Mode).")
        elif self.slack_signing_secret is None or not self.slack_signing_secret.get_secret_value():
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests "
                "(Basic Information page of your Slack app), or set SLACK_APP_TOKEN for Socket Mode."
            )


def load_settings(env_file: str | None = ".env") -> Settings:
    """Read settings, turning pydantic's multi-line report into one actionable line."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(one_line(exc, Settings)) from None
