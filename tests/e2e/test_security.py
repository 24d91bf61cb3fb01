"""Security, end to end: signed requests only, keys encrypted at rest and rotatable, no secret in any log.

Everything runs over real HTTP against the simulators; nothing of the bot's own is mocked. Admin-only
commands refusing others are specified where those commands are: tests/bot/usecases/test_people.py (link someone else)
and tests/bot/digests/test_commands.py (digest add), both checking the refusal is logged or audited.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError
from bot.crypto import SecretBox
from bot.vendors.timetap import signature as tt_signature
from handlers import ids
from sandbox.server import Response, SimServer
from sandbox.slack import SlackStandIn
from sandbox.swipeclock import SwipeClockSim
from sandbox.timeclock import TimeClockSim
from sandbox.timetap import TimeTapSim
from sandbox.whosoff import WhosOffSim
from tests.conftest import SECRET_KEY, BotUnderTest, make_settings, start_bot, timeclock_vendor
from tests.support import BOT_TOKEN, SIGNING_SECRET, datepicker, select, signature, text_input

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
FORM = "application/x-www-form-urlencoded"


def link_with_pin(bot: BotUnderTest, slack: SlackStandIn, pin: str, user: str = "U0ADA") -> None:
    """The real flow: `/timebot link` → modal → the person types their PIN → TimeClock hands over a key."""
    meta = json.dumps({"vendor": "timeclock", "target": None})
    response = bot.driver.submit_view(
        ids.LINK_CALLBACK, {"link_pin": text_input(pin)}, user=user, private_metadata=meta
    )
    assert response.status_code == 200
    slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update") if "linked to TimeClock" in json.dumps(c.args)], timeout=20
    )


def link_directly(bot: BotUnderTest, user: str, pin: str) -> None:
    services = bot.runtime.services
    services.people.link(services.people.actor("T0DEMO", user), "timeclock", {"pin": pin})


def sessions_posted(server: SimServer) -> list:
    return [r for r in server.requests if r.method == "POST" and r.path == "/api/sessions"]


def db_bytes(tmp_path: Path, name: str = "timebot.db") -> bytes:
    """The database file and any journal beside it: everything SQLite has written to disk."""
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob(f"{name}*")))


# --- signed requests only ---------------------------------------------------------------------


@dataclass
class Tampered:
    name: str
    secret: str = SIGNING_SECRET
    age: float = 0.0
    altered_body: bool = False


TAMPERINGS = [
    Tampered("signed with the wrong secret", secret="not-the-signing-secret"),
    Tampered("signed six minutes ago (a replay)", age=360),
    Tampered("dated six minutes in the future", age=-360),
    Tampered("body altered after signing", altered_body=True),
]


@pytest.mark.parametrize("tampered", TAMPERINGS, ids=[t.name for t in TAMPERINGS])
def test_a_forged_or_replayed_request_gets_401_and_does_nothing(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer, tampered: Tampered
) -> None:
    link_directly(bot, "U0ADA", f"1{tc_sim.users[1].pin}")
    tc_server.requests.clear()
    body, key = bot.driver.command_body("/clockin", "support")
    ts = str(int(time.time() - tampered.age))
    sent = body.replace("text=support", "text=website") if tampered.altered_body else body
    response = bot.driver.http.post(
        bot.driver.url,
        content=sent.encode(),
        headers={
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature(tampered.secret, ts, body),
        },
    )
    assert response.status_code == 401
    # a genuine request queued behind it is answered, so anything the forged one set going has run by now
    _, control = bot.driver.command("/clockin", user="U0ALAN")
    assert "/timebot link" in slack.wait_response(control, timeout=20)[-1]["text"]
    time.sleep(0.3)
    assert not tc_server.requests
    assert not tc_sim.running_sessions(1)
    assert slack.responses[key] == []
    assert not slack.calls_to("chat.postMessage")
    trigger = parse_qs(body)["trigger_id"][0]
    assert bot.runtime.services.store.claim_request(f"cmd:T0DEMO:{trigger}"), "the bot never even saw it"


@pytest.mark.parametrize("body", ["{not json", "payload=not-json", "payload=%5B1%2C2%5D", "[1,2,3]"])
def test_a_body_slack_would_never_send_gets_400_signed_and_401_unsigned_without_a_traceback(
    bot: BotUnderTest, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    ctype = "application/json" if body.startswith(("{", "[")) else FORM
    signed = bot.driver.post(body, ctype)
    forged = bot.driver.post(body, ctype, secret="not-the-signing-secret")
    assert (signed.status_code, forged.status_code) == (400, 401)
    assert not [r for r in caplog.records if r.exc_info]


def test_a_correctly_signed_request_four_minutes_old_is_accepted(
    bot: BotUnderTest, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer
) -> None:
    link_directly(bot, "U0ADA", f"1{tc_sim.users[1].pin}")
    response, key = bot.driver.command("/clockin", timestamp=time.time() - 240)
    assert response.status_code == 200
    assert "Clocked in" in slack.wait_response(key, timeout=20)[-1]["text"]
    assert len(sessions_posted(tc_server)) == 1
    assert len(tc_sim.running_sessions(1)) == 1


# --- vendor keys at rest ----------------------------------------------------------------------


def timebot_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timebot.db'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stored_secret(tmp_path: Path) -> str:
    with sqlite3.connect(tmp_path / "timebot.db") as db:
        return db.execute("select secret_enc from identity where vendor = 'timeclock'").fetchone()[0]


@pytest.fixture
def linked_then_closed(tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer) -> str:
    """Ada linked her TimeClock account through the PIN modal; the bot has since stopped.
    Returns the API key TimeClock handed over for her."""
    bot = start_bot(make_settings(tmp_path, slack), slack, {"timeclock": timeclock_vendor(tc_server.base_url)})
    try:
        link_with_pin(bot, slack, f"1{tc_sim.users[1].pin}")
    finally:
        bot.close()
    return str(tc_sim.users[1].api_key)


def test_keys_rotate_re_encrypts_stored_keys_so_the_bot_works_with_only_the_new_key(
    tmp_path: Path, slack: SlackStandIn, tc_sim: TimeClockSim, tc_server: SimServer, linked_then_closed: str
) -> None:
    api_key = linked_then_closed
    before = stored_secret(tmp_path)
    assert api_key.encode() not in db_bytes(tmp_path)
    new_key = Fernet.generate_key().decode()

    result = timebot_cli(tmp_path, "keys", "rotate", TIMEBOT_SECRET_KEY=new_key, TIMEBOT_OLD_SECRET_KEYS=SECRET_KEY)

    assert result.returncode == 0, result.stderr
    assert "re-encrypted 1 stored credentials" in result.stdout
    after = stored_secret(tmp_path)
    assert after != before
    assert SecretBox(new_key).decrypt(after) == api_key
    assert api_key.encode() not in db_bytes(tmp_path)
    bot = start_bot(
        make_settings(tmp_path, slack, TIMEBOT_SECRET_KEY=new_key),
        slack,
        {"timeclock": timeclock_vendor(tc_server.base_url)},
    )
    try:
        _, key = bot.driver.command("/clockin")
        assert "Clocked in" in slack.wait_response(key, timeout=20)[-1]["text"]
    finally:
        bot.close()
    assert len(tc_sim.running_sessions(1)) == 1
    assert tc_sim.rejected_auth == 0


def test_after_rotation_the_old_key_alone_cannot_read_the_stored_keys_and_says_so(
    tmp_path: Path,
    slack: SlackStandIn,
    tc_sim: TimeClockSim,
    tc_server: SimServer,
    linked_then_closed: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    new_key = Fernet.generate_key().decode()
    rotated = timebot_cli(tmp_path, "keys", "rotate", TIMEBOT_SECRET_KEY=new_key, TIMEBOT_OLD_SECRET_KEYS=SECRET_KEY)
    assert rotated.returncode == 0, rotated.stderr

    again = timebot_cli(tmp_path, "keys", "rotate", TIMEBOT_SECRET_KEY=SECRET_KEY)

    assert again.returncode == 1
    assert "1 could not be decrypted" in again.stdout
    assert "Traceback" not in again.stderr
    with pytest.raises(ValueError, match="cannot be decrypted with TIMEBOT_SECRET_KEY"):
        SecretBox(SECRET_KEY).decrypt(stored_secret(tmp_path))
    tc_server.requests.clear()
    with pytest.raises(ConfigError, match="TIMEBOT_OLD_SECRET_KEYS"):  # it opens none of them: no start
        start_bot(make_settings(tmp_path, slack), slack, {"timeclock": timeclock_vendor(tc_server.base_url)})
    with sqlite3.connect(tmp_path / "timebot.db") as db:  # someone linked since: the bot starts for them
        db.execute(
            "insert into identity (team_id, slack_user_id, vendor, vendor_user_id, secret_enc, linked_by, "
            "created_at, updated_at) values ('T0DEMO', 'U0ALAN', 'timeclock', '3', ?, 'self', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            (SecretBox(SECRET_KEY).encrypt("k"),),
        )
    bot = start_bot(make_settings(tmp_path, slack), slack, {"timeclock": timeclock_vendor(tc_server.base_url)})
    try:
        _, key = bot.driver.command("/clockin")
        answer = slack.wait_response(key, timeout=20)[-1]
    finally:
        bot.close()
    assert answer["response_type"] == "ephemeral" and "Nothing was changed" in answer["text"]
    assert "link again with `/timebot link`" in answer["text"]
    failures = [r for r in caplog.records if r.exc_info and "cannot be decrypted" in str(r.exc_info[1])]
    assert failures, "the log tells the operator why"
    assert not sessions_posted(tc_server)
    assert not tc_sim.running_sessions(1)


# --- the log scan -----------------------------------------------------------------------------


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class EveryLogRecord:
    """Every logger at DEBUG (root, httpx, httpcore, urllib3, slack_sdk, slack_bolt, waitress …) and
    every record kept, including those of loggers that do not propagate to the root."""

    keep: _Keep = field(default_factory=_Keep)
    saved: dict[logging.Logger, tuple[int, bool]] = field(default_factory=dict)

    @property
    def records(self) -> list[logging.LogRecord]:
        return self.keep.records

    def sweep(self) -> None:
        """Call again after something (Bolt's App) has made new loggers."""
        root = logging.getLogger()
        existing = [lg for lg in list(logging.Logger.manager.loggerDict.values()) if isinstance(lg, logging.Logger)]
        names = ("httpx", "httpcore", "urllib3", "slack_sdk", "slack_bolt", "waitress", "bot", "handlers", "storage")
        for lg in [root, *existing, *(logging.getLogger(n) for n in names)]:
            self.saved.setdefault(lg, (lg.level, lg.disabled))
            lg.setLevel(logging.DEBUG)
            lg.disabled = False
            if (lg is root or not lg.propagate) and self.keep not in lg.handlers:
                lg.addHandler(self.keep)

    def restore(self) -> None:
        for lg, (level, disabled) in self.saved.items():
            lg.removeHandler(self.keep)
            lg.setLevel(level)
            lg.disabled = disabled


@pytest.fixture
def every_log_record() -> Iterator[EveryLogRecord]:
    capture = EveryLogRecord()
    disabled = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    capture.sweep()
    try:
        yield capture
    finally:
        capture.restore()
        logging.disable(disabled)


def everything_in(record: logging.LogRecord) -> str:
    """The message, its arguments (formatted and raw), any exception and stack, and every extra field."""
    parts = [str(record.msg), repr(record.args)]
    try:
        parts.append(record.getMessage())
    except Exception as exc:  # a malformed record still gets scanned through its parts
        parts.append(repr(exc))
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(record.exc_info[1])))
        parts.extend(repr(a) for a in record.exc_info[1].args)
    parts.extend(str(x) for x in (record.exc_text, record.stack_info) if x)
    parts.extend(repr(v) for k, v in vars(record).items() if k not in {"msg", "args", "exc_info"})
    return "\n".join(parts)


