#!/usr/bin/env bash
# ./dev container: build the image and run two replicas of it on PostgreSQL (tests/deploy/test_container.py):
# by hand on this machine's PostgreSQL, and as compose.yaml's services with podman-compose.
#
# Without a reachable image registry the base is made here: debootstrap's minbase of Debian
# bookworm, imported into podman (BASE_IMAGE names another base, e.g. python:3.12-slim, to use
# that instead). PostgreSQL is the one .ci/postgres starts on this machine; the containers use
# the host's network to reach it and the test's stand-ins.
#
# --format docker: the OCI image format has no HEALTHCHECK (nor SHELL).
# This machine's container runtime may lack CAP_SYS_RESOURCE: podman then needs runc with
# rlimits it can keep (PODMAN_FLAGS below); crun fails with "setrlimit … operation not permitted".
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v podman >/dev/null 2>&1; then
  echo "container: skipped: podman is not installed (Debian: apt-get install podman debootstrap)"
  exit 0
fi
BASE=${BASE_IMAGE:-localhost/timebot-base:bookworm}
IMAGE=${TIMEBOT_IMAGE:-localhost/timebot:latest}
PODMAN_FLAGS=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

if ! podman image exists "$BASE"; then
  if [ "$BASE" = localhost/timebot-base:bookworm ]; then
    command -v debootstrap >/dev/null 2>&1 || { echo "container: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
    rootfs=$(mktemp -d)
    trap 'rm -rf "$rootfs"' EXIT
    echo "container: making the Debian base ($BASE) with debootstrap --variant=minbase"
    debootstrap --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
    tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
  else
    podman pull "$BASE"
  fi
fi

secret=()
ca=${CONTAINER_CA_BUNDLE:-${PIP_CERT:-}}
if [ -n "$ca" ] && [ -s "$ca" ]; then  # a TLS-inspecting proxy's CA, for pip inside the build
  secret=(--secret "id=ca,src=$ca")
fi
echo "container: building $IMAGE on $BASE"
podman build --format docker --network host "${PODMAN_FLAGS[@]}" "${secret[@]}" --build-arg "BASE_IMAGE=$BASE" -t "$IMAGE" .

# compose.yaml's own services too: podman-compose (Debian's podman 4.3 has no `podman compose`)
# and a PostgreSQL image from Debian's packages (the official one needs a registry).
PG_IMAGE=${POSTGRES_IMAGE:-localhost/timebot-postgres:latest}
if [ ! -x .venv/bin/podman-compose ]; then
  .venv/bin/python -m pip install --quiet podman-compose
fi
if [ "$PG_IMAGE" = localhost/timebot-postgres:latest ]; then
  echo "container: building $PG_IMAGE on $BASE"
  podman build --format docker --network host "${PODMAN_FLAGS[@]}" --build-arg "BASE_IMAGE=$BASE" -t "$PG_IMAGE" \
    deploy/postgres
fi

if [ -f .ci/postgres ]; then
  # shellcheck disable=SC1091
  source .ci/postgres
fi
TIMEBOT_CONTAINER_IMAGE="$IMAGE" TIMEBOT_CONTAINER_POSTGRES_IMAGE="$PG_IMAGE" exec .venv/bin/python -m pytest -q -p no:cacheprovider tests/deploy/test_container.py "$@"
