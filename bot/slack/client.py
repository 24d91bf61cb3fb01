"""The Slack adapter: the use cases' ports (``bot/usecases/ports.py``) over the SDK's ``WebClient``.

Every call goes through ``_translated``, the one place where the SDK's ``SlackApiError`` (and a
connection that failed) becomes the use cases' typed error, decided by Slack's error string and
the HTTP status. The client's retry handlers stay as configured where it is built: the shared one
(``bot/runtime/app.py``) retries 429s and 5xx; ``posting_client`` retries only 429s. An error
raised here comes after those retries.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.telemetry import metrics
from bot.usecases.ports import (
    Blocks,
    Posted,
    SlackChannelGone,
    SlackError,
    SlackGroupGone,
    SlackMessageGone,
    SlackMissingScope,
    SlackNotInChannel,
    SlackOutcomeUnknown,
    SlackRateLimited,
    SlackTokenRevoked,
    SlackUnavailable,
    SlackUnreachable,
    SlackUserGone,
)

log = logging.getLogger(__name__)

USERS_PAGE = 200  # users.list: Slack recommends no more than 200 a page

# Slack's error strings, by what they mean to a caller (docs.slack.dev/reference/methods/*,
# "Errors"). A string not listed is a plain SlackError: a refusal that needs a person to look.
ERRORS: dict[str, type[SlackError]] = {
    **dict.fromkeys(("ratelimited", "rate_limited", "message_limit_exceeded"), SlackRateLimited),
    # passes by itself: the service is briefly unavailable, a workspace is migrating to an
    # Enterprise org, the request's data arrived cut short
    **dict.fromkeys(("service_unavailable", "team_added_to_org", "request_timeout"), SlackUnavailable),
    # Slack: "it's possible some aspect of the operation succeeded"
    **dict.fromkeys(("fatal_error", "internal_error"), SlackOutcomeUnknown),
    **dict.fromkeys(
        ("invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired"), SlackTokenRevoked
    ),
    **dict.fromkeys(("user_not_found", "users_not_found"), SlackUserGone),
    **dict.fromkeys(("channel_not_found", "is_archived", "is_inactive"), SlackChannelGone),
    "not_in_channel": SlackNotInChannel,
    "message_not_found": SlackMessageGone,
    "no_such_subteam": SlackGroupGone,
    "missing_scope": SlackMissingScope,
}


def slack_error(exc: SlackApiError, method: str) -> SlackError:
    """The typed error for the SDK's: an HTTP 5xx first (whatever its body says, the call may
    have happened), then Slack's error string, then a bare 429."""
    response = exc.response
    status = int(response.status_code)
    error = str(response.get("error") or status)
    if status >= 500:
        return SlackOutcomeUnknown(error, method=method, status=status)
    kind = ERRORS.get(error) or (SlackRateLimited if status == 429 else SlackError)
    if kind is SlackRateLimited:
        return SlackRateLimited(error, method=method, status=status, retry_after=_retry_after(response.headers))
    if kind is SlackMissingScope:
        return SlackMissingScope(error, method=method, status=status, needed=str(response.get("needed") or ""))
    return kind(error, method=method, status=status)


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError, IndexError):
                return None
    return None


@contextmanager
def _translated(method: str) -> Iterator[None]:
    try:
        yield
    except SlackApiError as exc:
        raise slack_error(exc, method) from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, a dropped connection
        raise SlackUnreachable(type(exc).__name__, method=method) from exc


