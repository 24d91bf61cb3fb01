"""Liveness, readiness and metrics routes: ``/healthz``, ``/readyz``, ``/metrics``.

``/healthz`` answers while the process can serve HTTP at all (what a container's HEALTHCHECK
and a liveness probe want: restart only what is wedged). ``/readyz`` answers 200 only when this
process can do its work: the database takes a write, Slack accepted the bot token (auth.test),
and the schema is at the migrations' head; otherwise 503 naming what is wrong. A vendor's open
circuit is shown but never makes the bot unready: the bot still answers people (that the vendor
is unavailable), and taking every replica out of a load balancer would answer nobody.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.telemetry import metrics

log = logging.getLogger(__name__)

PROBE_SECONDS = 1  # how long /readyz waits for a write lock before it says the database is locked
PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def database_takes_writes(engine: Engine) -> str | None:
    """None when the database takes a write right now, else why not. A plain ``SELECT 1`` passes
    on a write-locked or read-only database, so the probe rewrites the schema-version row (every
    migrated database has it, on SQLite and PostgreSQL alike) and rolls back, waiting for a lock
    at most PROBE_SECONDS instead of the engine's long busy timeout."""
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            if sqlite:
                previous = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0)
                conn.exec_driver_sql(f"PRAGMA busy_timeout={PROBE_SECONDS * 1000}")
            else:
                conn.execute(text(f"SET LOCAL lock_timeout = '{PROBE_SECONDS}s'"))
                conn.execute(text(f"SET LOCAL statement_timeout = '{PROBE_SECONDS * 2}s'"))
            try:
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            finally:
                conn.rollback()
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={previous}")
    except Exception as exc:  # any failure is the answer, not an error of ours
        detail = str(getattr(exc, "orig", None) or exc).lower()
        if "read-only" in detail or "readonly" in detail:
            return "read-only"
        if "lock" in detail or "timeout" in detail:
            return "write-locked"
        return "unreachable" if "connect" in detail or "unable to open" in detail else "not writable"
    return None


def migrations_at_head(engine: Engine) -> str | None:
    """None when the schema is at the newest migration this code knows, else what it is at."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    try:
        heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"
    return None if current == heads else f"at {', '.join(sorted(current)) or 'none'}, head is {', '.join(heads)}"


class SlackAuth:
    """Whether Slack accepts the bot token (``auth.test``). A pass counts for ``ttl`` seconds; a
    refusal is asked again at the next probe, so readiness comes back as soon as Slack does."""

    def __init__(self, client: Any, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self._clock = clock
        self._passed_at: float | None = None
        self._lock = threading.Lock()

    def problem(self) -> str | None:
        with self._lock:
            if self._passed_at is not None and self._clock() - self._passed_at < self.ttl:
                return None
        try:
            answer = self.client.auth_test()
        except Exception as exc:  # SlackApiError (refused), or Slack unreachable
            response = getattr(exc, "response", None)
            error = response.get("error") if response is not None else None
            return f"auth.test failed: {error or type(exc).__name__}"
        if not answer.get("ok"):
            return f"auth.test failed: {answer.get('error')}"
        with self._lock:
            self._passed_at = self._clock()
        return None


class Readiness:
    """What ``/readyz`` checks. ``slack`` None: not checked (an app without a token)."""

    def __init__(
        self,
        engine: Engine,
        slack: SlackAuth | None = None,
        vendors: Callable[[], Iterable[Any]] = metrics.live_vendors,
    ) -> None:
        self.engine = engine
        self.slack = slack
        self.vendors = vendors

    def report(self) -> tuple[bool, dict[str, Any]]:
        database = database_takes_writes(self.engine)
        readable = database != "unreachable"
        migrations = migrations_at_head(self.engine) if readable else None
        slack = self.slack.problem() if self.slack is not None else None
        problems = {k: v for k, v in (("database", database), ("migrations", migrations), ("slack", slack)) if v}
        body: dict[str, Any] = {
            "ok": not problems,
            "database": database or "ok",
            "migrations": migrations or ("head" if readable else "unknown"),
            "slack": slack or ("ok" if self.slack is not None else "not checked"),
            "vendors": self.breakers(),
        }
        if problems:
            body["reasons"] = [f"{k}: {v}" for k, v in problems.items()]
        return not problems, body

    def breakers(self) -> dict[str, str]:
        states = {0: "closed", 1: "half-open", 2: "open"}
        seen: dict[str, int] = {}
        for http in list(self.vendors()):
            name = metrics.vendor_name(http.label)
            seen[name] = max(seen.get(name, 0), metrics.breaker_state(http.breaker))
        return {name: states[state] for name, state in sorted(seen.items())}


class OpsRoutes:
    """``GET``/``HEAD`` of ``/healthz``, ``/readyz`` and (metrics on) ``/metrics``, for bot.runtime.web's servers."""

    def __init__(self, readiness: Readiness) -> None:
        self.readiness = readiness

    @staticmethod
    def serves(path: str, method: str) -> bool:
        return path in PATHS and method in {"GET", "HEAD"}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/healthz":
            return _reply(start_response, 200, b'{"ok": true}')
        if path == "/metrics":
            if not metrics.enabled():
                return _reply(start_response, 404, b"Not Found (TIMEBOT_METRICS is off)", "text/plain")
            return _reply(start_response, 200, metrics.render(), metrics.CONTENT_TYPE_LATEST)
        ready, body = self.readiness.report()
        if not ready:
            log.warning("not ready: %s", "; ".join(body["reasons"]))
        return _reply(start_response, 200 if ready else 503, json.dumps(body).encode())


_STATUS = {200: "200 OK", 404: "404 Not Found", 503: "503 Service Unavailable"}


def _reply(
    start_response: Callable[..., Any], status: int, body: bytes, content_type: str = "application/json"
) -> Iterable[bytes]:
    start_response(_STATUS[status], [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
