"""``timebot run`` as operators start it: a subprocess configured by environment variables only.

No ``.env`` (the process runs in an empty folder), no ``Settings`` built in the test process, the
real console script, and real signals. The stand-ins (Slack, the vendor simulators) run in the test
process on loopback; the bot reaches them through the base URLs in its environment.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session

from handlers.ids import LINK_CALLBACK
from sandbox.slack import DEMO_TEAM_ID, SlackStandIn
from tests.support import BOT_TOKEN, SIGNING_SECRET, SlackDriver, text_input

POSTGRES_URL = os.environ.get("TIMEBOT_TEST_POSTGRES_URL")  # read at import: tests clear TIMEBOT_* variables
NO_POSTGRES = "TIMEBOT_TEST_POSTGRES_URL is not set (.ci/postgres starts PostgreSQL and sets it)"
_RUNNING = re.compile(r"Timebot is running in (?P<mode>.+?) for ")
_HTTP_PORT = re.compile(r"HTTP mode on http://[^:]+:(?P<port>\d+)/slack/events")
_ROUTES_PORT = re.compile(r"serves its OAuth routes on http://[^:]+:(?P<port>\d+)")
_HTTP_SERVER_PORT = re.compile(r"serves (?:its \w+ routes|HTTP) on http://[^:]+:(?P<port>\d+)")


def timebot_command() -> list[str]:
    """The installed ``timebot`` console script beside this interpreter (as ``./dev run`` starts it)."""
    script = Path(sys.executable).with_name("timebot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli.main"]


def slack_env(slack: SlackStandIn, tmp_path: Path, secret_key: str) -> dict[str, str]:
    """The least a deployment sets: Slack's tokens and URL, a database, the secret key."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timebot.db'}",
        "TIMEBOT_SECRET_KEY": secret_key,
    }


@dataclass
class Deployed:
    """One ``timebot run`` process; its log (stderr and stdout) goes to a file the test reads."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    port: int | None = None

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def url(self) -> str:
        assert self.port is not None, "this process serves no HTTP port"
        return f"http://127.0.0.1:{self.port}"

    def driver(self, slack: SlackStandIn) -> SlackDriver:
        """Signed deliveries to this process's ``/slack/events``."""
        return SlackDriver(self.url, slack)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM, as a deploy or ``docker stop`` sends it; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"timebot did not stop within {timeout} s of SIGTERM:\n{self.log[-3000:]}") from None

    def kill(self) -> None:
        """SIGKILL: nothing runs on the way out, as in an OOM kill or a lost node."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def start(
    env: Mapping[str, str], tmp_path: Path, *, name: str = "timebot", args: tuple[str, ...] = (), timeout: float = 45.0
) -> Deployed:
    """Start ``timebot run --port 0`` with exactly ``env`` (plus PATH and HOME) and wait until it says it
    runs; its HTTP port is read from that line. Fails with the log when it exits or stays silent."""
    return wait_running(launch(env, tmp_path, name=name, args=args), timeout)


def launch(env: Mapping[str, str], tmp_path: Path, *, name: str = "timebot", args: tuple[str, ...] = ()) -> Deployed:
    """``timebot run`` started but not waited for: several replicas launched at one moment."""
    workdir = tmp_path / name
    workdir.mkdir(exist_ok=True)
    log_path = tmp_path / f"{name}.log"
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), "PYTHONUNBUFFERED": "1", **env}
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [*timebot_command(), "--log-level", "INFO", "run", "--host", "127.0.0.1", "--port", "0", *args],
            cwd=workdir,
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return Deployed(proc, log_path)


def wait_running(deployed: Deployed, timeout: float = 45.0) -> Deployed:
    """Until ``deployed`` logs that it runs (its HTTP port read from the log), or fail with its log."""
    proc = deployed.proc
    deadline = time.monotonic() + timeout
    while True:
        log = deployed.log
        if _RUNNING.search(log):
            port = _HTTP_PORT.search(log) or _ROUTES_PORT.search(log) or _HTTP_SERVER_PORT.search(log)
            deployed.port = int(port.group("port")) if port else None
            return deployed
        if proc.poll() is not None:
            raise AssertionError(f"timebot run exited with {proc.returncode}:\n{log[-3000:]}")
        if time.monotonic() > deadline:
            deployed.kill()
            raise AssertionError(f"timebot run did not start within {timeout} s:\n{log[-3000:]}")
        time.sleep(0.05)


def run_to_end(
    env: Mapping[str, str], tmp_path: Path, *argv: str, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Another ``timebot`` command (``check``, ``digest``, ``db upgrade`` …) with exactly ``env``."""
    workdir = tmp_path / "cli"
    workdir.mkdir(exist_ok=True)
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), **env}
    return subprocess.run(
        [*timebot_command(), *argv],
        cwd=workdir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def healthy(deployed: Deployed) -> bool:
    try:
        return httpx.get(f"{deployed.url}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def link_timeclock(send: Callable[..., Any], slack: SlackStandIn, pin: str, user: str = "U0ADA") -> None:
    """Link ``user`` to TimeClock as a person does: the PIN submitted in the link modal, over HTTP
    (``driver.submit_view``) or Socket Mode (``socket_driver.submit_view``)."""
    meta = json.dumps({"vendor": "timeclock", "target": None})
    send(LINK_CALLBACK, {"link_pin": text_input(pin)}, private_metadata=meta, user=user)
    slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)], timeout=20
    )


def replies(slack: SlackStandIn, key: str, containing: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The replies posted to a command's response_url that contain ``containing``, once there is one."""
    found: list[dict[str, Any]] = slack.wait_for(
        lambda: [r for r in slack.responses[key] if containing in r.get("text", "")], timeout=timeout
    )
    return found


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL .ci/postgres started (the test skips without one), dropped after."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    base = make_url(POSTGRES_URL)
    name = f"timebot_t_{os.getpid()}_{time.time_ns() % 10**9}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        for attempt in range(10):  # an autovacuum worker (the superuser's) may be on it: FORCE can't end that
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except ProgrammingError:
                if attempt == 9:
                    raise
                time.sleep(0.5)
        admin.dispose()


def link_people(
    database_url: str,
    secret_key: str,
    people: Sequence[tuple[str, str, str]],
    vendor: str = "timeclock",
    team_id: str = DEMO_TEAM_ID,
) -> None:
    """What ``/timebot link`` leaves behind, written before the bot starts: for each (Slack id,
    vendor user id, API key), an identity with the key encrypted under ``secret_key``, and a
    profile read a day ago (UTC), on a database migrated as ``timebot run`` would."""
    from bot.crypto import SecretBox
    from storage.db import make_engine, upgrade
    from storage.models import Identity, Person, utcnow

    engine = make_engine(database_url)
    upgrade(engine)
    box = SecretBox(secret_key, [])
    try:
        with Session(engine) as s:
            for slack_id, vendor_user_id, key in people:
                s.add(
                    Person(
                        team_id=team_id,
                        slack_user_id=slack_id,
                        name=slack_id,
                        tz="UTC",
                        updated_at=utcnow() - timedelta(days=1),
                    )
                )
                s.add(
                    Identity(
                        team_id=team_id,
                        slack_user_id=slack_id,
                        vendor=vendor,
                        vendor_user_id=vendor_user_id,
                        secret_enc=box.encrypt(key),
                        linked_by="self",
                    )
                )
            s.commit()
    finally:
        engine.dispose()


def intake_rows(database_url: str) -> list[dict[str, Any]]:
    """The intake table as the bot left it (what a takeover will find)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM intake_action ORDER BY id"))]
    finally:
        engine.dispose()