def leaked(records: Iterable[logging.LogRecord], secrets: dict[str, str]) -> list[str]:
    found = []
    for record in records:
        text = everything_in(record)
        for what, secret in secrets.items():
            if secret in text or quote(secret, safe="") in text:
                found.append(f"{what} in {record.name} {record.levelname}: {text[:300]!r}")
    return found


def credentials_sent(server: SimServer) -> set[str]:
    """What the bot authenticated with: Authorization credentials and secret-looking body and query fields."""
    found: set[str] = set()
    secretish = ("secret", "password", "token", "signature", "pin", "key")
    for request in list(server.requests):
        auth = request.headers.get("authorization", "")
        if auth:
            credential = auth.split()[-1]
            found.add(credential)
            found.update(p for p in credential.split(":") if len(p) >= 16)  # TimeClock's id:time:sha1
        fields = {k: v[0] for k, v in request.query.items() if v}
        with contextlib.suppress(ValueError):  # a body that is neither JSON nor a form
            fields.update({k: str(v) for k, v in request.data().items() if isinstance(v, str | int)})
        found.update(v for k, v in fields.items() if any(s in k.lower() for s in secretish))
    return {s for s in found if len(s) >= 8}


@dataclass
class Vendors:
    tc: TimeClockSim
    tc_server: SimServer
    wo: WhosOffSim
    wo_server: SimServer
    sc: SwipeClockSim
    sc_server: SimServer
    tt: TimeTapSim
    tt_server: SimServer

    @property
    def servers(self) -> list[SimServer]:
        return [self.tc_server, self.wo_server, self.sc_server, self.tt_server]


