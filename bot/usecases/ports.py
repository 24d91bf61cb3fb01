"""What the use cases and digests ask of Slack, and how Slack says no, in their own terms.

The use cases never see the Slack SDK: they are handed an object with these methods (the adapter
in ``bot/slack/client.py``, which builds it over the SDK's client) and catch these exceptions,
which the adapter raises in place of the SDK's: one translation, in one place. The exceptions
are sorted by what a caller can do about them:

* ``SlackTryLater`` (``SlackRateLimited``, ``SlackUnavailable``): Slack did nothing, and the
  trouble passes by itself: the same call later is safe.
* ``SlackOutcomeUnknown`` (``SlackUnreachable``): Slack failed while answering (an HTTP 5xx,
  ``fatal_error``, ``internal_error``) or no answer came: the call may have taken effect, so a
  post must not simply be sent again (Slack has no idempotency key).
* The rest say what is wrong, which waiting won't change: the token (``SlackTokenRevoked``),
  the person, channel, message or user group (``…Gone``, ``SlackNotInChannel``), a scope the
  app lacks (``SlackMissingScope``); any other refusal is a plain ``SlackError``.

``error`` is always Slack's own error string (for a connection failure, the exception's name), so
logs and stored details read as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Blocks = list[dict[str, Any]]


# --- how Slack says no --------------------------------------------------------------------------


class SlackError(Exception):
    """Slack refused a call or could not be reached. ``error``: Slack's error string;
    ``method``: the Web API method; ``status``: the HTTP status (None when no answer came)."""

    def __init__(self, error: str, *, method: str = "", status: int | None = None) -> None:
        super().__init__(f"{method}: {error}" if method else error)
        self.error = error
        self.method = method
        self.status = status


class SlackTryLater(SlackError):
    """Nothing was done, and the reason passes by itself."""


class SlackRateLimited(SlackTryLater):
    """Too many calls (HTTP 429, after the client's own retries): ``retry_after`` seconds to wait,
    when Slack said."""

    def __init__(
        self, error: str, *, method: str = "", status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(error, method=method, status=status)
        self.retry_after = retry_after


class SlackUnavailable(SlackTryLater):
    """Slack is briefly unavailable (a workspace migrating, the request cut short on its way)."""


class SlackOutcomeUnknown(SlackError):
    """Slack failed while answering: the call may have taken effect."""


class SlackUnreachable(SlackOutcomeUnknown):
    """No answer came (connection refused, reset or timed out): it may have reached Slack."""


class SlackTokenRevoked(SlackError):
    """The token is no longer good: revoked, expired, its account deactivated, or missing."""


class SlackUserGone(SlackError):
    """No such person in the workspace (never was, or deactivated)."""


class SlackChannelGone(SlackError):
    """The channel doesn't exist for this app: deleted, archived, or private without the bot."""


class SlackNotInChannel(SlackError):
    """The bot isn't a member of the channel it tried to post in."""


class SlackMessageGone(SlackError):
    """The message to update is no longer there."""


class SlackGroupGone(SlackError):
    """No such user group."""


class SlackMissingScope(SlackError):
    """The app lacks a scope the method needs (``needed``, when Slack said which)."""

    def __init__(self, error: str, *, method: str = "", status: int | None = None, needed: str = "") -> None:
        super().__init__(error, method=method, status=status)
        self.needed = needed


# --- what is asked of Slack ---------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """Where a message landed: a DM posted to a person's user id lands in a ``D…`` channel."""

    channel: str
    ts: str


class Messages(Protocol):
    """Post a message to a channel, or to a person (a DM: their user id as the channel)."""

    def post(self, channel: str, text: str, blocks: Blocks | None = None, *, unfurl: bool = True) -> Posted: ...

    def update(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None: ...


class Members(Protocol):
    """The workspace's directory: people, channels' members, user groups."""

    def workspace_id(self) -> str:
        """The bot token's team id (``auth.test``)."""
        ...

    def user(self, user_id: str) -> Mapping[str, Any]:
        """Slack's user object (``users.info``)."""
        ...

    def user_id_by_email(self, email: str) -> str: ...

    def members(self) -> Iterator[Mapping[str, Any]]:
        """Every member's user object, deactivated accounts and bots included (``users.list``,
        every page)."""
        ...

    def channel(self, channel_id: str) -> Mapping[str, Any]:
        """Slack's conversation object (``is_private``, ``is_member`` …)."""
        ...

    def channel_members(self, channel_id: str, *, page: int) -> frozenset[str]:
        """Every member of a channel, read ``page`` at a time."""
        ...

    def groups(self) -> list[Mapping[str, Any]]:
        """The workspace's user groups (``id``, ``handle`` …)."""
        ...

    def group_members(self, group_id: str) -> list[str]:
        """A user group's members, in Slack's order."""
        ...


class Statuses(Protocol):
    """A person's own status and notifications, with the user token they granted."""

    def status(self, token: str) -> Mapping[str, Any]:
        """Their profile: ``status_text``, ``status_emoji``, ``status_expiration``."""
        ...

    def set_status(self, token: str, text: str, emoji: str, expiration: int) -> None: ...

    def snooze(self, token: str, minutes: int) -> None: ...

    def end_snooze(self, token: str) -> None: ...


class Files(Protocol):
    """A file shared into a channel (a person's DM: their user id)."""

    def upload(self, channel: str, filename: str, content: bytes, *, title: str, comment: str) -> None: ...


class Slack(Messages, Members, Statuses, Files, Protocol):
    """Everything above: what ``People`` carries for the use cases that start from it."""
