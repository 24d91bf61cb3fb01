"""Fixtures for the use-case specifications (clock hygiene, hours, who's in)."""

from tests.bot.usecases.hygiene_support import world_factory  # noqa: F401 - a fixture
