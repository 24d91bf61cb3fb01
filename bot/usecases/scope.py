"""Whose absences a digest or ``/whosoff`` shows: everyone, a channel's members, a Slack user
group, or a vendor department; and the Slack reads that turn a scope into people.

A scope's member list is read once per run (cached for ``SCOPE_TTL`` seconds on the injected
clock), never once per person, so a channel of 1,500 costs ceil(1500 / ``MEMBERS_PAGE``) calls."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import UserError
from bot.parse import InputError, esc, quote
from bot.usecases.ports import Members, SlackChannelGone, SlackError

MEMBERS_PAGE = 200  # conversations.members: Slack recommends no more than 200 a page
SCOPE_TTL = 60.0  # channels due at the same minute share one read; the next run reads again
_SUBTEAM = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|@?([^>]*))?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
_HANDLE = re.compile(r"^@([a-z0-9._-]{1,80})$", re.IGNORECASE)


@dataclass(frozen=True)
class Scope:
    """``kind`` is all | members | group | dept; ``ref`` the channel id, group id or department."""

    kind: str = "all"
    ref: str = ""
    label: str = ""  # a group's handle, as the admin typed it

    @property
    def everyone(self) -> bool:
        return self.kind == "all"

    def stored(self) -> str:
        return "" if self.everyone else f"{self.kind}:{self.ref}" + (f"|{self.label}" if self.label else "")

    @classmethod
    def from_stored(cls, text: str | None) -> Scope:
        if not text:
            return cls()
        kind, _, rest = text.partition(":")
        ref, _, label = rest.partition("|")
        return cls(kind, ref, label)

    def describe(self) -> str:
        """For Slack mrkdwn: a department or handle is the admin's text, escaped so that
        ``dept=<!channel>`` reads as text instead of pinging the channel it is shown in."""
        return {
            "all": "everyone",
            "members": f"members of <#{self.ref}>",
            "group": f"@{esc(self.label or self.ref)}",
            "dept": f"department {esc(self.ref)}",
        }[self.kind]


def parse_scope(token: str, channel: str | None = None) -> Scope | None:
    """``members`` (of ``channel``), ``<#C…>`` (its members), ``<!subteam^S…|@h>`` or ``@h`` (a user
    group), ``dept=NAME``; None when ``token`` is no scope."""
    raw = token.strip()
    low = raw.lower()
    if low == "members":
        if not channel:
            raise InputError("`members` needs a channel: name it, like `#design`.")
        return Scope("members", channel)
    if m := _CHANNEL.match(raw):
        return Scope("members", m.group(1))
    if m := _SUBTEAM.match(raw):
        return Scope("group", m.group(1), (m.group(2) or "").lstrip("@"))
    if m := _HANDLE.match(raw):
        return Scope("group", "", m.group(1))  # the id is looked up by handle (usergroups.list)
    if low.startswith("dept="):
        name = raw[5:].strip().strip('"')
        if not name:
            raise InputError("Name the department, like `dept=Engineering`.")
        return Scope("dept", name)
    if raw.startswith("#"):
        raise InputError(
            f"I can't tell which channel {quote(raw)} is: pick it from Slack's suggestions so it becomes a link."
        )
    return None


@dataclass(frozen=True)
class ChannelAccess:
    visible: bool
    is_private: bool = False
    is_member: bool = False


class SlackDirectory:
    """Channel members and user groups from Slack, read with paging and cached briefly."""

    def __init__(
        self, slack: Members, clock: Callable[[], float] = time.time, ttl: float = SCOPE_TTL, page: int = MEMBERS_PAGE
    ) -> None:
        self.slack = slack
        self.clock = clock
        self.ttl = ttl
        self.page = page
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def people(self, scope: Scope, *, fresh: bool = False) -> frozenset[str]:
        """The Slack user ids in a ``members`` or ``group`` scope."""
        key = scope.stored()
        with self._lock:
            cached = self._cache.get(key)
            if cached and not fresh and self.clock() - cached[0] < self.ttl:
                return cached[1]
        found = self._channel_members(scope.ref) if scope.kind == "members" else self._group(scope)
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if self.clock() - v[0] < self.ttl}
            self._cache[key] = (self.clock(), found)
        return found

    def _channel_members(self, channel: str) -> frozenset[str]:
        try:
            return self.slack.channel_members(channel, page=self.page)
        except SlackError as exc:
            raise self._refused(
                exc,
                f"the members of <#{channel}>",
                "If it's a private channel, invite me first: `/invite @Timebot`.",
            ) from None

    def _group(self, scope: Scope) -> frozenset[str]:
        group = scope.ref or self.group_id(scope.label)
        try:
            return frozenset(self.slack.group_members(group))
        except SlackError as exc:
            raise self._refused(exc, f"the user group @{scope.label or group}", "") from None

    def group_id(self, handle: str) -> str:
        try:
            groups = self.slack.groups()
        except SlackError as exc:
            raise self._refused(exc, "the user groups", "") from None
        for group in groups:
            if str(group.get("handle", "")).lower() == handle.lower():
                return str(group["id"])
        raise UserError(f"There's no user group @{handle} in this workspace.")

    def access(self, channel: str) -> ChannelAccess:
        """Whether the bot can see ``channel``, whether it is private and whether the bot is in it
        (a private channel the bot isn't in is ``channel_not_found`` to it)."""
        try:
            info = self.slack.channel(channel)
        except SlackChannelGone:
            return ChannelAccess(False)
        return ChannelAccess(True, bool(info.get("is_private")), bool(info.get("is_member")))

    @staticmethod
    def _refused(exc: SlackError, what: str, hint: str) -> UserError:
        return UserError(f"Slack wouldn't give me {what} ({exc.error}). {hint}".strip())
