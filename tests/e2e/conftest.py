"""Fixtures for the end-to-end specifications that need a controllable clock."""

from tests.bot.usecases.hygiene_support import world_factory  # noqa: F401 - a fixture
