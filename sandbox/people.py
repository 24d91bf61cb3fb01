"""The demo company every simulator and the Slack stand-in share, so emails match across them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPerson:
    slack_id: str
    name: str
    email: str
    tz: str


DEMO_TEAM_ID = "T0DEMO"

DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("U0ADA", "Ada Lovelace", "ada@example.com", "Europe/London"),
    DemoPerson("U0GRACE", "Grace Hopper", "grace@example.com", "America/New_York"),
    DemoPerson("U0ALAN", "Alan Turing", "alan@example.com", "Europe/London"),
    DemoPerson("U0KATH", "Katherine Johnson", "katherine@example.com", "America/Chicago"),
    DemoPerson("U0LINUS", "Linus Torvalds", "linus@example.com", "Europe/Helsinki"),
)
