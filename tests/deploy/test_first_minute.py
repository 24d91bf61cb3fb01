"""Right from the first minute: a fresh ``timebot run`` on a vendor that matches people by email
lists, in a channel's ``members`` digest, someone who is off and has never used Timebot. The
Slack directory (names and emails) used to be read for the first time an hour after start, so
until then such a channel previewed "Everyone's in today"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.people import DEMO_PEOPLE
from sandbox.slack import SlackStandIn
from sandbox.timetap import TimeTapSim
from sandbox.whosoff import WhosOffSim
from tests.deploy.harness import slack_env, start
from tests.deploy.stand_ins import command, row_counts, running, wait_answer
from tests.support import eventually

ADMIN = "U0ADA"
CHANNEL = "<#C0NEWS|news>"
SPAN = 5  # days from today: the next working days whatever weekday the test runs on


def alan_off_on_whosoff(sim: WhosOffSim) -> None:
    alan = next(u.user_id for u in sim.users.values() if u.email_address == "alan@example.com")
    sim.add_leave(alan, sim.today(), sim.today() + timedelta(days=SPAN), leave_type="Annual Leave")


def alan_off_on_timetap(sim: TimeTapSim) -> None:
    alan = next(s for s, row in sim.staff.items() if row["emailAddress"] == "alan@example.com")
    today = datetime.now(UTC).date()
    sim.add_time_off(alan, today, today + timedelta(days=SPAN), note="Bletchley reunion")


@pytest.mark.parametrize(
    ("vendor", "sim", "off"),
    [
        ("whosoff", WhosOffSim.demo, alan_off_on_whosoff),
        ("timetap", TimeTapSim.demo, alan_off_on_timetap),
    ],
)
def test_a_members_digest_previewed_in_the_first_minute_lists_a_member_the_bot_never_met(
    tmp_path: Path,
    slack: SlackStandIn,
    secret_key: str,
    vendor: str,
    sim: Callable[[], object],
    off: Callable[[object], None],
) -> None:
    stand_in = sim()
    off(stand_in)
    slack.add_channel("C0NEWS", "news", [ADMIN, "U0ALAN"])
    with running(vendor, stand_in) as v:
        bot = start({**slack_env(slack, tmp_path, secret_key), **v.env, "TIMEBOT_ADMINS": ADMIN}, tmp_path)
        try:
            driver = bot.driver(slack)
            _, key = command(driver, "/timebot", f"digest add {CHANNEL} 09:00 members", user=ADMIN)
            wait_answer(slack, key, "members")
            _, key = command(driver, "/timebot", f"digest preview {CHANNEL}", user=ADMIN)
            assert "Alan Turing" in wait_answer(slack, key, "only you can see this")
        finally:
            assert bot.terminate() == 0, bot.log[-2000:]


def test_the_directory_is_read_at_start_without_waiting_for_a_request(
    tmp_path: Path, slack: SlackStandIn, secret_key: str
) -> None:
    with running("whosoff", WhosOffSim.demo()) as v:
        bot = start({**slack_env(slack, tmp_path, secret_key), **v.env, "TIMEBOT_SCHEDULER": "false"}, tmp_path)
        try:
            slack.wait_call("users.list", timeout=20)
            database = f"sqlite:///{tmp_path / 'timebot.db'}"
            eventually(lambda: row_counts(database)["person"] == len(DEMO_PEOPLE), timeout=20)
        finally:
            assert bot.terminate() == 0, bot.log[-2000:]