def posting_client(client: WebClient) -> WebClient:
    """A client for posts that retries only what provably did not post: HTTP 429.

    The bot's shared client also retries dropped connections and 5xx answers, which for
    chat.postMessage (no idempotency key) can post the same message twice.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        retry_handlers=[metrics.CountRateLimits(), RateLimitErrorRetryHandler(max_retry_count=3)],
    )


class SlackClient:
    """Every port of ``bot.usecases.ports`` over one ``WebClient`` (its token, base URL, retries)."""

    def __init__(self, web: WebClient) -> None:
        self.web = web

    def posting_once(self) -> SlackClient:
        """The same, over a client that retries only 429s (``posting_client``)."""
        return SlackClient(posting_client(self.web))

    # --- Messages ---------------------------------------------------------------------------

    def post(self, channel: str, text: str, blocks: Blocks | None = None, *, unfurl: bool = True) -> Posted:
        extra: dict[str, Any] = {} if blocks is None else {"blocks": blocks}
        if not unfurl:
            extra.update(unfurl_links=False, unfurl_media=False)
        with _translated("chat.postMessage"):
            answer = self.web.chat_postMessage(channel=channel, text=text, **extra)
        return Posted(str(answer.get("channel") or ""), str(answer.get("ts") or ""))

    def update(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        extra: dict[str, Any] = {} if blocks is None else {"blocks": blocks}
        with _translated("chat.update"):
            self.web.chat_update(channel=channel, ts=ts, text=text, **extra)

    # --- Members ----------------------------------------------------------------------------

    def workspace_id(self) -> str:
        with _translated("auth.test"):
            return str(self.web.auth_test()["team_id"])

    def user(self, user_id: str) -> Mapping[str, Any]:
        with _translated("users.info"):
            found: Mapping[str, Any] = self.web.users_info(user=user_id)["user"]
        return found

    def user_id_by_email(self, email: str) -> str:
        with _translated("users.lookupByEmail"):
            return str(self.web.users_lookupByEmail(email=email)["user"]["id"])

    def members(self) -> Iterator[Mapping[str, Any]]:
        cursor: str | None = None
        while True:
            with _translated("users.list"):
                page = self.web.users_list(limit=USERS_PAGE, cursor=cursor)
            yield from page.get("members") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    def channel(self, channel_id: str) -> Mapping[str, Any]:
        with _translated("conversations.info"):
            found: Mapping[str, Any] = self.web.conversations_info(channel=channel_id)["channel"]
        return found

    def channel_members(self, channel_id: str, *, page: int) -> frozenset[str]:
        members: set[str] = set()
        cursor: str | None = None
        while True:
            with _translated("conversations.members"):
                answer = self.web.conversations_members(channel=channel_id, limit=page, cursor=cursor)
            members.update(answer.get("members") or [])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return frozenset(members)

    def groups(self) -> list[Mapping[str, Any]]:
        with _translated("usergroups.list"):
            return list(self.web.usergroups_list().get("usergroups") or [])

    def group_members(self, group_id: str) -> list[str]:
        users: dict[str, None] = {}
        cursor: str | None = None
        while True:  # documented without paging; a cursor, should Slack ever send one, is followed
            paging: dict[str, Any] = {"cursor": cursor} if cursor else {}
            with _translated("usergroups.users.list"):
                answer = self.web.usergroups_users_list(usergroup=group_id, **paging)
            users.update(dict.fromkeys(str(u) for u in answer.get("users") or []))
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return list(users)

    # --- Statuses (with the person's own token) ---------------------------------------------

    def status(self, token: str) -> Mapping[str, Any]:
        with _translated("users.profile.get"):
            return dict(self.web.users_profile_get(token=token).get("profile") or {})

    def set_status(self, token: str, text: str, emoji: str, expiration: int) -> None:
        profile = {"status_text": text, "status_emoji": emoji, "status_expiration": expiration}
        with _translated("users.profile.set"):
            self.web.users_profile_set(token=token, profile=profile)

    def snooze(self, token: str, minutes: int) -> None:
        with _translated("dnd.setSnooze"):
            self.web.dnd_setSnooze(token=token, num_minutes=minutes)

    def end_snooze(self, token: str) -> None:
        with _translated("dnd.endSnooze"):
            self.web.dnd_endSnooze(token=token)

    # --- Files ------------------------------------------------------------------------------

    def upload(self, channel: str, filename: str, content: bytes, *, title: str, comment: str) -> None:
        with _translated("files.uploadV2"):
            self.web.files_upload_v2(
                channels=[channel], filename=filename, content=content, title=title, initial_comment=comment
            )
