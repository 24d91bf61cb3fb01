"""Every documented setting at once, each set to a valid value other than its default (where a
stand-in allows one), through the environment only: ``timebot run`` starts with all of them and
``timebot check`` finds each of the four vendors reachable with the settings given.

When a setting is added to the settings table (docs/settings.md), ``every_setting`` must set it: the first test
fails until it does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.cli.settings_doc import SETTINGS_DOC, documented_names, settings_classes
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.swipeclock import DEMO_PARTNER_ID, DEMO_PARTNER_SECRET, SwipeClockSim
from sandbox.timeclock import TimeClockSim
from sandbox.timetap import TimeTapSim
from sandbox.whosoff import SUPER_USER, WhosOffSim
from tests.deploy.harness import run_to_end, start
from tests.doubles.socket_mode import SocketModeStandIn
from tests.support import BOT_TOKEN, SIGNING_SECRET, SocketDriver

APP_TOKEN = "xapp-1-A0TIMEBOT-1-every-setting"
# Aliases the vendor's own documents use, read instead of the main name; set in test_vendor_aliases.py
ALIASES = {"WHOSOFF_ROOT", "WHOSOFF_SANDBOX_ROOT"}
SET_TO_DEFAULT = {("Settings", "scheduler_enabled")}  # set, but on: the jobs the other settings time must run


@dataclass
class Vendors:
    timeclock: TimeClockSim
    timetap: TimeTapSim
    swipeclock: SwipeClockSim
    whosoff: WhosOffSim
    urls: dict[str, str]


@pytest.fixture
def vendors() -> Iterator[Vendors]:
    sims = Vendors(TimeClockSim.demo(), TimeTapSim.demo(leave=True), SwipeClockSim.demo(), WhosOffSim.demo(), {})
    servers = {
        name: SimServer(getattr(sims, name).handle, name=name).start()
        for name in ("timeclock", "timetap", "swipeclock", "whosoff")
    }
    sims.urls = {name: server.base_url for name, server in servers.items()}
    yield sims
    for server in servers.values():
        server.stop()


@pytest.fixture
def socket(slack: SlackStandIn) -> Iterator[SocketModeStandIn]:
    """Slack's Socket Mode side, answering the stand-in's ``apps.connections.open`` for APP_TOKEN."""
    stand_in = SocketModeStandIn(APP_TOKEN).start()
    slack.enable_socket_mode(stand_in)
    yield stand_in
    stand_in.stop()


def every_setting(slack: SlackStandIn, vendors: Vendors, tmp_path: Path) -> dict[str, str]:
    tt, wo = vendors.timetap, vendors.whosoff
    wo_service = next(u for u in wo.users.values() if u.user_type_id == SUPER_USER)
    personal_reason = next(r["reasonId"] for r in tt.reasons.values() if r["reasonType"] == "PERSONAL")
    sc_url = vendors.urls["swipeclock"]
    return {
        # Slack (SLACK_APP_TOKEN: Socket Mode; the signing secret is then unused, but an operator may keep it)
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'every.db'}",
        "TIMEBOT_SECRET_KEY": Fernet.generate_key().decode(),
        "TIMEBOT_OLD_SECRET_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        "TIMEBOT_ADMINS": "U0GRACE,U0ALAN",
        "TIMEBOT_DEFAULT_TZ": "Europe/Warsaw",
        "TIMEBOT_WORKERS": "48",
        "TIMEBOT_LISTENER_THREADS": "8",
        "TIMEBOT_HTTP_THREADS": "6",
        "TIMEBOT_SOCKET_CONNECTIONS": "3",
        "TIMEBOT_SLOW_NOTICE_SECONDS": "4",
        "TIMEBOT_ACK_FIRST_SECONDS": "1.5",
        "TIMEBOT_SHOW_LEAVE_KIND": "false",
        "TIMEBOT_SCHEDULER": "true",  # on, so the job settings below are read by running jobs
        "TIMEBOT_SICK_LEAVE_TYPES": "doctor,dentist",
        "TIMEBOT_ALLOWED_TEAMS": "T0PARTNER,E0GRID",
        "TIMEBOT_METRICS": "true",
        "TIMEBOT_LOG_FORMAT": "json",
        "TIMEBOT_READYZ_SLACK_SECONDS": "45",
        "TIMEBOT_TAKEOVER_SECONDS": "20",
        "TIMEBOT_RESUME_WITHIN": "10",
        "TIMEBOT_CLOCKOUT_REMINDER_HOURS": "9",
        "TIMEBOT_AUTO_CLOCKOUT_HOURS": "14",
        "TIMEBOT_QUIET_HOURS": "22:00-06:30",
        "TIMEBOT_HYGIENE_CHECK_SECONDS": "60",
        "TIMEBOT_SESSION_SWEEP_MINUTES": "15",
        "TIMEBOT_LEAVE_POLL_SECONDS": "120",
        "TIMEBOT_LEAVE_APPROVERS": "U0GRACE",
        "TIMEBOT_APPROVAL_REMIND_HOURS": "12",
        "TIMEBOT_LEAVE_BACKDATE_DAYS": "7",
        "TIMEBOT_DATE_ORDER": "mdy",
        "WHOSOFF_WEBHOOK_SECRET": "webhook-secret-for-the-deploy-suite",
        "WHOSOFF_WEBHOOK_HEADER": "X-Webhook-Signature",
        "TIMEBOT_PUBLIC_URL": "https://timebot.example.com",
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "client-secret-for-the-deploy-suite",
        "TIMEBOT_LEAVE_STATUSES": "sick=:face_with_thermometer: Off sick;*=:desert_island: Away",
        "TIMEBOT_LEAVE_DND": "true",
        "TIMEBOT_LEAVE_STATUS_POLL_SECONDS": "60",
        "TIMEBOT_HTTP_CONNECT_TIMEOUT": "2",
        "TIMEBOT_HTTP_READ_TIMEOUT": "8",
        "TIMEBOT_HTTP_MAX_RETRIES": "1",
        "TIMEBOT_BREAKER_FAILURES": "3",
        "TIMEBOT_BREAKER_COOLDOWN": "20",
        "TIMEBOT_TIMECLOCK_CONCURRENCY": "40",
        "TIMEBOT_TIMETAP_CONCURRENCY": "30",
        "TIMEBOT_SWIPECLOCK_CONCURRENCY": "20",
        "TIMEBOT_WHOSOFF_CONCURRENCY": "10",
        # each action somewhere other than where it would go by default
        "TIMEBOT_CLOCK_VENDOR": "swipeclock",
        "TIMEBOT_LEAVE_VENDOR": "whosoff",
        "TIMEBOT_WHOSOFF_VENDOR": "timetap",
        "TIMEBOT_HOLIDAYS_VENDOR": "whosoff",
        "TIMEBOT_IDENTITY_VENDOR": "swipeclock",
        # TimeClock
        "TIMECLOCK_BASE_URL": vendors.urls["timeclock"],
        "TIMECLOCK_TIMEZONE": "Europe/Warsaw",
        "TIMECLOCK_SERVICE_USER_ID": "1",
        "TIMECLOCK_SERVICE_API_KEY": vendors.timeclock.users[1].api_key,
        "TIMECLOCK_CONCURRENCY": "4",
        # TimeTap
        "TIMETAP_BASE_URL": vendors.urls["timetap"],
        "TIMETAP_ENVIRONMENT": "test",
        "TIMETAP_API_KEY": str(tt.api_key),
        "TIMETAP_PRIVATE_KEY": tt.private_key,
        "TIMETAP_LEAVE_REASON_ID": str(personal_reason),
        # SwipeClock, signed with the partner's secret
        "SWIPECLOCK_AUTH_URL": f"{sc_url}/AuthenticationService/oauth2/userToken",
        "SWIPECLOCK_API_URL": f"{sc_url}/api",
        "SWIPECLOCK_SITE_ID": str(vendors.swipeclock.site_id),
        "SWIPECLOCK_API_SECRET": DEMO_PARTNER_SECRET,
        "SWIPECLOCK_PARTNER_ID": str(DEMO_PARTNER_ID),
        "SWIPECLOCK_TIMEZONE": "America/Chicago",
        "SWIPECLOCK_ACT_AS_EMPLOYEE": "false",
        "SWIPECLOCK_LEAVE_REQUESTS": "true",
        "SWIPECLOCK_HOURS_PER_DAY": "7.5",
        "SWIPECLOCK_TOKEN_LIFETIME": "180",
        "SWIPECLOCK_REFRESH_MARGIN": "30",
        "SWIPECLOCK_PAGE_SIZE": "25",
        # WhosOff, pointed at its sandbox root (the simulator); the live root is never called
        "WHOSOFF_BASE_URL": "https://whosoff-live.invalid",
        "WHOSOFF_SANDBOX_URL": vendors.urls["whosoff"],
        "WHOSOFF_USE_SANDBOX": "true",
        "WHOSOFF_API_VERSION": "/v4/",  # the default, spelt as a path: the simulator serves only v4
        "WHOSOFF_APP_ID": wo.app_id,
        "WHOSOFF_CLIENT_SECRET": wo.client_secret,
        "WHOSOFF_USERNAME": wo_service.email_address,
        "WHOSOFF_PASSWORD": wo_service.password,
        "WHOSOFF_IP_ADDRESS": "127.0.0.1",
        "WHOSOFF_REFRESH_MARGIN_SECONDS": "60",
        "WHOSOFF_TIMEZONE": "Europe/Dublin",
        "WHOSOFF_MAX_RANGE_DAYS": "180",
        "WHOSOFF_LEAVE_TYPE_STATUS_ID": "99",
        "WHOSOFF_APPROVAL_URL": "https://whosoff.example.com/approvals",
    }


def test_every_documented_setting_is_set_by_this_suite(tmp_path: Path, slack: SlackStandIn, vendors: Vendors) -> None:
    missing = documented_names(SETTINGS_DOC.read_text()) - ALIASES - set(every_setting(slack, vendors, tmp_path))
    assert missing == set(), "documented in docs/settings.md but not set by every_setting()"


def test_each_setting_reaches_its_own_field(
    tmp_path: Path, slack: SlackStandIn, vendors: Vendors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read as the bot reads them (no process: quick, and it names the field): every value above
    lands in the field its name documents, so no documented name is silently ignored."""
    defaults = {model: model(_env_file=None) for _, model in settings_classes()}  # type: ignore[call-arg]
    for name, value in every_setting(slack, vendors, tmp_path).items():
        monkeypatch.setenv(name, value)
    unchanged = [
        f"{model.__name__}.{field}"
        for model, default in defaults.items()
        for field, value in model(_env_file=None).model_dump().items()  # type: ignore[call-arg]
        if value == getattr(default, field) and (model.__name__, field) not in SET_TO_DEFAULT
    ]
    assert unchanged == []


