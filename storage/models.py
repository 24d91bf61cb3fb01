"""Tables. Times are aware UTC datetimes (sqlmodel stores them as UTC on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Index, Table, Text, UniqueConstraint, inspect
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Identity(SQLModel, table=True):
    """A Slack user's identity in one vendor; ``secret_enc`` is their own credential, encrypted."""

    __tablename__ = "identity"
    __table_args__ = (
        UniqueConstraint("team_id", "slack_user_id", "vendor", name="uq_identity_user_vendor"),
        # one account, one person (per workspace: an Enterprise Grid user keeps their id in each)
        UniqueConstraint("team_id", "vendor", "vendor_user_id", name="uq_identity_account"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    slack_user_id: str = Field(max_length=32)
    vendor: str = Field(max_length=32, index=True)
    vendor_user_id: str = Field(max_length=128)
    secret_enc: str | None = Field(default=None, max_length=1024)
    email: str | None = Field(default=None, max_length=320)
    linked_by: str = Field(default="self", max_length=32)  # self | email | admin:<slack id>
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Person(SQLModel, table=True):
    """What Slack told us about a user (name, email, time zone), refreshed on use."""

    __tablename__ = "person"

    team_id: str = Field(max_length=32, primary_key=True)
    slack_user_id: str = Field(max_length=32, primary_key=True)
    name: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=320, index=True)
    tz: str | None = Field(default=None, max_length=64)
    is_admin: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    """Every vendor action: who asked, what, when, and how it ended."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    team_id: str = Field(max_length=32)
    slack_user_id: str = Field(max_length=32)
    vendor: str = Field(max_length=32)
    action: str = Field(max_length=64)
    outcome: str = Field(max_length=16)  # ok | rejected | failed | unknown | refused
    detail: str = Field(default="", max_length=2000)


class ProcessedRequest(SQLModel, table=True):
    """Keys of Slack requests already acted on, so retries and double clicks do nothing."""

    __tablename__ = "processed_request"

    key: str = Field(max_length=255, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)


class DigestSubscription(SQLModel, table=True):
    """A channel's daily "who's off" digest: when (wall clock in ``tz``, on ``days``) and how.

    ``days`` holds weekday names the way APScheduler's CronTrigger reads them (``mon-fri``,
    ``mon,wed,fri``), never crontab numbers. ``updated_at`` doubles as "scheduled since": a run
    due before it is not caught up.
    """

    __tablename__ = "digest_subscription"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_digest_subscription_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    hour: int
    minute: int
    tz: str = Field(max_length=64)
    days: str = Field(default="mon-fri", max_length=64)
    skip_empty: bool = False
    days_ahead: int = 3
    scope: str = Field(default="", max_length=300)  # "" everyone | members:C… | group:S…|handle | dept:NAME
    cadence: str = Field(default="daily", max_length=16)  # daily | weekly (the week ahead, compact ranges)
    show_kind: bool | None = None  # None: TIMEBOT_SHOW_LEAVE_KIND; kind=hide / kind=show override it
    mentions: bool = False  # <@U…> (notifies people on leave) instead of plain names
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DigestRun(SQLModel, table=True):
    """One channel's digest for one local date: the exactly-once claim.

    Inserted (``claimed``) before anything is built; the unique constraint lets one process win.
    ``posting`` is set just before the first chat.postMessage, so after a crash we know whether a
    message may have gone out (``posting`` → ``unknown``, never re-posted) or certainly did not
    (``claimed`` → safe to take over once stale). ``message_ts`` lists the posted messages, in
    order; ``plan`` fingerprints every message the run set out to post. A ``partial`` run (Slack
    refused message k+1 of n, so nothing of it went out) keeps both: a later attempt rebuilds the
    messages and, only if the first k still match ``plan``, posts the other n-k. ``resumable``
    says whether that refusal passes by itself (rate limit, Slack unavailable), so the scheduler
    resumes it; otherwise it waits for an admin's ``timebot digest send``.
    """

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "local_date", name="uq_digest_run_channel_day"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel_id: str = Field(max_length=32)
    local_date: date
    status: str = Field(max_length=16)  # claimed | posting | sent | empty | partial | failed | unknown | missed
    owner: str = Field(max_length=64)  # who holds the claim: "<host>:<pid>:<random>"
    trigger: str = Field(default="schedule", max_length=16)  # schedule | catch-up | cli
    attempts: int = 1
    late: bool = False
    claimed_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None
    message_ts: str = Field(default="", max_length=1000)  # comma-separated ts of the posted messages
    plan: str = Field(default="", max_length=1000)  # comma-separated fingerprints of all the messages
    resumable: bool = False  # partial after a refusal that passes by itself: resumed automatically
    detail: str = Field(default="", max_length=2000)


class SessionWatch(SQLModel, table=True):
    """A running clock session Timebot knows of (clocked in through it, or found by the periodic
    vendor read), and the exactly-once claim on its forgotten-clock-out reminder.

    ``status``: ``open`` (no reminder yet) → ``reminding`` (claimed by ``owner``, DM on its way) →
    ``reminded`` (``channel_id``/``message_ts`` say where) → ``ending`` (a click) or ``closing``
    (the automatic clock-out) → ``done``. ``gone``: the session ended elsewhere; ``failed``: Slack
    refused the DM for good. Every move is a conditional UPDATE,
    so one process wins it, on SQLite and PostgreSQL alike.
    """

    __tablename__ = "session_watch"
    __table_args__ = (
        UniqueConstraint("team_id", "slack_user_id", "vendor", "session_id", name="uq_session_watch_session"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    slack_user_id: str = Field(max_length=32)
    vendor: str = Field(max_length=32)
    session_id: str = Field(max_length=128)
    started_at: datetime
    status: str = Field(default="open", max_length=16, index=True)
    owner: str = Field(default="", max_length=64)
    reminded_at: datetime | None = None
    channel_id: str = Field(default="", max_length=32)
    message_ts: str = Field(default="", max_length=32)
    detail: str = Field(default="", max_length=500)
    updated_at: datetime = Field(default_factory=utcnow)


class ClockInReminder(SQLModel, table=True):
    """A person's opt-in "remind me to clock in by HH:MM" (their own zone), set on App Home."""

    __tablename__ = "clock_in_reminder"

    team_id: str = Field(max_length=32, primary_key=True)
    slack_user_id: str = Field(max_length=32, primary_key=True)
    hour: int
    minute: int
    enabled: bool = True
    updated_at: datetime = Field(default_factory=utcnow)


