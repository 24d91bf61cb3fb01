"""The container: the Dockerfile lints clean, the compose file runs PostgreSQL and two replicas, and
two replicas of the built image share one PostgreSQL as deployed.

The image tests need images built by ``./dev container`` (it sets TIMEBOT_CONTAINER_IMAGE and
runs this file); elsewhere they are skipped with the reason. One runs two containers by hand on
the test's PostgreSQL; the other brings up compose.yaml's own services with podman-compose. Both
use the host's network, so that the stand-ins (Slack, TimeClock) in this process are where the
bots' environment says."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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
from tests.support import BOT_TOKEN, SIGNING_SECRET, text_input

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("TIMEBOT_CONTAINER_IMAGE", "")
# this machine drops CAP_SYS_RESOURCE: crun (or runc with the default limits) can't set rlimits
PODMAN_RUN = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


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
    return IMAGE


class Replica:
    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def logs(self) -> str:
        result = subprocess.run(["podman", "logs", self.name], capture_output=True, text=True, check=False)
        return result.stdout + result.stderr  # the bot logs to standard error


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
                "TIMEBOT_WORKERS": "16",
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
    raise AssertionError(f"{replica.name} never answered /healthz:\n{states}\n{replica.logs()[-3000:]}")


@pytest.mark.timeout(300)
def test_two_replicas_of_the_image_share_postgresql_and_handle_a_request_once(
    replicas: tuple[Replica, Replica, SlackStandIn, TimeClockSim, SimServer],
) -> None:
    two_replicas_handle_a_request_once(*replicas)
    one = replicas[0]
    health = subprocess.run(["podman", "healthcheck", "run", one.name], capture_output=True, text=True, check=False)
    assert health.returncode == 0, health.stdout + health.stderr  # the image's HEALTHCHECK
    lines = one.logs().splitlines()
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


@pytest.fixture
def compose_replicas(
    image: str, tmp_path: Path
) -> Iterator[tuple[Replica, Replica, SlackStandIn, TimeClockSim, SimServer]]:
    """compose.yaml brought up with podman-compose: its PostgreSQL and its two replicas, each with
    the file's own environment, images, restart policy and dependencies. What changes for the test:
    the host's network (ports unpublished, each service on its own free port), the stand-ins' URLs,
    and a PostgreSQL image built from Debian's packages (no registry for the official one)."""
    compose_cmd = Path(sys.executable).with_name("podman-compose")
    if not compose_cmd.exists() or not POSTGRES_IMAGE:
        pytest.skip("podman-compose or the PostgreSQL image is missing: `./dev container` installs and builds them")
    from cryptography.fernet import Fernet

    slack = SlackStandIn.demo(BOT_TOKEN).start()
    sim = TimeClockSim.demo()
    timeclock = SimServer(sim.handle, name="timeclock").start()
    pg_port, ports = free_port(), (free_port(), free_port())
    password = "compose-test-password"
    # what an operator exports before `compose up`, as compose.yaml asks for it
    exported = {
        "POSTGRES_PASSWORD": password,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "TIMEBOT_SECRET_KEY": Fernet.generate_key().decode(),
    }
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    compose["services"]["postgres"].update(image=POSTGRES_IMAGE, network_mode="host")
    compose["services"]["postgres"]["environment"]["PGPORT"] = str(pg_port)
    replicas = []
    for (name, service), port in zip(
        ((n, s) for n, s in compose["services"].items() if n.startswith("timebot")), ports, strict=True
    ):
        service.pop("ports")
        service.pop("build")
        service.update(image=image, network_mode="host")
        service["environment"] = dict(service["environment"])  # the anchor's one mapping: each its own
        service["environment"].update(
            DATABASE_URL=f"postgresql+psycopg://timebot:${{POSTGRES_PASSWORD}}@127.0.0.1:{pg_port}/timebot",
            TIMECLOCK_BASE_URL=timeclock.base_url,
            TIMEBOT_PORT=str(port),
            TIMEBOT_WORKERS="16",
        )
        replicas.append((name, port))
    file = tmp_path / "compose.yaml"
    file.write_text(yaml.safe_dump(compose))
    project = f"timebot-compose-{os.getpid()}"
    base = [str(compose_cmd), "--podman-run-args", " ".join(PODMAN_RUN), "-p", project, "-f", str(file)]
    try:
        up = subprocess.run(
            [*base, "up", "-d"],
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
            env={**os.environ, **exported},
        )
        assert up.returncode == 0, up.stdout + up.stderr
        started = [Replica(f"{project}_{name}_1", port) for name, port in replicas]
        for replica in started:
            wait_healthy(replica, timeout=180)  # restarted by its policy until PostgreSQL takes connections
        yield started[0], started[1], slack, sim, timeclock
    finally:
        subprocess.run(
            [*base, "down", "-v", "-t", "20"],
            capture_output=True,
            check=False,
            timeout=180,
            env={**os.environ, **exported},
        )
        timeclock.stop()
        slack.stop()


@pytest.mark.timeout(600)
def test_the_compose_files_two_replicas_on_its_postgresql_handle_a_request_once(
    compose_replicas: tuple[Replica, Replica, SlackStandIn, TimeClockSim, SimServer],
) -> None:
    two_replicas_handle_a_request_once(*compose_replicas)
