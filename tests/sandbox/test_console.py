"""``timebot console``: the real bot against the Slack stand-in and a vendor sandbox with demo data,
driven by typed (or piped) slash commands over signed HTTP, its replies printed as text."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from sandbox.console import Console
from sandbox.timeclock import TimeClockSim
from sandbox.whosoff import WhosOffSim
from tests.support import next_monday

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())

# Who the demo data puts on leave this week (today, or next Monday at the weekend), per vendor.
OFF_THIS_WEEK = {
    "timeclock": "Grace Hopper",
    "whosoff": "Linus Torvalds",
    "timetap": "Grace Hopper",
    "swipeclock": "Alan Turing",
}


def console_run(lines: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TIMEBOT_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "console", *args],
        input=lines,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=90,
        check=False,
    )


@pytest.fixture
def console(request: pytest.FixtureRequest) -> Iterator[tuple[Console, io.StringIO]]:
    """Ada at a console; ``vendor`` from the test's parameters, typed answers from the fixture's."""
    params = request.node.callspec.params if hasattr(request.node, "callspec") else {}
    answers = iter(getattr(request, "param", ()))
    out = io.StringIO()
    started = Console(params.get("vendor", "timeclock"), "ada", out, ask=lambda prompt: next(answers, None)).start()
    yield started, out
    started.close()


def test_piped_clockin_whosoff_and_status_print_a_confirmation_a_list_and_a_status() -> None:
    result = console_run("/clockin\n/whosoff week\n/timebot status\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ":large_green_circle: Clocked in at" in out
    assert "Who's off" in out and OFF_THIS_WEEK["timeclock"] in out
    assert "Your Timebot status" in out and "TimeClock: user 1 (linked by you)" in out
    assert "Traceback" not in out + result.stderr
    assert " INFO " not in out and " WARNING " not in out  # logs go to a file, not into the conversation


def test_an_answer_given_in_the_ack_ends_the_wait_at_once() -> None:
    result = console_run("/timebot help\n/whosoff 2026-13-01\n/timebot frobnicate\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "`/clockin [project]`" in out
    assert "“2026-13-01” isn't a real date." in out
    assert "I don't know `/timebot frobnicate`" in out
    assert "(no answer from the bot)" not in out  # the ack was the answer: nothing more to wait for


def test_help_a_bad_date_and_timeoff_list_piped_print_three_answers() -> None:
    result = console_run("/timebot help\n/whosoff 2026-13-01\n/timeoff list\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "`/clockin [project]`" in out and "isn't a real date" in out
    assert "*Your leave* (TimeClock)" in out  # the bot's list: the text went through unchanged
    assert "(no answer from the bot)" not in out and "Give the days as" not in out


def test_home_on_swipeclock_shows_its_balances_in_hours() -> None:
    result = console_run("/home\n", "--vendor", "swipeclock")
    assert result.returncode == 0, result.stderr
    assert "PTO: 80 h left" in result.stdout and "80.0" not in result.stdout


def test_home_on_timetap_opens_with_the_leave_not_an_empty_section() -> None:
    result = console_run("/home\n", "--vendor", "timetap")
    lines = result.stdout.splitlines()
    header = lines.index("  == Timebot ==")
    assert lines[header + 1].strip() == "*Your leave* (TimeTap)"


@pytest.mark.parametrize("vendor", ["timeclock", "whosoff", "timetap", "swipeclock"])
def test_whosoff_week_lists_demo_people_for_each_vendor(vendor: str, console: tuple[Console, io.StringIO]) -> None:
    bot, out = console
    bot.line("/whosoff week")
    assert OFF_THIS_WEEK[vendor] in out.getvalue()
    assert "Everyone's in" not in out.getvalue()


def test_the_timeoff_shortcut_fills_and_sends_the_real_form_as_the_person_switched_to() -> None:
    out = io.StringIO()
    bot = Console("whosoff", "ada", out).start()
    try:
        monday = next_monday() + timedelta(days=7)
        bot.line("/as katherine")
        bot.line(f"/timeoff {monday}..{monday + timedelta(days=1)} half-end sickness")
        sim = bot.sim
        assert isinstance(sim, WhosOffSim)
        katherine = next(u.user_id for u in sim.users.values() if u.email_address == "katherine@example.com")
        mine = [leave for leave in sim.leave.values() if leave.user_id == katherine]
    finally:
        bot.close()
    text = out.getvalue()
    assert "You are now Katherine Johnson" in text
    assert ":face_with_thermometer: Leave requested in WhosOff" in text and "1.5 working days" in text
    assert any(sim.leave_types[leave.leave_type_id].name == "Sickness" for leave in mine)


MONDAY = next_monday().isoformat()


@pytest.mark.parametrize("console", [["", MONDAY, "", MONDAY, "", "family visit"]], indirect=True)
def test_a_form_is_shown_as_its_fields_and_filled_in_field_by_field(console: tuple[Console, io.StringIO]) -> None:
    bot, out = console
    bot.line("/timeoff")
    text = out.getvalue()
    assert "[Form: Request leave]" in text and "Type of leave: Vacation" in text and "[Request]" in text
    assert "Leave requested in TimeClock" in text and "1 working day" in text  # Monday, full day
    sim = bot.sim
    assert isinstance(sim, TimeClockSim)
    assert any(off["note"] == "family visit" for off in sim.off_times.values())


def test_the_sandboxes_start_empty_unless_asked_for_demo_leave() -> None:
    assert not TimeClockSim.demo().off_times and not TimeClockSim.demo().calendar
    demo = TimeClockSim.demo(leave=True)
    assert len(demo.off_times) >= 3 and demo.calendar and not demo.holidays  # served once fetched, as on the server
    for year in {y for (y, _m, _d) in demo.calendar}:
        demo.fetch_holidays(year)
    assert demo.holidays == demo.calendar


# --- the console shows an employee's view, and what approvers get ------------------------------


def test_only_ada_is_an_admin_so_the_others_see_what_employees_see() -> None:
    out = console_run("/timebot digest list\n/as alan\n/timebot digest list\n").stdout
    ada, alan = out.split("You are now Alan Turing.")
    assert "Only Timebot admins" not in ada
    assert "Only Timebot admins can do that" in alan


def test_help_lists_every_command() -> None:
    out = console_run("/help\n").stdout
    for command in (
        "/clockin",
        "/clockout",
        "/whosin",
        "/timeoff list",
        "/whosoff",
        "/timebot hours",
        "/timebot status",
        "/timebot link",
        "/timebot unlink",
        "/timebot digest",
        "/home",
        "/as",
        "/tick",
    ):
        assert command in out, command


def test_a_user_group_and_a_channel_typed_as_at_and_hash_scope_whosoff() -> None:
    out = console_run("/whosoff week @backend\n/whosoff week #team\n").stdout
    assert "Showing @backend." in out
    assert "Showing members of" in out
    assert "isn't a" not in out and "can't tell which channel" not in out


def test_the_approver_gets_a_dm_and_a_reminder_on_tick() -> None:
    day = next_monday() + timedelta(days=7)
    out = console_run(f"/timeoff {day}\n/as grace\n/tick\n").stdout
    assert "(DM to Grace Hopper) *@Ada Lovelace* asks for *Vacation*" in out
    assert ":bell: 1 leave request(s) still wait for your decision." in out
