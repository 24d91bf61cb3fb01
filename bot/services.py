"""What handlers get to work with: the use cases and the pool that runs them after the ack."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.usecases import Timebot
from bot.work import WorkPool
from storage.queries import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    bot: Timebot
    pool: WorkPool
    extras: dict[str, Any] = field(default_factory=dict)  # optional features (digests) register here
