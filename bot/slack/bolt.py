"""Bolt built from what Timebot hands it, and only for the workspaces it serves.

Bolt and slack-sdk read some environment variables by themselves when a value is not passed
(``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET`` above all: with both present, ``App`` builds its
own OAuth installation flow with a file-based installation store, drops the bot token and answers
every request with "your installation with this app is no longer available"). Timebot's settings
read the same names for its own purposes (the status consent), so those variables are legitimately
there. Every Bolt object is therefore built with the values passed explicitly *and* with those
variables hidden for the moment of construction: an explicit empty value (``""`` for "no signing
secret") is read by Bolt as "not given" and would otherwise fall back to the environment again.
Once built, Bolt reads none of them.

The gate: a request is served when its team (or, on Enterprise Grid, its enterprise) is the bot
token's own, from ``auth.test``, or one ``TIMEBOT_ALLOWED_TEAMS`` names. Any other gets one
ephemeral line and reaches no listener: no vendor call, no profile read, nothing stored.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk import WebClient

log = logging.getLogger(__name__)

# The variables slack-bolt and slack-sdk read from the environment when a value isn't passed in.
BOLT_ENVIRONMENT = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_SCOPES",
    "SLACK_USER_SCOPES",
    "SLACK_REDIRECT_URI",
    "SLACK_INSTALL_PATH",
    "SLACK_REDIRECT_URI_PATH",
    "SLACK_VERIFICATION_TOKEN",
)

FOREIGN_WORKSPACE = (
    "This Timebot serves another Slack workspace, so it doesn't answer requests from this one. "
    "Ask your Slack admin about the Timebot meant for your workspace."
)

_environment_lock = threading.Lock()


@contextmanager
def hidden_slack_environment() -> Iterator[None]:
    """Build Bolt objects inside this: the variables Bolt would read by itself are gone meanwhile
    (and put back after, so settings, ``timebot check`` and child processes still see them)."""
    with _environment_lock:
        saved = {name: os.environ.pop(name) for name in BOLT_ENVIRONMENT if name in os.environ}
        try:
            yield
        finally:
            os.environ.update(saved)


class WorkspaceGate(Authorize):
    """Bolt's ``authorize``: the bot token for requests from the workspaces this Timebot serves,
    nothing (Bolt then answers ``FOREIGN_WORKSPACE``) for any other.

    The bot's own team comes from ``auth.test``: ``timebot run`` hands it over (``know``) before it
    serves a request; otherwise the first request asks once."""

    def __init__(self, client: WebClient, allowed: Iterable[str] = ()) -> None:
        Authorize.__init__(self)  # not super(): mypy cannot exempt an untyped call through super()
        self.client = client
        self.allowed = frozenset(allowed)
        self._own: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def know(self, auth_test: Mapping[str, Any]) -> None:
        """The bot token's ``auth.test`` answer: its team, enterprise (on Grid), bot and user ids."""
        self._own = {k: auth_test.get(k) or None for k in ("team_id", "enterprise_id", "bot_id", "user_id")}

    def own(self) -> dict[str, Any]:
        if self._own is None:
            with self._lock:
                if self._own is None:
                    answer = self.client.auth_test().data
                    assert isinstance(answer, dict)  # JSON: only file downloads answer in bytes
                    self.know(answer)
        assert self._own is not None
        return self._own

    def serves(self, team_id: str | None, enterprise_id: str | None) -> bool:
        own = self.own()
        served = self.allowed | {i for i in (own["team_id"], own["enterprise_id"]) if i}
        return bool({i for i in (team_id, enterprise_id) if i} & served)

    def __call__(
        self, *, context: Any, enterprise_id: str | None, team_id: str | None, user_id: str | None, **_: Any
    ) -> AuthorizeResult | None:
        if not self.serves(team_id, enterprise_id):
            log.info(
                "refused a request from workspace %s: this Timebot serves %s",
                enterprise_id or team_id,
                self.own()["enterprise_id"] or self.own()["team_id"],
            )
            return None
        own = self.own()
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=self.client.token,
            bot_id=own["bot_id"],
            bot_user_id=own["user_id"],
            user_id=user_id,
        )


class _GateSaysWhy(logging.Filter):
    """Bolt logs an error ("the AuthorizeResult … was not found") for each request the gate turns
    away, suggesting a broken installation; the gate has already logged what happened."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Although the app should be installed into this workspace")


logging.getLogger("slack_bolt.MultiTeamsAuthorization").addFilter(_GateSaysWhy())