class LeaveTrack(SQLModel, table=True):
    """A leave request Timebot follows until the vendor settles it: made through Timebot or seen
    on a vendor's list. ``status`` is the last one announced; ``approver_dms`` the approvers'
    messages about it ("channel:ts" comma-separated), updated in place when it changes."""

    __tablename__ = "leave_track"
    __table_args__ = (UniqueConstraint("vendor", "request_id", name="uq_leave_track_request"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    slack_user_id: str = Field(max_length=32, index=True)
    vendor: str = Field(max_length=32)
    request_id: str = Field(max_length=128)
    vendor_user_id: str = Field(max_length=128)
    start_day: date
    end_day: date
    kind: str = Field(default="", max_length=128)
    status: str = Field(default="pending", max_length=16, index=True)  # pending | approved | denied | cancelled
    via: str = Field(default="timebot", max_length=16)  # timebot | list
    approver_dms: str = Field(default="", max_length=2000)
    decided_by: str = Field(default="", max_length=256)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SlackUserToken(SQLModel, table=True):
    """A person's consent to show their leave in their Slack status: their user token (from Slack's
    OAuth v2 flow), encrypted like the vendor keys. ``enabled`` goes off when Slack revokes it;
    ``revoked_told`` records that the person was told, so they are told once."""

    __tablename__ = "slack_user_token"

    team_id: str = Field(max_length=32, primary_key=True)
    slack_user_id: str = Field(max_length=32, primary_key=True)
    token_enc: str = Field(max_length=1024)
    scopes: str = Field(default="", max_length=512)
    enabled: bool = True
    revoked_told: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LeaveNotice(SQLModel, table=True):
    """A claim: the process that inserts ``key`` (request + status + what) sends that notice; every
    other process, now or after a restart, sees the row and sends nothing."""

    __tablename__ = "leave_notice"

    key: str = Field(max_length=255, primary_key=True)
    at: datetime = Field(default_factory=utcnow)


class OAuthState(SQLModel, table=True):
    """The nonce of a signed OAuth ``state`` that was used: kept until the state would have expired,
    so it cannot be used twice (states themselves are not stored; see bot/slack/oauth.py)."""

    __tablename__ = "oauth_state"

    state: str = Field(max_length=128, primary_key=True)
    expires_at: datetime = Field(index=True)


class AwayStatusEntry(SQLModel, table=True):
    """One leave shown in one person's Slack status: the exactly-once claim and what to restore.

    The INSERT is the claim to set the status (the unique constraint lets one process win); each
    later step is a conditional UPDATE on ``state`` (claimed → set → restoring → restored | kept),
    so a restore is sent once too. ``prev_*`` is the person's status before ours; ``set_*`` is ours,
    compared with their current status before restoring (a status they changed is left alone).
    """

    __tablename__ = "leave_status"
    __table_args__ = (UniqueConstraint("team_id", "slack_user_id", "leave_key", name="uq_leave_status_leave"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    slack_user_id: str = Field(max_length=32)
    leave_key: str = Field(max_length=255)  # vendor:absence id (or its dates)
    state: str = Field(max_length=16, index=True)  # claimed | set | restoring | restored | kept | failed
    owner: str = Field(max_length=64)
    starts_at: datetime
    ends_at: datetime  # when the previous status comes back (the end of the leave, in UTC)
    prev_text: str = Field(default="", max_length=256)
    prev_emoji: str = Field(default="", max_length=128)
    prev_expiration: int = 0
    set_text: str = Field(default="", max_length=256)
    set_emoji: str = Field(default="", max_length=128)
    updated_at: datetime = Field(default_factory=utcnow)
    detail: str = Field(default="", max_length=500)


class CalendarFeed(SQLModel, table=True):
    """A secret iCal URL: whose it is and what it shows ("mine", or a scope they may see).

    Only a hash of the token is kept (``token_hash``); the URL itself is recomputed from
    ``salt`` and the secret key when the person asks again, so a copy of the database opens no
    feed. ``body``/``etag``/``built_at`` are the last build, shared by every process: a poll within
    five minutes of ``built_at`` is answered from here without a vendor read; ``refreshing_at`` is
    the claim of the one process rebuilding it. ``modified_at`` moves only when the body changes
    (Last-Modified)."""

    __tablename__ = "calendar_feed"
    __table_args__ = (UniqueConstraint("team_id", "slack_user_id", "scope", name="uq_calendar_feed_scope"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    slack_user_id: str = Field(max_length=32, index=True)
    scope: str = Field(max_length=300)  # "mine" | "all" | members:C… | group:S…|handle | dept:NAME
    salt: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    body: str = Field(default="", sa_type=Text)
    etag: str = Field(default="", max_length=80)
    built_at: datetime | None = None
    modified_at: datetime | None = None
    refreshing_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class IntakeAction(SQLModel, table=True):
    """A person's accepted action (a clock-in, a clock-out, a leave request, a cancel click) and
    what is needed to finish it, so that a process dying between the ack and the answer loses
    nothing: another process, or this one restarted, takes it over.

    The row is also the request's claim (``key`` is unique: a Slack retry or a double click finds
    it taken). ``owner`` works on it while it renews ``heartbeat_at``; a running row whose
    heartbeat is older than the takeover window belongs to whoever claims it next. ``done``
    rows carry the one outcome the person was told (``outcome``), so no takeover repeats it.
    ``payload`` is JSON of the action's own fields, never a secret.
    """

    __tablename__ = "intake_action"
    __table_args__ = (
        UniqueConstraint("key", name="uq_intake_action_key"),
        Index("ix_intake_action_state_heartbeat", "state", "heartbeat_at"),
        Index("ix_intake_action_person", "team_id", "slack_user_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    kind: str = Field(max_length=16)  # clockin | clockout | timeoff | cancel
    team_id: str = Field(max_length=32)
    slack_user_id: str = Field(max_length=32)
    payload: str = Field(default="{}", max_length=4000)
    response_url: str = Field(default="", max_length=1024)
    accepted_at: datetime = Field(default_factory=utcnow)
    state: str = Field(default="running", max_length=16)  # running | done
    owner: str = Field(default="", max_length=64)
    heartbeat_at: datetime = Field(default_factory=utcnow)
    attempts: int = 1
    outcome: str = Field(default="", max_length=32)
    updated_at: datetime = Field(default_factory=utcnow)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table a table model maps to: SQLModel's metaclass sets ``__table__``, out of a type
    checker's sight, so it is read back from the mapper."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table