@pytest.fixture
def four_vendors(tc_sim: TimeClockSim, tc_server: SimServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Vendors]:
    """All four vendors configured through the environment, as in production."""
    wo, sc, tt = WhosOffSim.demo(), SwipeClockSim.demo(), TimeTapSim.demo()
    with (
        SimServer(wo.handle, name="whosoff") as wo_server,
        SimServer(sc.handle, name="swipeclock") as sc_server,
        SimServer(tt.handle, name="timetap") as tt_server,
    ):
        service = next(u for u in wo.users.values() if u.email_address == "timebot@example.com")
        env = {
            "TIMECLOCK_BASE_URL": tc_server.base_url,
            "TIMECLOCK_SERVICE_USER_ID": "2",
            "TIMECLOCK_SERVICE_API_KEY": str(tc_sim.users[2].api_key),
            "WHOSOFF_BASE_URL": wo_server.base_url,
            "WHOSOFF_APP_ID": wo.app_id,
            "WHOSOFF_CLIENT_SECRET": wo.client_secret,
            "WHOSOFF_USERNAME": service.email_address,
            "WHOSOFF_PASSWORD": str(service.password),
            "WHOSOFF_IP_ADDRESS": "127.0.0.1",
            "SWIPECLOCK_AUTH_URL": f"{sc_server.base_url}/AuthenticationService/oauth2/userToken",
            "SWIPECLOCK_API_URL": f"{sc_server.base_url}/api",
            "SWIPECLOCK_SITE_ID": str(sc.site_id),
            "SWIPECLOCK_API_SECRET": sc.site_secret,
            "TIMETAP_BASE_URL": tt_server.base_url,
            "TIMETAP_ENVIRONMENT": "test",
            "TIMETAP_API_KEY": tt.api_key,
            "TIMETAP_PRIVATE_KEY": tt.private_key,
        }
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        yield Vendors(tc_sim, tc_server, wo, wo_server, sc, sc_server, tt, tt_server)


