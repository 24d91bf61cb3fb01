"""Settings from the environment and ``.env`` (pydantic-settings).

Vendor settings live beside each vendor (``TIMECLOCK_*``, ``TIMETAP_*`` …), and how the bot
reaches vendors (timeouts, retries, caps, routing) in ``bot/vendors/access.py``; this module holds
the rest of what the bot itself needs. A bad setting stops start-up with one line naming it.
"""

from __future__ import annotations

from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from bot.domain import QuietHours, SickLeave
from bot.vendors.access import VendorAccess, routing_setting
from bot.vendors.settings import BaseUrl, ConfigError, TimeZoneName, one_line

__all__ = ["ConfigError", "Settings", "load_settings", "routing_setting"]


def parse_allowed_teams(value: str) -> frozenset[str]:
    """``TIMEBOT_ALLOWED_TEAMS``: comma-separated Slack team (T…) or enterprise (E…) ids."""
    ids = [part.strip() for part in value.split(",") if part.strip()]
    wrong = [i for i in ids if not (i[:1] in ("T", "E") and i.isalnum() and i.upper() == i and len(i) > 1)]
    if wrong:
        raise ValueError(f"{', '.join(wrong)}: give Slack team ids (T…) or enterprise ids (E…), comma-separated")
    return frozenset(ids)


