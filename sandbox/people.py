"""The demo company every simulator and the Slack stand-in share, so emails match across them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


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


@dataclass(frozen=True)
class DemoWeek:
    """Days the demo leave falls on, relative to today, so a trial always has something to show:
    ``first`` is today (or next Monday at the weekend), ``monday`` is next week's Monday."""

    first: date
    monday: date

    @classmethod
    def of(cls, today: date) -> DemoWeek:
        monday = today + timedelta(days=7 - today.weekday())
        return cls(today if today.weekday() < 5 else monday, monday)

    def next_week(self, weekday: int) -> date:
        return self.monday + timedelta(days=weekday)