def link_submission(pin: str) -> str:
    meta = json.dumps({"vendor": "timeclock", "target": None})
    payload = {
        "type": "view_submission",
        "team": {"id": "T0DEMO"},
        "user": {"id": "U0ADA"},
        "view": {
            "id": "V1",
            "callback_id": ids.LINK_CALLBACK,
            "private_metadata": meta,
            "hash": "h1",
            "state": {"values": {"link_pin": {"value": text_input(pin)}}},
        },
    }
    return "payload=" + quote(json.dumps(payload))


def a_clear_weekday(ahead: int) -> date:
    day = date.today() + timedelta(days=ahead)
    while day.weekday() >= 5 or (day.month, day.day) in {(12, 25), (12, 26), (1, 1)}:
        day += timedelta(days=1)
    return day


def request_leave(bot: BotUnderTest, slack: SlackStandIn, day: date, note: str) -> str:
    before = len(slack.calls_to("views.update"))
    seen = len([c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args.get("text", "")])
    bot.driver.command("/timeoff")
    form = slack.wait_call("views.update", before + 1, timeout=20)[-1].args["view"]
    leave_type = form["blocks"][0]["element"]["options"][0]["value"]
    values = {
        "leave_type": select(leave_type),
        "start": datepicker(day.isoformat()),
        "start_portion": select("full"),
        "end": datepicker(day.isoformat()),
        "end_portion": select("full"),
        "note": text_input(note),
    }
    bot.driver.submit_view(ids.LEAVE_CALLBACK, values)
    done = slack.wait_for(
        lambda: [c for c in slack.calls_to("chat.postMessage") if "Leave requested" in c.args.get("text", "")][seen:],
        timeout=20,
    )
    return str(done[0].args["text"])


def answer(bot: BotUnderTest, slack: SlackStandIn, command: str, text: str = "") -> str:
    response, key = bot.driver.command(command, text)
    assert response.status_code == 200
    return json.dumps(slack.wait_response(key, timeout=20)[-1])


