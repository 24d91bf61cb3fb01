"""Fixtures for the use-case specifications (clock hygiene, hours, who's in, leave follow-up)."""

from tests.bot.usecases.followup_support import wo, wo_srv  # noqa: F401 - fixtures
from tests.bot.usecases.hygiene_support import world_factory  # noqa: F401 - a fixture
