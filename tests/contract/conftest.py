"""Two TimeClock servers behind one interface: the simulator, and the real bizley/timeclock server
when the environment names one.

The real server is found through two variables (``.ci/run`` sets them when it starts one):
``TIMEBOT_REAL_TIMECLOCK_URL`` (its base URL) and ``TIMEBOT_REAL_TIMECLOCK_USERS`` (a JSON file of
``[{"id", "pin", "apiKey", "email", "name"}, ...]``, at least two people). Its MariaDB socket is
``mysql.sock`` beside that file unless ``TIMEBOT_REAL_TIMECLOCK_SOCKET`` says otherwise. What the
API cannot do (approve a leave, make a project, store a holiday the server could not scrape) is
done the way the web UI would leave it, by SQL on the real server and by the simulator's admin
hooks on the simulator.

The real server keeps its data between runs: each test starts from a reset of the two people's
sessions, off-times and projects, and removes the holidays it stored.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import pytest

from sandbox.server import SimServer
from sandbox.timeclock import TimeClockSim

URL_VAR = "TIMEBOT_REAL_TIMECLOCK_URL"
USERS_VAR = "TIMEBOT_REAL_TIMECLOCK_USERS"
SOCKET_VAR = "TIMEBOT_REAL_TIMECLOCK_SOCKET"
SKIP_REASON = (
    f"no real TimeClock server: {URL_VAR} and {USERS_VAR} are not set (.ci/run sets them when it can start one)"
)


@dataclass(frozen=True)
class Person:
    id: int
    pin: str  # the whole PIN: user id then 3 digits
    api_key: str
    email: str
    name: str


class TimeClockServer(Protocol):
    kind: str
    base_url: str
    people: list[Person]

    def reset(self) -> None: ...
    def store_holiday(self, day: date) -> None: ...
    def publish_holiday(self, day: date) -> None: ...
    def drop_holidays(self, year: int) -> None: ...
    def drop_holiday(self, day: date) -> None: ...
    def decide(self, off_id: int, approved: int) -> None: ...
    def add_project(self, name: str, assignees: list[int]) -> int: ...


# The simulator's people mirror the real rig's (ids, PINs, keys, names), so one test reads the same on both.
RIG_PEOPLE = [
    Person(1, "1054", "goBnoSjSSToUTXv744iV", "ada@company.com", "Ada Lovelace"),
    Person(2, "2071", "AlanTuringKey0000071", "alan@company.com", "Alan Turing"),
]


class SimTimeClock:
    kind = "sim"

    def __init__(self, people: list[Person]) -> None:
        self.people = people
        self.sim = TimeClockSim()
        for p in people:
            self.sim.add_user(p.id, p.name, p.email, api_key=p.api_key, pin=p.pin[-3:])
        self.server = SimServer(self.sim.handle, name="timeclock").start()
        self.base_url = self.server.base_url

    def close(self) -> None:
        self.server.stop()

    def reset(self) -> None:
        pass  # a fresh simulator per test

    def store_holiday(self, day: date) -> None:
        self.sim.holidays.add((day.year, day.month, day.day))

    def publish_holiday(self, day: date) -> None:
        self.sim.add_holiday(day)  # on the public calendar: served once the year is fetched

    def drop_holidays(self, year: int) -> None:
        self.sim.holidays = {h for h in self.sim.holidays if h[0] != year}

    def drop_holiday(self, day: date) -> None:
        self.sim.holidays.discard((day.year, day.month, day.day))

    def decide(self, off_id: int, approved: int) -> None:
        self.sim.decide(off_id, approved)

    def add_project(self, name: str, assignees: list[int]) -> int:
        project_id = max(self.sim.projects, default=0) + 1
        self.sim.add_project(project_id, name, set(assignees))
        return project_id


class RealTimeClock:
    kind = "real"

    def __init__(self, base_url: str, users_file: Path, socket: Path) -> None:
        self.base_url = base_url.rstrip("/")
        self.socket = socket
        self.people = [
            Person(int(u["id"]), str(u["pin"]), str(u["apiKey"]), str(u["email"]), str(u["name"]))
            for u in json.loads(users_file.read_text())
        ]

    def sql(self, statement: str) -> str:
        done = subprocess.run(
            ["mariadb", "-S", str(self.socket), "-N", "-B", "timeclock", "-e", statement],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, f"SQL failed: {statement}\n{done.stderr}"
        return done.stdout.strip()

    def reset(self) -> None:
        ids = ",".join(str(p.id) for p in self.people)
        self.sql(
            f"DELETE FROM clock WHERE user_id IN ({ids}); DELETE FROM off WHERE user_id IN ({ids}); "
            f"UPDATE user SET project_id = NULL WHERE id IN ({ids}); "
            "DELETE FROM project WHERE name LIKE 'Contract %'"
        )

    def store_holiday(self, day: date) -> None:
        self.sql(f"INSERT IGNORE INTO holiday (year, month, day) VALUES ({day.year}, {day.month}, {day.day})")

    def publish_holiday(self, day: date) -> None:
        self.store_holiday(day)  # its fetch scrapes a public site this machine cannot reach: stored as it would be

    def drop_holidays(self, year: int) -> None:
        self.sql(f"DELETE FROM holiday WHERE year = {int(year)}")

    def drop_holiday(self, day: date) -> None:
        self.sql(f"DELETE FROM holiday WHERE year = {day.year} AND month = {day.month} AND day = {day.day}")

    def decide(self, off_id: int, approved: int) -> None:
        # the column the web UI's admin/off-approve and off-deny actions write
        self.sql(f"UPDATE off SET approved = {int(approved)}, updated_at = UNIX_TIMESTAMP() WHERE id = {int(off_id)}")

    def add_project(self, name: str, assignees: list[int]) -> int:
        # as the admin's project form saves it: assignees a JSON list of ids (the API's JSON_CONTAINS reads it)
        self.sql(
            "INSERT INTO project (name, color, assignees, status, created_at, updated_at) VALUES "
            f"('{name}', '#3366cc', '{json.dumps(assignees)}', 1, UNIX_TIMESTAMP(), UNIX_TIMESTAMP())"
        )
        return int(self.sql(f"SELECT id FROM project WHERE name = '{name}'"))


# Read once at import: the suite's autouse fixture clears TIMEBOT_* from each test's environment.
_REAL_ENV = {name: os.environ.get(name) for name in (URL_VAR, USERS_VAR, SOCKET_VAR)}


def real_timeclock() -> RealTimeClock | None:
    url, users = _REAL_ENV[URL_VAR], _REAL_ENV[USERS_VAR]
    if not url or not users:
        return None
    users_file = Path(users)
    socket = Path(_REAL_ENV[SOCKET_VAR] or users_file.with_name("mysql.sock"))
    return RealTimeClock(url, users_file, socket)


SERVERS = [pytest.param("sim", id="sim"), pytest.param("real", id="real", marks=pytest.mark.real_timeclock)]


def open_server(kind: str) -> Iterator[Any]:
    if kind == "sim":
        server = SimTimeClock(RIG_PEOPLE)
        try:
            yield server
        finally:
            server.close()
        return
    real = real_timeclock()
    if real is None:
        pytest.skip(SKIP_REASON)
    real.reset()
    try:
        yield real
    finally:
        real.reset()


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[TimeClockServer]:
    yield from open_server(request.param)
