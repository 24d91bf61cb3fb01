"""App Home is drawn whole by one function from what the use cases say (``HomeTab``): no Slack,
no services, so each part of the tab is specified here by the data that asks for it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import Absence
from bot.usecases.followup import Balances, MyLeave
from bot.usecases.home import HomeState, StatusReport
from bot.usecases.people import LinkedIdentity
from handlers import ids
from handlers.render.home import HomeAwayStatus, HomeHygiene, HomeLeave, HomeTab, home_view

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
CLOCK = LinkedIdentity("timeclock", "TimeClock", "7", "self")


def tab(status: StatusReport, **parts: Any) -> HomeTab:
    return HomeTab(HomeState(status, "TimeClock", [], None), LONDON, NOW, **parts)


def linked() -> StatusReport:
    return StatusReport([CLOCK], "TimeClock", None, None, [])


def kinds(view: dict[str, Any]) -> list[str]:
    return [b["type"] for b in view["blocks"]]


def test_each_vendor_to_link_gets_its_own_link_button() -> None:
    view = home_view(tab(StatusReport([], None, None, None, [("timeclock", "TimeClock"), ("whosoff", "WhosOff")])))
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(e["action_id"], e["text"]["text"]) for e in buttons] == [
        (ids.HOME_LINK, "Link TimeClock"),
        (ids.HOME_LINK, "Link WhosOff"),
    ]


def test_someone_not_clocked_in_gets_the_clock_in_button_and_the_time_zone_line_last() -> None:
    view = home_view(tab(linked()))
    assert kinds(view) == ["header", "section", "actions", "context"]
    assert view["blocks"][2]["elements"][0]["action_id"] == ids.HOME_CLOCK_IN
    assert view["blocks"][-1]["elements"][0]["text"] == "Times in your time zone (Europe/London). Updated 09:30 GMT."


def test_hours_and_the_clock_in_reminder_come_under_the_clock() -> None:
    view = home_view(tab(linked(), hygiene=HomeHygiene(None, None)))
    assert kinds(view) == ["header", "section", "actions", "divider", "section", "actions", "context"]
    assert view["blocks"][5]["elements"][0]["action_id"] == ids.HOME_CLOCK_IN_REMINDER


def test_the_leave_list_is_set_off_by_a_divider_under_the_clock_but_not_under_the_header() -> None:
    off = Absence("7", NOW.date(), NOW.date(), kind="Holiday", status="pending", absence_id="42")
    leave = HomeLeave(MyLeave("TimeClock", [off], True), Balances("TimeClock", None))
    under_clock = home_view(tab(linked(), leave=leave))
    alone = home_view(tab(StatusReport([], None, None, None, []), leave=leave))
    assert kinds(under_clock)[3] == "divider" and kinds(alone)[1] == "section"
    assert '"leave_cancel"' in json.dumps(alone) and json.dumps(alone).count(ids.HOME_REQUEST_LEAVE) == 1


def test_balances_alone_show_when_the_person_cannot_list_leave_yet() -> None:
    view = home_view(tab(linked(), leave=HomeLeave(None, Balances("WhosOff", None))))
    assert kinds(view)[3:6] == ["divider", "section", "context"]
    assert view["blocks"][4]["text"]["text"] == "*Your balances* (WhosOff)"
    assert view["blocks"][5]["elements"][0]["text"] == "WhosOff keeps no leave balance."


def test_no_leave_and_no_balances_add_nothing_not_even_a_divider() -> None:
    view = home_view(tab(linked(), leave=HomeLeave(None, None)))
    assert kinds(view) == ["header", "section", "actions", "context"]


def test_leave_in_the_slack_status_comes_after_the_time_zone_line() -> None:
    view = home_view(tab(linked(), away_status=HomeAwayStatus("on", "https://example.test/connect", (), False)))
    assert kinds(view) == ["header", "section", "actions", "context", "divider", "section", "actions"]
    assert view["blocks"][-1]["elements"][0]["action_id"] == ids.STATUS_DISCONNECT


def test_the_tab_never_holds_more_than_the_100_blocks_slack_takes() -> None:
    many = [(f"v{n}", f"Vendor {n}") for n in range(80)]
    view = home_view(tab(StatusReport([], None, None, None, many)))
    assert len(view["blocks"]) == 100