class Settings(VendorAccess):
    # Only the aliases below are read from the environment: with ``populate_by_name`` pydantic-settings
    # would also read each field's own name (``WORKERS``, ``ADMINS`` …), settings nobody documents and
    # that a container may well set for something else. The settings table (docs/settings.md) is
    # generated from these fields (``python -m bot.cli.settings_doc --write``); ``doc_default`` is the Default cell
    # when the value itself would not say it.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_bot_token: SecretStr | None = Field(
        default=None,
        alias="SLACK_BOT_TOKEN",
        json_schema_extra={"doc_default": "— (required)"},
        description="Bot token, `xoxb-…`",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        alias="SLACK_SIGNING_SECRET",
        json_schema_extra={"doc_default": "— (required in HTTP mode)"},
        description="Verifies that requests come from Slack",
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        alias="SLACK_APP_TOKEN",
        description="App-level token `xapp-…`; when set, the bot runs in Socket Mode",
    )
    slack_api_url: BaseUrl = Field(
        default="https://slack.com/api/", alias="SLACK_API_URL", description="Base URL of every Slack Web API call"
    )
    database_url: str = Field(
        default="sqlite:///timebot.db",
        alias="DATABASE_URL",
        description="SQLAlchemy URL; PostgreSQL: `postgresql+psycopg://user:pass@host/db`",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        alias="TIMEBOT_SECRET_KEY",
        json_schema_extra={"doc_default": "— (required)"},
        description="Encrypts stored vendor credentials. Make one with `./dev keys generate`",
    )
    old_secret_keys: str = Field(
        default="",
        alias="TIMEBOT_OLD_SECRET_KEYS",
        description="Comma-separated previous keys, still accepted for reading during a rotation",
    )
    admins: str = Field(
        default="",
        alias="TIMEBOT_ADMINS",
        description="Comma-separated Slack user ids who may administer, besides workspace admins/owners",
    )
    default_tz: TimeZoneName = Field(
        default="UTC", alias="TIMEBOT_DEFAULT_TZ", description="Time zone for people whose Slack profile has none"
    )
    workers: int = Field(  # vendor cap 500, room for the rest
        default=640,
        ge=1,
        le=4096,
        alias="TIMEBOT_WORKERS",
        description="Threads doing vendor work after the ack; bursts beyond it queue. A thread waiting on a "
        "vendor costs no CPU, so this is sized for a 9:00 rush: 1,000 people clocking in at once "
        "while the vendor takes 2 s per call (`bench/README.md`)",
    )
    listener_threads: int = Field(
        default=32,
        ge=5,
        le=1024,
        alias="TIMEBOT_LISTENER_THREADS",
        description="Bolt listener threads (they only ack and enqueue)",
    )
    http_threads: int = Field(
        default=32,
        ge=4,
        le=1024,
        alias="TIMEBOT_HTTP_THREADS",
        description="Threads taking Slack's requests: HTTP-mode server threads, or Socket Mode envelope workers",
    )
    socket_connections: int = Field(
        default=2,
        ge=1,
        le=10,
        alias="TIMEBOT_SOCKET_CONNECTIONS",
        description="Socket Mode connections kept open (1–10; Slack allows 10 per app). Two keep acks fast "
        "while Slack refreshes one",
    )
    slow_notice_seconds: float = Field(
        default=2.5, gt=0, alias="TIMEBOT_SLOW_NOTICE_SECONDS", description="When to tell a person their vendor is slow"
    )
    ack_first_seconds: float = Field(
        default=2.0,
        ge=0,
        alias="TIMEBOT_ACK_FIRST_SECONDS",
        description="How long vendor work may wait while a burst of Slack requests is being acknowledged (acks first)",
    )
    takeover_seconds: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        alias="TIMEBOT_TAKEOVER_SECONDS",
        description="An accepted action whose process stopped renewing its claim (killed, crashed, gone) is "
        "taken over by another process, or by this one after a restart, within this many seconds, or "
        "within a quarter of it plus the vendor timeouts (connect + read) if that is longer: a write the "
        "dead process sent can still land that long after, and a takeover must not read back before it",
    )
    resume_within_minutes: float = Field(
        default=15.0,
        gt=0,
        le=1440,
        alias="TIMEBOT_RESUME_WITHIN",
        description="Minutes: a taken-over action older than this is checked at the vendor and reported with "
        "a button to do it now, not done blindly",
    )
    show_leave_kind: bool = Field(
        default=True,
        alias="TIMEBOT_SHOW_LEAVE_KIND",
        description="Show the kind of absence (never the reason) in who's-off and digests (a digest's "
        "`kind=hide`/`kind=show` overrides it)",
    )
    scheduler_enabled: bool = Field(
        default=True,
        alias="TIMEBOT_SCHEDULER",
        description="Run the digest scheduler, housekeeping, the clock reminders, the leave status poll and "
        "the leave-in-Slack-status job in this process",
    )
    sick_leave_types: str = Field(
        default="",
        alias="TIMEBOT_SICK_LEAVE_TYPES",
        description="Words (comma-separated, any case) added to the built-in sick-leave words (`sick`, "
        "`illness`, `ill health`, `medical`): a kind whose name contains one is sick leave, shown "
        'only as "off" to everyone but the person and admins, its note never shown to others, '
        "no future date needed",
    )
    allowed_teams: str = Field(
        default="",
        alias="TIMEBOT_ALLOWED_TEAMS",
        description="Slack workspaces (team or Enterprise Grid ids, comma-separated) served besides the bot "
        "token's own; requests from any other workspace get one line and nothing else",
    )
    clockout_reminder_hours: float = Field(
        default=10.0,
        gt=0,
        alias="TIMEBOT_CLOCKOUT_REMINDER_HOURS",
        description="Hours a session runs before its forgotten-clock-out reminder",
    )
    auto_clockout_hours: float | None = Field(
        default=None,
        gt=0,
        alias="TIMEBOT_AUTO_CLOCKOUT_HOURS",
        description="When set: a session still running this many hours after its start is ended at the time "
        "the reminder was sent",
    )
    quiet_hours: str = Field(
        default="21:00-07:00",
        alias="TIMEBOT_QUIET_HOURS",
        description="No reminders in this span of each person's own day (`off` for none); a due reminder "
        "waits for its end",
    )
    hygiene_check_seconds: float = Field(
        default=300.0, ge=5, alias="TIMEBOT_HYGIENE_CHECK_SECONDS", description="How often the reminders are checked"
    )
    session_sweep_minutes: float = Field(
        default=30.0,
        gt=0,
        alias="TIMEBOT_SESSION_SWEEP_MINUTES",
        description="How often running sessions started outside Timebot are read from the vendor",
    )

    # Leave follow-up
    leave_poll_seconds: float = Field(
        default=300.0,
        gt=0,
        alias="TIMEBOT_LEAVE_POLL_SECONDS",
        description="How often vendors that report approval status are asked about open leave requests",
    )
    leave_approvers: str = Field(
        default="",
        alias="TIMEBOT_LEAVE_APPROVERS",
        description="Who approves when the vendor names nobody (WhosOff names each person's `approver_id`): "
        "comma-separated Slack user ids, or a user group handle (`@leave-approvers`)",
    )
    approval_remind_hours: float = Field(
        default=24.0,
        gt=0,
        alias="TIMEBOT_APPROVAL_REMIND_HOURS",
        description="A request pending longer than this is in the approvers' daily reminder",
    )
    leave_backdate_days: int = Field(
        default=14,
        ge=0,
        le=366,
        alias="TIMEBOT_LEAVE_BACKDATE_DAYS",
        description="How far in the past a leave request may start (days)",
    )
    date_order: Literal["dmy", "mdy", "ask"] = Field(
        default="ask",
        alias="TIMEBOT_DATE_ORDER",
        description="How `/timeoff 12/07` reads: `dmy` (12 July), `mdy` (7 December), or `ask`: the form "
        "opens with both readings said when both are real days",
    )
    whosoff_webhook_secret: SecretStr | None = Field(
        default=None,
        alias="WHOSOFF_WEBHOOK_SECRET",
        description="The HMAC SHA-256 client secret of WhosOff's webhook; enables `POST /webhooks/whosoff` "
        "(HTTP mode). Unsigned or badly signed calls get 401",
    )
    whosoff_webhook_header: str = Field(
        default="X-WhosOff-Signature",
        alias="WHOSOFF_WEBHOOK_HEADER",
        description="The header WhosOff puts the signature in (set it to what Company Settings shows)",
    )
    # leave in the Slack status (each person's consent through OAuth; see bot/slack/oauth.py)
    public_url: str | None = Field(
        default=None,
        alias="TIMEBOT_PUBLIC_URL",
        description="The bot's public base URL (`https://timebot.example.com`): Slack sends people back to "
        "`<it>/slack/oauth_redirect` after they allow Timebot to set their status, and calendar links "
        "point at `<it>/calendar/…`. Without it (or "
        "`SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET`) Home says what is missing",
    )
    slack_client_id: str | None = Field(
        default=None,
        alias="SLACK_CLIENT_ID",
        description="The app's client id (Basic Information page), for the status consent. Only Timebot reads "
        "it: Bolt and slack-sdk are handed every value and never read `SLACK_*` variables themselves "
        "(their own `SLACK_SCOPES`, `SLACK_REDIRECT_URI`, `SLACK_INSTALL_PATH` … change nothing)",
    )
    slack_client_secret: SecretStr | None = Field(
        default=None,
        alias="SLACK_CLIENT_SECRET",
        description="The app's client secret (Basic Information page), for the status consent",
    )
    away_statuses: str = Field(
        default="sick=:face_with_thermometer: Out sick;*=:palm_tree: On leave",
        alias="TIMEBOT_LEAVE_STATUSES",
        description="Status per leave kind: `kind=:emoji: text`, `;`-separated, the kind matched by name "
        "(case-insensitive, part of the name), `sick` for every kind the sick-leave rule matches "
        "(`TIMEBOT_SICK_LEAVE_TYPES`), `*` for the rest. With `TIMEBOT_SHOW_LEAVE_KIND=false` "
        "every kind shows as `:calendar: Out`",
    )
    leave_dnd: bool = Field(
        default=False, alias="TIMEBOT_LEAVE_DND", description="Also snooze notifications (Do Not Disturb) for the leave"
    )
    away_status_poll_seconds: float = Field(
        default=300.0,
        ge=10,
        alias="TIMEBOT_LEAVE_STATUS_POLL_SECONDS",
        description="How often the status job reads each consenting person's leave (also at every local "
        "midnight and noon)",
    )

    # operations: /metrics, the log format, how long a passed auth.test keeps /readyz ready
    ops_metrics: bool = Field(
        default=False,
        alias="TIMEBOT_METRICS",
        description="Serve Prometheus metrics at `GET /metrics` (HTTP mode: beside `/slack/events`; Socket Mode: "
        "on `--port`). The list: [docs/operating.md](operating.md#metrics-metrics)",
    )
    ops_log_format: Literal["text", "json"] = Field(
        default="text",
        alias="TIMEBOT_LOG_FORMAT",
        description="`json`: one JSON object per line (`time`, `level`, `logger`, `message`, `action_id` tying "
        "an action's lines together)",
    )
    ops_readyz_slack_seconds: float = Field(
        default=30.0,
        ge=0,
        alias="TIMEBOT_READYZ_SLACK_SECONDS",
        description="How long a passed `auth.test` keeps `/readyz` ready before Slack is asked again (a failed "
        "one is asked again at the next probe)",
    )

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, v: str) -> str:
        QuietHours.parse(v)
        return v

    @field_validator("allowed_teams")
    @classmethod
    def _allowed_teams(cls, v: str) -> str:
        parse_allowed_teams(v)
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

    @field_validator(
        "clock_vendor", "leave_vendor", "whosoff_vendor", "holidays_vendor", "identity_vendor", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if v == "" else v

    @property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.admins.split(",") if a.strip())

    @property
    def allowed_team_ids(self) -> frozenset[str]:
        return parse_allowed_teams(self.allowed_teams)

    @property
    def sick_leave(self) -> SickLeave:
        """Which leave kinds are sick leave (see ``SickLeave``): the built-in words and the operator's."""
        return SickLeave.with_extra(self.sick_leave_types)

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
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        raise ConfigError(one_line(exc, Settings)) from None
