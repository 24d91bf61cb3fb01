"""The container: the Dockerfile lints clean, the compose file runs PostgreSQL and two replicas, and
two replicas of the built image share one PostgreSQL as deployed.

The image tests need images built by ``./dev container`` (it sets TIMEBOT_CONTAINER_IMAGE and
runs this file); elsewhere they are skipped with the reason. One runs two containers by hand on
the test's PostgreSQL; the others bring up compose.yaml's own services with podman-compose, whose
two replicas pass the deployment suite's two-replica tests (tests/deploy/due_digest.py and
tests/deploy/killed_replica.py, which test_postgres.py and test_replicas.py run on two processes)
and handle a request sent to both once.
All use the host's network, so that the stand-ins (Slack, the vendor simulators) in this process
are where the bots' environment says."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from handlers import ids
from sandbox.driver import SlackDriver
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.timeclock import TimeClockSim
from tests.bot.digests.support import postgres_url  # noqa: F401 - a fixture
from tests.deploy.due_digest import a_due_digest, both_serve_and_post_the_due_digest_once
from tests.deploy.killed_replica import a_rush, the_survivor_finishes_every_clock_in
from tests.support import BOT_TOKEN, SIGNING_SECRET, text_input

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("TIMEBOT_CONTAINER_IMAGE", "")
# This machine drops CAP_SYS_RESOURCE: crun (or runc with podman's default limits) can't set rlimits,
# runc with lower ones can. nproc counts the threads of every process of the bot's user on the host,
# both replicas' together: two bots with their default pools (TIMEBOT_WORKERS=640 each) need more
# than 1024.
PODMAN_RUN = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(
        [str(hadolint), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_timebot_run_as_a_non_root_user_with_a_health_check() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert "ARG BASE_IMAGE=python:3.12-slim" in lines
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1].split(":")[0] not in {"0", "root"}
    assert any(line.startswith("HEALTHCHECK ") for line in lines)
    assert any("/healthz" in line for line in lines)
    assert any(line.startswith("ENTRYPOINT ") and "exec timebot run" in line for line in lines)


def test_the_compose_file_runs_two_replicas_on_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    replicas = [s for name, s in services.items() if name.startswith("timebot")]
    assert len(replicas) == 2
    for replica in replicas:
        assert replica["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]


# --- the built image ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def image() -> str:
    if not shutil.which("podman"):
        pytest.skip("podman is not installed: `apt-get install podman debootstrap`, then `./dev container`")
    if not IMAGE:
        pytest.skip("no image built: `./dev container` builds it and runs this test")
    if not image_exists(IMAGE):
        pytest.skip(f"the image {IMAGE} is not in podman's store: `./dev container` builds it")
    return IMAGE


def image_exists(name: str) -> bool:
    return subprocess.run(["podman", "image", "exists", name], capture_output=True, check=False).returncode == 0


class Replica:
    def __init__(self, name: str, port: int, service: str = "") -> None:
        self.name = name
        self.port = port
        self.service = service  # compose.yaml's name for it
        self.url = f"http://127.0.0.1:{port}"

    @property
    def log(self) -> str:
        result = subprocess.run(["podman", "logs", self.name], capture_output=True, text=True, check=False)
        return result.stdout + result.stderr  # the bot logs to standard error

    def driver(self, slack: SlackStandIn) -> SlackDriver:
        return SlackDriver(self.url, slack)

    def kill(self) -> None:
        """``podman kill``: SIGKILL to the bot. Also after the container has stopped: then a no-op."""
        subprocess.run(["podman", "kill", "--signal", "KILL", self.name], capture_output=True, check=False)

    def terminate(self, timeout: float = 20.0) -> int:
        """``podman stop``: SIGTERM to the bot (the container's first process), SIGKILL after ``timeout``
        seconds; the exit code. The container stays to be read (compose's containers are not --rm)."""
        subprocess.run(["podman", "stop", "-t", str(int(timeout)), self.name], capture_output=True, check=True)
        state = subprocess.run(
            ["podman", "inspect", "--format", "{{.State.ExitCode}}", self.name],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(state.stdout.strip())


@pytest.fixture
def replicas(
    image: str,
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> Iterator[
    tuple[
        Replica,
        Replica,
        SlackStandIn,
        TimeClockSim,
        SimServer,
    ]
]:
    from cryptography.fernet import Fernet

    slack = SlackStandIn.demo(BOT_TOKEN).start()
    sim = TimeClockSim.demo()
    timeclock = SimServer(sim.handle, name="timeclock").start()
    key = Fernet.generate_key().decode()
    started: list[Replica] = []
    try:
        for n in (1, 2):
            replica = Replica(f"timebot-test-{os.getpid()}-{n}", free_port())
            env = {
                "DATABASE_URL": postgres_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.api_url,
                "TIMEBOT_SECRET_KEY": key,
                "TIMECLOCK_BASE_URL": timeclock.base_url,
                "TIMEBOT_PORT": str(replica.port),
                "TIMEBOT_METRICS": "true",
            }
            args = [f"--env={k}={v}" for k, v in env.items()]
            subprocess.run(
                [
                    "podman",
                    "run",
                    "-d",
                    "--rm",
                    "--name",
                    replica.name,
                    "--network",
                    "host",
                    *PODMAN_RUN,
                    *args,
                    image,
                    "--host",
                    "127.0.0.1",
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            started.append(replica)
        for replica in started:
            wait_healthy(replica)
        yield started[0], started[1], slack, sim, timeclock
    finally:
        for replica in started:
            subprocess.run(["podman", "stop", "-t", "20", replica.name], capture_output=True, check=False)
        timeclock.stop()
        slack.stop()


def wait_healthy(replica: Replica, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{replica.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    states = subprocess.run(
        ["podman", "ps", "-a", "--format", "{{.Names}} {{.Status}}"], capture_output=True, text=True, check=False
    ).stdout
    raise AssertionError(f"{replica.name} never answered /healthz:\n{states}\n{replica.log[-3000:]}")


@pytest.mark.timeout(300)
def test_two_replicas_of_the_image_share_postgresql_and_handle_a_request_once(
    replicas: tuple[Replica, Replica, SlackStandIn, TimeClockSim, SimServer],
) -> None:
    two_replicas_handle_a_request_once(*replicas)
    one = replicas[0]
    health = subprocess.run(["podman", "healthcheck", "run", one.name], capture_output=True, text=True, check=False)
    assert health.returncode == 0, health.stdout + health.stderr  # the image's HEALTHCHECK
    lines = one.log.splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)  # the image logs JSON lines


def two_replicas_handle_a_request_once(
    one: Replica, two: Replica, slack: SlackStandIn, sim: TimeClockSim, timeclock: SimServer
) -> None:
    """Both ready; linked through one; the same signed /clockin delivered to both clocks in once."""
    for replica in (one, two):
        ready = httpx.get(f"{replica.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["migrations"] == "head"
    # linked through one replica ...
    SlackDriver(one.url, slack).submit_view(
        ids.LINK_CALLBACK,
        {"link_pin": text_input(f"1{sim.users[1].pin}")},
        private_metadata=json.dumps({"vendor": "timeclock", "target": None}),
    )
    slack.wait_for(lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)])
    # ... the same signed /clockin delivered to both (a retry landing on the other replica): one clock-in
    driver = SlackDriver(two.url, slack)
    body, key = driver.command_body("/clockin")
    first = driver.post(body, "application/x-www-form-urlencoded")
    second = SlackDriver(one.url, slack).post(body, "application/x-www-form-urlencoded")
    assert (first.status_code, second.status_code) == (200, 200)
    assert "Clocked in" in slack.wait_response(key, timeout=30)[-1]["text"]
    time.sleep(1)
    assert len(slack.wait_response(key)) == 1
    assert len([r for r in timeclock.requests if r.method == "POST" and r.path == "/api/sessions"]) == 1


# --- compose.yaml's own services --------------------------------------------------------------

POSTGRES_IMAGE = os.environ.get("TIMEBOT_CONTAINER_POSTGRES_IMAGE", "")
# what an operator exports before `compose up`: compose.yaml reads these from the environment
EXPORTED = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL", "TIMEBOT_SECRET_KEY")


@pytest.fixture
def compose_command(image: str) -> Path:
    command = Path(sys.executable).with_name("podman-compose")
    if not command.exists() or not POSTGRES_IMAGE or not image_exists(POSTGRES_IMAGE):
        pytest.skip("podman-compose or the PostgreSQL image is missing: `./dev container` installs and builds them")
    return command


class Compose:
    """compose.yaml run with podman-compose: its PostgreSQL and its two replicas, each with the file's
    own image, command, environment, restart policy and dependencies, and the image's health check.
    What changes for the test: the host's network (ports unpublished, each service on its own free
    port, so DATABASE_URL names 127.0.0.1 and that port instead of ``postgres:5432``), the stand-ins'
    URLs, the vendor's settings the file leaves to the operator (``settings``), and a PostgreSQL image
    built from Debian's packages (no registry for the official one)."""

    project = f"timebot-compose-{os.getpid()}"

    def __init__(
        self, command: Path, image: str, tmp_path: Path, exported: Mapping[str, str], settings: Mapping[str, str]
    ) -> None:
        password = "compose-test-password"
        self.exported = {**exported, "POSTGRES_PASSWORD": password}
        pg_port = free_port()
        self.database_url = f"postgresql+psycopg://timebot:{password}@127.0.0.1:{pg_port}/timebot"
        compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
        compose["services"]["postgres"].update(image=POSTGRES_IMAGE, network_mode="host")
        compose["services"]["postgres"]["environment"]["PGPORT"] = str(pg_port)
        self.replicas: list[Replica] = []
        for name, service in compose["services"].items():
            if not name.startswith("timebot"):
                continue
            port = free_port()
            service.pop("ports")
            service.pop("build")
            service.update(image=image, network_mode="host")
            service["environment"] = dict(service["environment"])  # the anchor's one mapping: each its own
            service["environment"].update(
                settings,
                DATABASE_URL=f"postgresql+psycopg://timebot:${{POSTGRES_PASSWORD}}@127.0.0.1:{pg_port}/timebot",
                TIMEBOT_PORT=str(port),
            )
            self.replicas.append(Replica(f"{self.project}_{name}_1", port, service=name))
        file = tmp_path / "compose.yaml"
        file.write_text(yaml.safe_dump(compose))
        self.base = [str(command), "--podman-run-args", " ".join(PODMAN_RUN), "-p", self.project, "-f", str(file)]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.base, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
            env={**os.environ, **self.exported},
        )

    def up(self, *services: str) -> None:
        up = self.run("up", "-d", *services)
        assert up.returncode == 0, up.stdout + up.stderr

    def wait_for_postgres(self, timeout: float = 120) -> None:
        """Until the compose PostgreSQL takes the replicas' logins (its first start creates the cluster)."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import OperationalError

        engine = create_engine(self.database_url)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    with engine.connect() as conn:
                        conn.execute(text("SELECT 1"))
                    return
                except OperationalError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        finally:
            engine.dispose()

    def up_replicas(self) -> list[Replica]:
        """Both replicas at once, as ``compose up`` starts them, each waited for on /healthz."""
        self.up(*(replica.service for replica in self.replicas))
        for replica in self.replicas:
            wait_healthy(replica, timeout=180)
        return self.replicas


def split(env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A scenario's environment as an operator gives it to compose.yaml: what the file reads from the
    shell, and the settings (the vendor's and others) added to each replica's environment."""
    exported = {key: env[key] for key in EXPORTED}
    return exported, {key: value for key, value in env.items() if key not in EXPORTED}


@contextmanager
def composed(
    command: Path, image: str, tmp_path: Path, exported: Mapping[str, str], settings: Mapping[str, str]
) -> Iterator[Compose]:
    services = Compose(command, image, tmp_path, exported, settings)
    try:
        yield services
    finally:
        services.run("down", "-v", "-t", "20")


@pytest.mark.timeout(600)
def test_the_compose_files_two_replicas_on_its_postgresql_both_serve_and_post_a_due_digest_once(
    compose_command: Path, image: str, tmp_path: Path, secret_key: str
) -> None:
    """tests/deploy/test_postgres.py's two-replica scenario, on compose.yaml's containers."""
    with a_due_digest(secret_key) as digest:
        exported, settings = split(digest.env)
        with composed(compose_command, image, tmp_path, exported, settings) as services:
            services.up("postgres")
            services.wait_for_postgres()
            digest.seed(services.database_url)  # before the replicas start: each start-up finds the digest due
            replicas = services.up_replicas()
            for replica in replicas:  # the image's HEALTHCHECK, as podman runs it
                health = subprocess.run(
                    ["podman", "healthcheck", "run", replica.name], capture_output=True, text=True, check=False
                )
                assert health.returncode == 0, health.stdout + health.stderr
            both_serve_and_post_the_due_digest_once(digest, replicas)


@pytest.mark.timeout(600)
def test_the_compose_files_surviving_replica_finishes_every_clock_in_of_a_replica_killed_mid_rush(
    compose_command: Path, image: str, tmp_path: Path, secret_key: str
) -> None:
    """tests/deploy/test_replicas.py's scenario, on compose.yaml's containers (``podman kill`` for SIGKILL)."""
    with a_rush(secret_key) as rush:
        exported, settings = split(rush.env)
        with composed(compose_command, image, tmp_path, exported, settings) as services:
            services.up("postgres")
            services.wait_for_postgres()
            rush.seed(services.database_url)
            first, survivor = services.up_replicas()
            the_survivor_finishes_every_clock_in(rush, first, survivor)


@pytest.mark.timeout(600)
def test_the_compose_files_two_replicas_on_its_postgresql_handle_a_request_once(
    compose_command: Path, image: str, tmp_path: Path, secret_key: str
) -> None:
    slack = SlackStandIn.demo(BOT_TOKEN).start()
    sim = TimeClockSim.demo()
    timeclock = SimServer(sim.handle, name="timeclock").start()
    exported = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "TIMEBOT_SECRET_KEY": secret_key,
    }
    settings = {"TIMECLOCK_BASE_URL": timeclock.base_url}
    try:
        with composed(compose_command, image, tmp_path, exported, settings) as services:
            services.up()  # the whole file: the replicas are restarted by their policy until PostgreSQL is up
            one, two = services.replicas
            for replica in (one, two):
                wait_healthy(replica, timeout=180)
            two_replicas_handle_a_request_once(one, two, slack, sim, timeclock)
    finally:
        timeclock.stop()
        slack.stop()
