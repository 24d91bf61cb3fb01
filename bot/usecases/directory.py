"""The Slack directory read into person rows (``users.list``): at start, hourly (housekeeping),
and before a scope is resolved that names someone the bot hasn't met yet."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from bot.usecases.people import slack_profile
from bot.usecases.ports import Members
from storage.store import Store

log = logging.getLogger(__name__)


def slack_members(slack: Members) -> Iterator[Mapping[str, Any]]:
    """Real, active people in the workspace (no bots, no deactivated accounts)."""
    for member in slack.members():
        if member.get("deleted") or member.get("is_bot") or member.get("id") == "USLACKBOT":
            continue
        yield member


def save_members(store: Store, team_id: str, members: list[Mapping[str, Any]]) -> None:
    """Person rows from Slack's directory: the one name every list shows for a person."""
    for m in members:
        profile = slack_profile(m)
        if profile is not None:
            store.save_person(team_id, m["id"], **profile)


def refresh_directory(store: Store, slack: Members) -> int:
    """Housekeeping, hourly: re-read everyone's name (and email, zone) from Slack's users.list."""
    team_id = slack.workspace_id()
    members = list(slack_members(slack))
    save_members(store, team_id, members)
    return len(members)


class Directory:
    """The Slack directory (users.list) read into person rows: at start, hourly, and before a
    scope is resolved that holds people the bot hasn't met. On vendors that match people by email,
    a channel member or group member without a row would be left out of who's off and digests.

    One read at a time; a caller arriving during a read waits for it rather than starting another.
    A scope always naming someone the directory lacks (a bot in a channel, a guest without email)
    triggers at most one read per ``min_gap`` seconds."""

    def __init__(
        self, store: Store, slack: Members, *, min_gap: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.slack = slack
        self.min_gap = min_gap
        self.clock = clock
        self._lock = threading.Lock()
        self._last_done: float | None = None

    def refresh(self) -> int:
        with self._lock:
            return self._read()

    def refresh_in_background(self, submit: Callable[[Callable[[], None]], object]) -> None:
        """The read at start, on ``submit``'s threads (the work pool: closed, and waited for, with
        the bot): who's off for a channel or group is right in the first minute, and a request
        needing it meanwhile waits for this read instead of starting its own."""
        submit(self._refresh_logged)

    def _refresh_logged(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # Slack (or the database) unreachable: the hourly run tries again
            log.warning("directory refresh failed: %s", type(exc).__name__)

    def _read(self) -> int:
        try:
            return refresh_directory(self.store, self.slack)
        finally:
            self._last_done = self.clock()

    def meet(self, team_id: str, slack_ids: Iterable[str]) -> None:
        """Make sure ``slack_ids`` have person rows (name and email) if Slack's directory has them."""
        wanted = set(slack_ids)
        if not wanted - self._known(team_id):
            return
        asked = self.clock()
        with self._lock:
            done = self._last_done
            if done is not None and (done >= asked or asked - done < self.min_gap):
                return  # read while we waited, or so lately that what's missing isn't there to read
            if not wanted - self._known(team_id):
                return
            try:
                self._read()
            except Exception as exc:  # Slack unreachable: the scope resolves with the people known
                log.warning("directory read before resolving a scope failed: %s", type(exc).__name__)

    def _known(self, team_id: str) -> set[str]:
        return {p.slack_user_id for p in self.store.people(team_id) if p.email}
