"""Tables. Times are aware UTC datetimes (sqlmodel stores them as UTC on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Identity(SQLModel, table=True):
    """A Slack user's identity in one vendor; ``secret_enc`` is their own credential, encrypted."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("team_id", "slack_user_id", "vendor", name="uq_identity_user_vendor"),)

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
