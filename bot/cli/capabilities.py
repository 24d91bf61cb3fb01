"""The vendor-by-action table in the README, generated from what each connector declares.

``python -m bot.cli.capabilities --write`` refreshes README.md; a test fails when the two disagree.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import cast

from bot.domain import Action
from bot.vendors.base import LeaveVendor, Vendor
from bot.vendors.registry import specs

START, END = "<!-- capabilities:start -->", "<!-- capabilities:end -->"
README = Path(__file__).resolve().parents[2] / "README.md"
COLUMNS = (
    Action.CLOCK,
    Action.HOURS,
    Action.WHOS_IN,
    Action.LEAVE,
    Action.LEAVE_DECISION,
    Action.CANCEL,
    Action.BALANCES,
    Action.WHOS_OFF,
    Action.HOLIDAYS,
    Action.IDENTITY,
    Action.DEPARTMENTS,
)


def connector_class(name: str) -> type[Vendor]:
    module = importlib.import_module(f"bot.vendors.{name}")
    for value in vars(module).values():
        if isinstance(value, type) and getattr(value, "name", None) == name and hasattr(value, "capabilities"):
            return value
    raise LookupError(f"bot.vendors.{name} has no connector class named {name!r}")


def _team_features(cls: type[Vendor]) -> list[str]:
    """What the managers' features get from a vendor, derived from what it declares: calendar feeds
    and the absence report are built on who's off, the morning view on who's in, the hours report
    on hours worked (one company-wide read where the connector has one), deciding in Slack on a
    documented approve/decline route (``decide_leave``), leave from typed text on leave requests
    (sent through the form's own path; its Undo is the cancel)."""
    caps = cls.capabilities
    hours = "—"
    if Action.HOURS in caps:
        hours = "company-wide" if hasattr(cls, "everyones_sessions") else "per linked person"
    typed = "—"
    if Action.LEAVE in caps:
        typed = "yes, with Undo" if Action.CANCEL in caps else "yes"
    return [
        typed,
        "yes" if Action.WHOS_OFF in caps else "—",
        "yes" if Action.WHOS_IN in caps else "—",
        hours,
        "yes" if Action.WHOS_OFF in caps else "—",
        "yes" if hasattr(cls, "decide_leave") else "link only" if Action.LEAVE_DECISION in caps else "—",
    ]


TEAM_COLUMNS = (
    "Leave from typed text",
    "Calendar feeds",
    "Team's morning (/whosin #team)",
    "Hours report",
    "Absence report",
    "Decide in Slack",
)


def capability_table() -> str:
    head = ["Vendor", *(a.phrase.capitalize() for a in COLUMNS), "Half days", *TEAM_COLUMNS, "How people are linked"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for spec in specs():
        cls = connector_class(spec.name)
        marks = ["yes" if a in cls.capabilities else "—" for a in COLUMNS]
        how = f"each person enters their {cls.link_fields[0].label}" if cls.link_fields else "by email (or an admin)"
        half = Action.LEAVE in cls.capabilities and cast(type[LeaveVendor], cls).half_days
        lines.append("| " + " | ".join([spec.label, *marks, "yes" if half else "—", *_team_features(cls), how]) + " |")
    return "\n".join(lines)


def readme_section(text: str) -> str:
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip()


def write_readme(path: Path = README) -> None:
    text = path.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    path.write_text(text[:start] + "\n" + capability_table() + "\n" + text[end:])


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_readme()
    else:
        print(capability_table())
