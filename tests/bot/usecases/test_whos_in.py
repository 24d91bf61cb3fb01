"""Who's in now: a company-wide vendor is read once, TimeClock per linked person; people on leave
today are listed apart."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.vendors.http import HttpPolicy
from bot.vendors.swipeclock import SwipeClock, SwipeClockSettings
from sandbox.server import SimServer
from sandbox.swipeclock import PunchLine, SwipeClockSim
from tests.conftest import make_settings
from tests.support import TEAM

LONDON = ZoneInfo("Europe/London")
NOON = datetime(2026, 7, 16, 12, 0, tzinfo=LONDON)
SECRET = "whosin-site-secret-0123456789abcdefghijklmnopqrstuvwxyz0123456789"


def test_whosin_on_timeclock_asks_each_linked_person_and_shows_leave_apart(world_factory) -> None:
    world = world_factory(NOON)
    world.link("U0ADA", 1)
    world.link("U0ALAN", 3)
    world.sim.add_session(1, NOON.timestamp() - 3 * 3600)
    world.sim.add_off_time(3, NOON.date(), NOON.date(), type_=0)
    _, key = world.bot.driver.command("/whosin")
    [reply] = world.slack.wait_response(key)
    text = "\n".join(b["text"]["text"] for b in reply["blocks"] if b.get("text"))
    assert "*Clocked in* (1)\n• Ada Lovelace since 09:00 BST" in text
    assert "*On leave today* (1)\n• Alan Turing" in text


def test_whosin_on_a_company_wide_vendor_reads_every_timecard_in_one_call(tmp_path, slack) -> None:
    from bot.runtime.app import create_app

    sim = SwipeClockSim(site_id=77, site_secret=SECRET, clock=NOON.timestamp, timezone="Europe/London")
    for n in range(120):
        sim.add_employee(f"E{n:03d}", f"P{n}", "S", f"p{n}@example.com")
    for n in range(0, 120, 2):
        sim.punches.append(PunchLine(f"E{n:03d}", datetime(2026, 7, 16, 8, 0) + timedelta(minutes=n)))
    with SimServer(sim.handle, name="swipeclock") as server:
        vendor = SwipeClock(
            SwipeClockSettings(  # type: ignore[call-arg]
                _env_file=None,
                auth_url=f"{server.base_url}/AuthenticationService/oauth2/userToken",
                api_url=f"{server.base_url}/api",
                site_id=77,
                api_secret=SECRET,
                timezone="Europe/London",
            ),
            HttpPolicy(),
            clock=NOON.timestamp,
        )
        runtime = create_app(
            make_settings(tmp_path, slack, TIMEBOT_SCHEDULER=False),
            vendors={"swipeclock": vendor},
            clock=NOON.timestamp,
        )
        try:
            runtime.services.store.save_identity(
                TEAM, "U0ADA", "swipeclock", "E000", secret_enc=None, email=None, linked_by="email"
            )
            report = runtime.services.whos_in.whos_in(TEAM, "U0ADA")
        finally:
            runtime.close()
    timecards = [r for r in server.requests if r.path.endswith("/timecards")]
    assert len(timecards) == 1 and "ids" not in timecards[0].query  # who's in: one read of everyone
    assert len(report.entries) == 60
    assert report.entries[0].slack_user_id == "U0ADA"
    assert report.entries[0].since == datetime(2026, 7, 16, 8, 0, tzinfo=LONDON)
    assert report.entries[1].name == "P2 S"


def test_whosin_shows_sick_leave_as_off_except_to_the_person_and_admins(tmp_path, slack) -> None:
    from datetime import date

    from bot.runtime.app import create_app

    sim = SwipeClockSim(site_id=77, site_secret=SECRET, clock=NOON.timestamp, timezone="Europe/London")
    sim.add_employee("E001", "Alan", "Turing", "alan@example.com")
    sim.add_time_off("E001", date(2026, 7, 16), category="Illness")
    with SimServer(sim.handle, name="swipeclock") as server:
        vendor = SwipeClock(
            SwipeClockSettings(  # type: ignore[call-arg]
                _env_file=None,
                auth_url=f"{server.base_url}/AuthenticationService/oauth2/userToken",
                api_url=f"{server.base_url}/api",
                site_id=77,
                api_secret=SECRET,
                timezone="Europe/London",
            ),
            HttpPolicy(),
            clock=NOON.timestamp,
        )
        settings = make_settings(tmp_path, slack, TIMEBOT_SCHEDULER=False)
        runtime = create_app(settings, vendors={"swipeclock": vendor}, clock=NOON.timestamp)
        try:
            runtime.services.store.save_identity(
                TEAM, "U0ALAN", "swipeclock", "E001", secret_enc=None, email=None, linked_by="email"
            )
            report = runtime.services.whos_in.whos_in(TEAM, "U0ADA")
        finally:
            runtime.close()

    def kinds(viewer: str, admin: bool = False) -> list[str | None]:
        masked = report.masked(show_kind=True, sick=settings.sick_leave, viewer=viewer, admin=admin)
        return [e.kind for e in masked.on_leave]

    assert kinds("U0ADA") == ["off"]
    assert kinds("U0ALAN") == ["Illness"]
    assert kinds("U0ADA", admin=True) == ["Illness"]