def test_timebot_runs_with_every_setting_from_the_environment(
    tmp_path: Path, slack: SlackStandIn, vendors: Vendors, socket: SocketModeStandIn
) -> None:
    env = every_setting(slack, vendors, tmp_path)
    bot = start(env, tmp_path)
    try:
        assert "Timebot is running in Socket Mode (3 connections)" in bot.log, bot.log[-2000:]
        for routed in (
            "clocking in and out → SwipeClock",
            "who's off → TimeTap",
            "public holidays → WhosOff",
            "matching people by email → SwipeClock",
        ):
            assert routed in bot.log
        socket.wait_connected(timeout=20, count=3)
        # the status consent's browser routes and /healthz, on --port beside Socket Mode
        assert httpx.get(f"{bot.url}/healthz", timeout=5).status_code == 200
        consent = httpx.get(f"{bot.url}/slack/oauth/start", timeout=5)
        assert consent.status_code in (200, 302)
    finally:
        code = bot.terminate()
    assert code == 0, bot.log[-2000:]
    for secret in (
        env["TIMEBOT_SECRET_KEY"],
        env["SLACK_CLIENT_SECRET"],
        env["WHOSOFF_WEBHOOK_SECRET"],
        env["TIMETAP_PRIVATE_KEY"],
        env["SWIPECLOCK_API_SECRET"],
        env["WHOSOFF_PASSWORD"],
        APP_TOKEN,
    ):
        assert secret not in bot.log


def test_timebot_check_reaches_every_vendor_with_every_setting(
    tmp_path: Path, slack: SlackStandIn, vendors: Vendors, socket: SocketModeStandIn
) -> None:
    result = run_to_end(every_setting(slack, vendors, tmp_path), tmp_path, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Slack: ok" in result.stdout, result.stdout
    for label in ("TimeClock", "TimeTap", "SwipeClock", "WhosOff"):
        assert f"{label}: ok" in result.stdout, result.stdout


def test_a_command_is_answered_with_every_setting(
    tmp_path: Path, slack: SlackStandIn, vendors: Vendors, socket: SocketModeStandIn
) -> None:
    bot = start(every_setting(slack, vendors, tmp_path), tmp_path)
    try:
        socket.wait_connected(timeout=20, count=3)
        ack, key = SocketDriver(slack, socket).command("/timebot", "help")
        reply = json.dumps(ack.payload) if ack.payload else slack.wait_response(key, timeout=20)[-1]["text"]
        assert "reinstall" not in reply
        assert "/timeoff" in reply
    finally:
        assert bot.terminate() == 0, bot.log[-2000:]
