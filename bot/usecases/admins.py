"""Who may do admin-only things, asked of Slack at the moment it matters.

The person cache (names, time zones) lives for hours; admin rights must not: a demoted admin
keeps nothing past ``ttl`` seconds. ``TIMEBOT_ADMINS`` stays an override that needs no Slack call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection

from bot.usecases.ports import Members, SlackError

log = logging.getLogger(__name__)

ADMIN_TTL = 60.0


class AdminCheck:
    def __init__(
        self, slack: Members, overrides: Collection[str], clock: Callable[[], float], ttl: float = ADMIN_TTL
    ) -> None:
        self.slack = slack
        self.overrides = frozenset(overrides)
        self.clock = clock
        self.ttl = ttl
        self._seen: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def is_admin(self, user_id: str) -> bool:
        """Workspace admin or owner now (as of at most ``ttl`` seconds ago), or listed in TIMEBOT_ADMINS.
        When Slack can't be asked the answer is no: a refusal can be retried, a wrong yes can't be undone."""
        if user_id in self.overrides:
            return True
        now = self.clock()
        with self._lock:
            cached = self._seen.get(user_id)
        if cached is not None and 0 <= now - cached[0] < self.ttl:
            return cached[1]
        try:
            info = self.slack.user(user_id)
        except SlackError as exc:
            log.warning("users.info failed for %s while checking admin rights: %s", user_id, exc.error)
            return False
        admin = bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))
        with self._lock:
            self._seen[user_id] = (now, admin)
        return admin
