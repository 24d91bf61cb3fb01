"""``timebot console``: try Timebot without a Slack workspace or any account.

One process runs the real bot (``bot.runtime.app.create_app``, HTTP mode, a temporary SQLite database and
a fresh secret key) against the Slack stand-in and one vendor's sandbox with its demo data. Each
line typed is a slash command from a demo person, delivered as a genuinely signed HTTP request
(``sandbox.driver``); what the bot sends back to the stand-in is printed as text.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.config import Settings
from bot.crypto import SecretBox
from bot.runtime.app import Runtime, create_app
from bot.runtime.web import HttpServer, SlackWsgi
from bot.vendors.http import HttpPolicy
from bot.vendors.registry import spec
from sandbox.console_render import element_summary, message_text, view_text
from sandbox.driver import SlackDriver
from sandbox.people import DEMO_PEOPLE, DemoPerson
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.swipeclock import SwipeClockSim
from sandbox.timeclock import TimeClockSim
from sandbox.timetap import TimeTapSim
from sandbox.whosoff import SUPER_USER, WhosOffSim

BOT_TOKEN = "xoxb-console"  # noqa: S105 - the stand-in's own token, never a real one
REPLY_METHODS = ("chat.postMessage", "chat.postEphemeral", "views.open", "views.update", "views.push", "views.publish")
QUIET = 0.4  # seconds without a new reply before the bot is taken to have answered
TIMEOUT = 20.0
HELP = """Type slash commands as the demo person (Ada is the one Timebot admin; the others see what employees see):
  /clockin [project]   /clockout [note]   /whosin
  /timeoff                                    the leave form (filled in here, field by field)
  /timeoff 2026-12-07..2026-12-08 half-end    the form filled in from what you type (half-start, half-end,
                                              part of a type's name), then sent
  /timeoff list                               your leave, with Cancel buttons
  /whosoff [today|tomorrow|week|next week|2026-12-24|2026-12-24..2026-12-31] [#team|@backend|dept=NAME]
  /timebot hours [today|week|last week|2026-12-01..2026-12-07]
  /timebot status   /timebot link [@person id]   /timebot unlink   /timebot help
  /timebot digest add #team 09:00 | list | remove #team | preview #team      (admins)
  /home                                       the App Home tab
  /as grace                                   become another demo person (Grace approves leave)
  /tick                                       what the scheduler would do now: leave news, approvers'
                                              reminders, clock-out reminders (it is off in the console)
#team is a channel (everyone), @backend a user group (Ada, Alan, Linus), @alan a person: typed as here,
they reach the bot as Slack sends them when picked from its suggestions. DMs the bot sends anyone show
as "(DM to …)". End with Ctrl-D (or the end of piped input)."""
CHANNELS = {"C0TEAM": ("team", [p.slack_id for p in DEMO_PEOPLE])}
GROUPS = {"S0BACKEND": ("backend", ["U0ADA", "U0ALAN", "U0LINUS"])}
APPROVER = "U0GRACE"


@dataclass
class Sandbox:
    sim: Any
    settings: dict[str, Any]


def _sandbox(vendor: str, base_url: Callable[[Any], str]) -> Sandbox:
    """The vendor's demo sandbox, and the settings that reach it (what ``timebot sandbox`` prints)."""
    if vendor == "timeclock":
        tc = TimeClockSim.demo(leave=True)
        # a service key lets the bot ask the server to fetch the public holidays, as an operator would
        return Sandbox(tc, {"base_url": base_url(tc), "service_user_id": "1", "service_api_key": tc.users[1].api_key})
    if vendor == "timetap":
        tt = TimeTapSim.demo(leave=True)
        return Sandbox(
            tt, {"base_url": base_url(tt), "environment": "test", "api_key": tt.api_key, "private_key": tt.private_key}
        )
    if vendor == "swipeclock":
        sc = SwipeClockSim.demo(leave=True)
        url = base_url(sc)
        return Sandbox(
            sc,
            {
                "auth_url": f"{url}/AuthenticationService/oauth2/userToken",
                "api_url": f"{url}/api",
                "site_id": sc.site_id,
                "api_secret": sc.site_secret,
            },
        )
    wo = WhosOffSim.demo(leave=True)
    service = next(u for u in wo.users.values() if u.user_type_id == SUPER_USER)
    return Sandbox(
        wo,
        {
            "base_url": base_url(wo),
            "app_id": wo.app_id,
            "client_secret": wo.client_secret,
            "username": service.email_address,
            "password": service.password,
            "ip_address": "127.0.0.1",
        },
    )


def find_person(name: str) -> DemoPerson | None:
    key = name.strip().lstrip("@").lower()
    return next(
        (
            p
            for p in DEMO_PEOPLE
            if key in (p.slack_id.lower(), p.name.lower(), p.name.split()[0].lower(), p.email.lower())
        ),
        None,
    )


class Console:
    """The bot, the stand-ins and a demo person typing: ``start()``, ``line()`` per input, ``close()``."""

    def __init__(
        self,
        vendor: str = "timeclock",
        person: str = "ada",
        out: TextIO = sys.stdout,
        ask: Callable[[str], str | None] | None = None,
    ) -> None:
        found = find_person(person)
        if found is None:
            raise ValueError(
                f"no demo person called {person!r}: try " + ", ".join(p.name.split()[0].lower() for p in DEMO_PEOPLE)
            )
        self.vendor = vendor
        self.person = found
        self.out = out
        self.ask = ask  # prompts for a form's fields; None: piped input, forms aren't filled field by field
        self._stack = contextlib.ExitStack()
        self.slack = SlackStandIn.demo(BOT_TOKEN)
        for channel_id, (channel, members) in CHANNELS.items():
            self.slack.add_channel(channel_id, channel, members)
        for group_id, (handle, users) in GROUPS.items():
            self.slack.add_usergroup(group_id, handle, users)
        self.runtime: Runtime | None = None
        self.driver: SlackDriver | None = None
        self.greeting = ""

    # --- set-up --------------------------------------------------------------------------------

    def start(self) -> Console:
        stack = self._stack
        self.slack.start()
        stack.callback(self.slack.stop)
        servers: list[SimServer] = []

        def serve(sim: Any) -> str:
            servers.append(SimServer(sim.handle, name=self.vendor).start())
            stack.callback(servers[-1].stop)
            return servers[-1].base_url

        sandbox = _sandbox(self.vendor, serve)
        self.sim = sandbox.sim
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="timebot-console-")))
        signing = secrets.token_hex(16)
        settings = Settings(
            _env_file=None,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=signing,  # type: ignore[call-arg]
            SLACK_API_URL=self.slack.api_url,
            DATABASE_URL=f"sqlite:///{tmp / 'timebot.db'}",
            TIMEBOT_SECRET_KEY=SecretBox.generate_key(),
            TIMEBOT_SCHEDULER=False,
            # one admin, so the others see what employees see; Grace approves leave,
            # and /tick reminds her of anything still pending
            TIMEBOT_ADMINS=DEMO_PEOPLE[0].slack_id,
            TIMEBOT_LEAVE_APPROVERS=APPROVER,
            TIMEBOT_APPROVAL_REMIND_HOURS=1e-6,
        )
        vendor_spec = spec(self.vendor)
        connector = vendor_spec.build(
            vendor_spec.settings_cls(_env_file=None, **sandbox.settings),  # type: ignore[call-arg]
            HttpPolicy(),
        )
        self.runtime = create_app(settings, vendors={self.vendor: connector}, env_file=None)
        stack.callback(self.runtime.close)
        server = HttpServer(
            SlackWsgi(self.runtime.app, self.runtime.engine, signing_secret=signing), "127.0.0.1", 0, threads=8
        ).start()
        stack.callback(server.stop)
        self.driver = SlackDriver(f"http://127.0.0.1:{server.port}", self.slack, signing)
        stack.callback(self.driver.close)
        self._link_everyone()
        return self

    def close(self) -> None:
        self._stack.close()

    def _link_everyone(self) -> None:
        """Each demo person links as they would in Slack: TimeClock with their PIN through the link
        form (who's off on TimeClock asks each linked person), other vendors by Slack email."""
        label = spec(self.vendor).label
        if isinstance(self.sim, TimeClockSim):
            for n, person in enumerate(DEMO_PEOPLE, start=1):
                self._link_with_pin(person, f"{n}{self.sim.users[n].pin}")
            self.greeting = f"Everyone in the demo company has linked their {label} account with their PIN."
        else:
            self.greeting = f"People are matched to {label} by their Slack email (as in Slack's directory)."

    def _link_with_pin(self, person: DemoPerson, pin: str) -> None:
        assert self.driver is not None
        mark = len(self.slack.calls)
        self.driver.command("/timebot", "link", user=person.slack_id)
        view = self._wait_view(mark, lambda v: v.get("callback_id") == "link_account")
        mark = len(self.slack.calls)
        self.driver.submit_view(
            "link_account",
            {"link_pin": {"type": "plain_text_input", "value": pin}},
            user=person.slack_id,
            private_metadata=view.get("private_metadata", "{}"),
            view_id=view["id"],
        )
        self._wait_view(mark, lambda v: "linked" in str(v.get("blocks")))

    # --- input ---------------------------------------------------------------------------------

    def line(self, raw: str) -> None:
        text = raw.strip()
        if not text or text.startswith("#"):
            return
        if not text.startswith("/"):
            self.say("Commands start with a slash: type /help for the list.")
            return
        command, _, rest = text.partition(" ")
        command, rest = command.lower(), rest.strip()
        self.say(f"{self.person.name.split()[0].lower()}> {text}")
        if command in ("/help", "/?"):
            self.say(HELP)
        elif command == "/as":
            person = find_person(rest) if rest else None
            if person is None:
                self.say("Who? " + ", ".join(p.name.split()[0].lower() for p in DEMO_PEOPLE))
            else:
                self.person = person
                self.say(f"You are now {person.name}.")
        elif command == "/home":
            self._home()
        elif command == "/tick":
            self._tick()
        else:
            self._command(command, self.slack_text(rest))
        self.say("")

    def _command(self, command: str, text: str) -> None:
        assert self.driver is not None
        mark = len(self.slack.calls)
        response, key = self.driver.command(command, text, user=self.person.slack_id)
        answered = False  # the ack carried the answer (help, an input error): nothing more will come
        if response.content and response.headers.get("content-type", "").startswith("application/json"):
            ack = response.json()
            self.show(message_text(ack, self.name))
            answered = bool(str(ack.get("text") or "").strip()) and not _holding(ack)
        elif response.text.strip():
            self.show(response.text.splitlines())
            answered = True
        elif response.status_code != 200:
            self.say(f"(the bot answered HTTP {response.status_code})")
            answered = True
        replies = self._since(mark, key) if answered else self._replies(mark, key)
        for kind, payload in replies:
            self._render(kind, payload)
        self._fill_open_form(typed=bool(text))

    # --- replies -------------------------------------------------------------------------------

    def _replies(self, mark: int, key: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """What the bot sends after ``mark``, once it has gone quiet (a slow notice waits for more)."""
        seen = 0
        deadline = time.monotonic() + TIMEOUT
        last_change = time.monotonic()
        while time.monotonic() < deadline:
            found = self._since(mark, key)
            if len(found) != seen:
                seen, last_change = len(found), time.monotonic()
            slow = found and _holding(found[-1][1])
            if found and not slow and time.monotonic() - last_change >= QUIET:
                break
            time.sleep(0.05)
        else:
            found = self._since(mark, key)
            if not found:
                self.say("(no answer from the bot)")
        yield from found

    def _since(self, mark: int, key: str | None) -> list[tuple[str, dict[str, Any]]]:
        found: list[tuple[str, dict[str, Any]]] = [
            ("reply", p) for p in (self.slack.responses.get(key, []) if key else [])
        ]
        for call in self.slack.calls[mark:]:
            if call.method == "chat.postMessage" or (  # DMs to anyone (an approver's too) and channel posts
                call.method in REPLY_METHODS and call.args.get("user_id", self.person.slack_id) == self.person.slack_id
            ):
                found.append((call.method, call.args))
        return found

    def _render(self, kind: str, payload: dict[str, Any]) -> None:
        if kind.startswith("views."):
            view = payload.get("view") or {}
            if kind != "views.open" or not view.get("callback_id"):  # a loading view is replaced at once
                self.show(view_text(view, self.name))
            if view.get("callback_id"):
                self._form = (view, payload.get("view_id"))
            return
        channel = str(payload.get("channel", ""))
        if channel.startswith("D"):  # the stand-in names a person's DM channel after them (D0GRACE: U0GRACE)
            channel = "U" + channel[1:]
        prefix = ""
        if kind == "chat.postMessage":
            prefix = (
                "(DM) "
                if channel in ("", self.person.slack_id)
                else f"(DM to {self.name(channel)}) "
                if channel.startswith(("U", "W"))
                else f"(in #{CHANNELS.get(channel, (channel,))[0]}) "
            )
        lines = message_text(payload, self.name)
        self.show([prefix + lines[0], *lines[1:]] if lines else [])

    def _wait_view(self, mark: int, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        def latest() -> dict[str, Any] | None:
            for call in reversed(self.slack.calls[mark:]):
                if call.method in ("views.open", "views.update"):
                    view = dict(call.args.get("view") or {})
                    if wanted(view):
                        return {**view, "id": call.args.get("view_id") or self._opened_id(mark)}
            return None

        return self.slack.wait_for(latest, TIMEOUT)  # type: ignore[no-any-return]

    def _opened_id(self, mark: int) -> str:
        """The id the stand-in gave the last view opened since ``mark`` (views.update names it)."""
        ups = [c for c in self.slack.calls[mark:] if c.method == "views.update" and c.args.get("view_id")]
        return str(ups[-1].args["view_id"]) if ups else "V000001"

    # --- forms ---------------------------------------------------------------------------------

    _form: tuple[dict[str, Any], str | None] | None = None

    def _fill_open_form(self, typed: bool = False) -> None:
        """Ask for each field (an empty answer keeps what the form shows); piped input can't
        answer, so a form the command's own words filled in (``typed``) is sent as it is."""
        form, self._form = self._form, None
        if form is None:
            return
        view, view_id = form
        if self.ask is None and not typed:
            self.say(
                "(Piped input doesn't fill forms field by field: type the days after the command, e.g. "
                "/timeoff 2026-12-07..2026-12-08 half-end)"
            )
            return
        values: dict[str, dict[str, Any]] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block.get("element") or {}
            label = str((block.get("label") or {}).get("text", block.get("block_id")))
            if self.ask is None:
                values[block["block_id"]] = _answer(element, "")
                continue
            answer = self.ask(f"  {label} [{element_summary(element, self.name)}]: ")
            if answer is None:
                self.say("(form cancelled)")
                return
            values[block["block_id"]] = _answer(element, answer.strip())
        self._submit(view, view_id, values)

    def _submit(self, view: dict[str, Any], view_id: str | None, values: dict[str, dict[str, Any]]) -> None:
        assert self.driver is not None
        mark = len(self.slack.calls)
        response = self.driver.submit_view(
            str(view["callback_id"]),
            values,
            user=self.person.slack_id,
            private_metadata=view.get("private_metadata", "{}"),
            view_id=view_id or "V000001",
        )
        ack = response.json() if response.content else {}
        if ack.get("response_action") == "errors":
            self.show(["The form says:", *(f"  {field}: {error}" for field, error in ack["errors"].items())])
            if self.ask is not None:  # piped input can't correct the form: it would be sent again as it was
                self._form = (view, view_id)
                self._fill_open_form()
            return
        if ack.get("response_action") == "update":
            self.show(view_text(ack.get("view") or {}, self.name))
        for kind, payload in self._replies(mark):
            self._render(kind, payload)
        self._form = None

    def slack_text(self, text: str) -> str:
        """What Slack sends for text typed with #channel, @group and @person picked from its
        suggestions: ``<#C…|name>``, ``<!subteam^S…|@handle>``, ``<@U…|name>``; anything else unchanged."""
        words = []
        for word in text.split(" "):
            key = word[1:].lower()
            if word.startswith("#"):
                found = next((cid for cid, (name, _) in CHANNELS.items() if name == key), None)
                word = f"<#{found}|{key}>" if found else word
            elif word.startswith("@"):
                group = next((gid for gid, (handle, _) in GROUPS.items() if handle == key), None)
                person = find_person(key)
                if group:
                    word = f"<!subteam^{group}|@{key}>"
                elif person:
                    word = f"<@{person.slack_id}|{key}>"
            words.append(word)
        return " ".join(words)

    def _tick(self) -> None:
        """One pass of the scheduled jobs, as the scheduler would run them now."""
        assert self.runtime is not None
        services = self.runtime.services
        mark = len(self.slack.calls)
        news = services.followup.poll() if services.followup is not None else 0
        reminded = services.followup.remind() if services.followup is not None else 0
        nudged = services.hygiene.check() if services.hygiene is not None else 0
        self.say(
            f"(scheduler: {news} leave change(s) announced, {reminded} approver reminder(s), "
            f"{nudged} clock-out reminder(s))"
        )
        for kind, payload in self._since(mark, None):  # the jobs ran here: what they sent is in already
            self._render(kind, payload)

    def _home(self) -> None:
        assert self.driver is not None
        mark = len(self.slack.calls)
        self.driver.event({"type": "app_home_opened", "user": self.person.slack_id, "tab": "home"})
        for kind, payload in self._replies(mark):
            self._render(kind, payload)

    # --- output --------------------------------------------------------------------------------

    def name(self, user_id: str) -> str:
        user = self.slack.users.get(user_id)
        return user.name if user else user_id

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def show(self, lines: list[str]) -> None:
        for line in lines:
            self.say("  " + line if line else "")


def _holding(message: dict[str, Any]) -> bool:
    """A holding note (queued, slow vendor): the answer itself comes later."""
    return ":hourglass" in str(message.get("text", ""))


def _answer(element: dict[str, Any], typed: str) -> dict[str, Any]:
    """What the person typed as the element's submitted state; empty keeps the initial value."""
    kind = element.get("type")
    if kind == "static_select":
        options = element.get("options", [])
        chosen = element.get("initial_option")
        if typed:
            chosen = (
                next((o for o in options if typed.lower() in (o["value"].lower(), o["text"]["text"].lower())), None)
                or next((o for i, o in enumerate(options, 1) if typed == str(i)), None)
                or chosen
            )
        return {"type": kind, "selected_option": chosen}
    if kind == "datepicker":
        return {"type": kind, "selected_date": typed or element.get("initial_date")}
    if kind == "timepicker":
        return {"type": kind, "selected_time": typed or element.get("initial_time")}
    return {"type": kind, "value": typed or element.get("initial_value")}


def run_console(vendor: str, person: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Read commands until the end of input; logs go to a file so the conversation stays readable."""
    log_file = Path(tempfile.gettempdir()) / "timebot-console.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = logging.FileHandler(log_file)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(file_handler)
    root.setLevel(logging.INFO)
    interactive = stdin.isatty()

    def ask(prompt: str) -> str | None:
        stdout.write(prompt)
        stdout.flush()
        answer = stdin.readline()
        return answer.rstrip("\n") if answer else None

    try:
        console = Console(vendor, person, stdout, ask if interactive else None).start()
    except ValueError as exc:
        print(f"timebot: {exc}", file=sys.stderr)
        return 2
    label = spec(vendor).label
    print(
        f"Timebot console: the real bot, a stand-in Slack and a {label} sandbox with demo data "
        f"(logs: {log_file}).\n{console.greeting}\nYou are {console.person.name}. Type /help for commands.\n",
        file=stdout,
        flush=True,
    )
    try:
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            raw = stdin.readline()
            if not raw:
                break
            console.line(raw)
    except KeyboardInterrupt:
        return 130
    finally:
        console.close()
    return 0