def test_no_secret_reaches_any_log_even_at_debug(
    tmp_path: Path, slack: SlackStandIn, every_log_record: EveryLogRecord, four_vendors: Vendors
) -> None:
    v = four_vendors
    ada = v.tc.add_user(48213, "Ada Lovelace", "ada@example.com", pin="907")  # a PIN long enough to search for
    for project in v.tc.projects.values():
        project.assignees.add(ada.id)
    pin = "48213907"

    # TimeClock for the clock and leave (linked by PIN), WhosOff for who's off
    (tmp_path / "a").mkdir()
    first = start_bot(
        make_settings(
            tmp_path / "a",
            slack,
            TIMEBOT_CLOCK_VENDOR="timeclock",
            TIMEBOT_LEAVE_VENDOR="timeclock",
            TIMEBOT_WHOSOFF_VENDOR="whosoff",
        ),
        slack,
        None,
    )
    every_log_record.sweep()
    try:
        first.driver.command("/timebot", "link")
        slack.wait_call("views.open", timeout=20)
        late = link_submission(pin)  # a genuine submission, delayed past the replay window: refused
        assert first.driver.post(late, FORM, timestamp=time.time() - 600).status_code == 401
        link_with_pin(first, slack, pin)
        assert "Clocked in" in answer(first, slack, "/clockin", "support")
        v.tc_server.faults.only_methods = frozenset({"GET"})
        v.tc_server.faults.script.append(Response.json({"name": "Service Unavailable"}, 503))  # retried
        assert "clocked in since" in answer(first, slack, "/timebot", "status")
        assert "Clocked out" in answer(first, slack, "/clockout", "wrapped up the release")
        assert "Leave requested" in request_leave(first, slack, a_clear_weekday(30), "dentist")
        v.wo.expire_tokens()  # the next call refreshes its token: one more credential in flight
        assert "Who's off" in answer(first, slack, "/whosoff", "next week")
    finally:
        first.close()
    assert v.tc.off_times and v.tc.rejected_auth == 0

    # SwipeClock for the clock, TimeTap for leave and who's off (matched by email)
    (tmp_path / "b").mkdir()
    second = start_bot(
        make_settings(
            tmp_path / "b",
            slack,
            TIMEBOT_CLOCK_VENDOR="swipeclock",
            TIMEBOT_LEAVE_VENDOR="timetap",
            TIMEBOT_WHOSOFF_VENDOR="timetap",
        ),
        slack,
        None,
    )
    every_log_record.sweep()
    try:
        assert "Clocked in" in answer(second, slack, "/clockin")
        v.sc.expire_tokens()
        v.tt.expire_tokens()
        v.tt_server.faults.script.append("drop")  # the token renewal is cut off once and retried
        assert "Clocked out" in answer(second, slack, "/clockout")
        assert "Leave requested" in request_leave(second, slack, a_clear_weekday(50), "family")
        assert "Who's off" in answer(second, slack, "/whosoff", "today")
    finally:
        second.close()

    secrets = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "TIMEBOT_SECRET_KEY": SECRET_KEY,
        "the TimeClock PIN": pin,
        "WHOSOFF_CLIENT_SECRET": v.wo.client_secret,
        "WHOSOFF_PASSWORD": os.environ["WHOSOFF_PASSWORD"],
        "SWIPECLOCK_API_SECRET": v.sc.site_secret,
        "the SwipeClock partner secret": v.sc.partner_secret,
        "TIMETAP_PRIVATE_KEY": v.tt.private_key,
        "the TimeTap signature": tt_signature(v.tt.api_key, v.tt.private_key),
        **{f"TimeClock API key of user {u.id}": str(u.api_key) for u in v.tc.users.values() if u.api_key},
        **{f"WhosOff token {i}": t for i, t in enumerate(v.wo._tokens)},
        **{f"TimeTap token {i}": t for i, t in enumerate(v.tt._tokens)},
    }
    for server in v.servers:
        secrets.update(
            {f"a credential sent to {server.name} ({i})": c for i, c in enumerate(sorted(credentials_sent(server)))}
        )
    messages = "\n".join(r.getMessage() for r in every_log_record.records)
    for sign_of_a_strict_scan in (
        "HTTP Request: POST",
        "receive_response_headers",
        "Sending a request - url",
        "Running listener",
        "answered 503",
        "Server disconnected",
        "failed Slack's signature check",
    ):
        assert sign_of_a_strict_scan in messages
    assert len(secrets) > 20
    assert leaked(every_log_record.records, secrets) == []
