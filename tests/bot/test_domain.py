"""The domain's rules that several parts of the bot share: which leave kinds are sick leave."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.domain import SICK_LEAVE, SickLeave
from bot.vendors.timeclock import LEAVE_TYPES as TIMECLOCK_KINDS
from sandbox.swipeclock import SwipeClockSim
from sandbox.timetap import TimeTapSim
from sandbox.whosoff import WhosOffSim


@pytest.mark.parametrize(
    "kind",
    [
        "Sick day",
        "Sick Leave (unpaid)",
        "Illness",
        "SICK",
        "Sickness",
        "sick leave",
        "Medical leave",
        "Long-term illness",
        "Ill health",
    ],
)
def test_a_kind_is_sick_by_part_of_its_name_in_any_case(kind: str) -> None:
    assert SICK_LEAVE(kind)


@pytest.mark.parametrize(
    "kind",
    ["Annual Leave", "Vacation", "Working From Home", "Unpaid Leave", "PTO", "Holiday", "Skills training", "", None],
)
def test_other_kinds_are_not_sick(kind: str | None) -> None:
    assert not SICK_LEAVE(kind)


def test_an_operator_adds_words_and_keeps_the_built_in_ones() -> None:
    rule = Settings(TIMEBOT_SICK_LEAVE_TYPES="Doctor, Krankheit").sick_leave  # type: ignore[call-arg]
    assert rule("Doctor's appointment") and rule("KRANKHEIT") and rule("Sick day")
    assert not SICK_LEAVE("Doctor's appointment")


def test_an_empty_setting_is_the_built_in_rule() -> None:
    assert Settings(TIMEBOT_SICK_LEAVE_TYPES="").sick_leave == SickLeave()  # type: ignore[call-arg]


def every_simulated_kind() -> dict[str, list[str]]:
    """Each simulator's leave kinds as its demo company offers them (TimeClock has two fixed types)."""
    return {
        "timeclock": [t.name for t in TIMECLOCK_KINDS],
        "timetap": [r["reasonDesc"] for r in TimeTapSim.demo().reasons.values()],
        "swipeclock": [c.title() for c in SwipeClockSim.demo().categories] + list(SwipeClockSim.demo().categories),
        "whosoff": [t.name for t in WhosOffSim.demo().leave_types.values()],
    }


SICK_KINDS = {"Sick day", "Sick", "SICK", "Sickness"}


def test_every_kind_the_simulators_offer_is_classified_by_the_one_rule() -> None:
    kinds = every_simulated_kind()
    assert all(kinds.values())  # each simulator offers some
    for vendor, names in kinds.items():
        assert {n for n in names if SICK_LEAVE(n)} == {n for n in names if n in SICK_KINDS}, vendor
    assert {n for names in kinds.values() for n in names} & SICK_KINDS == SICK_KINDS  # none went missing
