"""Fixtures for the deployment suite: stand-ins on loopback and a fresh secret key per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet

from sandbox.slack import SlackStandIn
from tests.support import BOT_TOKEN


@pytest.fixture
def secret_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn.demo(BOT_TOKEN).start()
    yield stand_in
    stand_in.stop()
