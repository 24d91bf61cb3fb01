# Timebot: `timebot run`, configured by environment variables (README.md, "Settings").
#
#   podman build -t timebot .                                   # on python:3.12-slim
#   podman build --build-arg BASE_IMAGE=localhost/debian:bookworm -t timebot .
#
# The base is a build argument so that the same file builds where no image registry can be
# reached: any Debian-based image works, with or without Python (a Debian base without it gets
# Debian's python3 first). `./dev container` builds and runs it (deploy/container.sh).
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

SHELL ["/bin/sh", "-eu", "-c"]

# A base without Python (debootstrap's minbase) gets Debian's; python: images skip this step.
# Debian's own versions are what this step wants (security updates included), so none is pinned.
# hadolint ignore=DL3008
RUN if ! command -v python3 >/dev/null 2>&1 || ! python3 -c "import ensurepip, venv" 2>/dev/null; then \
        apt-get update; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            python3 python3-venv ca-certificates; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --system --gid 10001 timebot; \
    useradd --system --uid 10001 --gid 10001 --home-dir /data --create-home --shell /usr/sbin/nologin timebot

WORKDIR /opt/timebot/src
COPY pyproject.toml README.md manifest.yml ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY sandbox ./sandbox

# The project and its locked-down dependency ranges (pyproject.toml), with PostgreSQL's driver.
# A machine behind a TLS-inspecting proxy hands its CA bundle in as the build secret "ca".
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    python3 -m venv /opt/timebot/venv; \
    /opt/timebot/venv/bin/pip install --no-cache-dir --disable-pip-version-check ".[postgres]"; \
    cp manifest.yml /opt/timebot/venv/lib/python3*/site-packages/

ENV PATH=/opt/timebot/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite:////data/timebot.db \
    TIMEBOT_LOG_FORMAT=json \
    TIMEBOT_PORT=3000

USER 10001:10001
WORKDIR /data
EXPOSE 3000

# Liveness only: /healthz answers while the process serves HTTP. Readiness (/readyz: database,
# Slack, migrations) is for load balancers and orchestrators, which must not restart a bot
# whose database is down.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['TIMEBOT_PORT'] + '/healthz', timeout=4)"]

# `timebot run` on TIMEBOT_PORT (the container's own setting: the health check reads it too);
# arguments after the image name go to `timebot run` (`--host`, …).
ENTRYPOINT ["/bin/sh", "-c", "exec timebot run --port \"$TIMEBOT_PORT\" \"$@\"", "timebot"]
CMD []
