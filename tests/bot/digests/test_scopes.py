"""Digests and /whosoff for a team: a channel's members, a user group, weekly digests with compact
ranges, sick leave shown as "off", working days only, names without pings; over real HTTP to the
Slack stand-in and the WhosOff simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from bot.digests.spec import parse_spec
from bot.usecases.directory import refresh_directory
from bot.usecases.scope import Scope, SlackDirectory
from handlers import ids
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import (
    ADMIN,
    a_monday,
    all_text,
    digests,
    local,
    posts,
    seed_demo_people,
    start_digest_bot,
    subscribe,
    user_id,
)
from tests.bot.digests.test_schedule import Clock, ny
from tests.conftest import BotUnderTest
from tests.support import eventually, leave_values

MONDAY = a_monday()  # Mon 9 Mar 2026
TEAM_CHANNEL = "C0TEAM"
EVERYONE = ("ada", "grace", "alan", "katherine", "linus")


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 9, 12, tzinfo=UTC))


@pytest.fixture
def bot(tmp_path: Path, slack: SlackStandIn, wo_server: SimServer, clock: Clock) -> Iterator[BotUnderTest]:
    under_test = start_digest_bot(tmp_path, slack, wo_server, clock=clock, TIMEBOT_SCHEDULER=False)
    seed_demo_people(under_test.runtime.engine)
    yield under_test
    under_test.close()


def off(sim: WhosOffSim, who: str, start: date, end: date | None = None, **kw: object) -> None:
    sim.add_leave(user_id(sim, f"{who}@example.com"), start, end or start, **kw)  # type: ignore[arg-type]


def post(
    bot: BotUnderTest, slack: SlackStandIn, day: date = MONDAY, channel: str = TEAM_CHANNEL, **options: object
) -> str:
    before = len(posts(slack, channel))
    result = digests(bot).post(subscribe(bot.runtime.engine, channel=channel, **options), day, trigger="test")
    assert result.outcome == "sent", result
    return all_text([c.args for c in posts(slack, channel)[before:]])


def test_a_members_digest_lists_only_the_channels_people_and_someone_who_joins_is_in_the_next_run(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim, clock: Clock
) -> None:
    channel = slack.add_channel(TEAM_CHANNEL, "design", ["U0ADA", "U0ALAN", "U0GRACE"])
    for who in EVERYONE:
        off(wo_sim, who, MONDAY, MONDAY + timedelta(days=1))
    text = post(bot, slack, scope=f"members:{TEAM_CHANNEL}")
    assert {"Ada Lovelace", "Alan Turing", "Grace Hopper"} <= set(_names(text))
    assert "Linus" not in text and "Katherine" not in text
    assert "Showing members of <#C0TEAM>" in text
    channel.members.append("U0LINUS")
    clock.advance(timedelta(days=1))
    assert "Linus Torvalds" in post(bot, slack, MONDAY + timedelta(days=1), scope=f"members:{TEAM_CHANNEL}")


def _names(text: str) -> list[str]:
    return [line[2:].split(" ·")[0].split(" _(")[0] for line in text.splitlines() if line.startswith("• ")]


def test_a_group_digest_follows_the_group_and_whosoff_for_the_group_names_the_same_people(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    slack.add_channel(TEAM_CHANNEL, "eng", ["U0GRACE"])
    slack.add_usergroup("S0BACK", "backend", ["U0ADA", "U0LINUS"])
    for who in EVERYONE:
        off(wo_sim, who, MONDAY + timedelta(days=1))
    week = post(bot, slack, cadence="weekly", days="mon", scope="group:S0BACK|backend")
    _, key = bot.driver.command("/whosoff", "week <!subteam^S0BACK|@backend>", user="U0ALAN")
    listed = all_text([slack.wait_response(key)[-1]])
    assert set(_names(week)) == set(_names(listed)) == {"Ada Lovelace", "Linus Torvalds"}
    assert "@backend" in week and "@backend" in listed


def test_a_weekly_digest_shows_one_line_per_person_per_continuous_absence(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    slack.add_channel(TEAM_CHANNEL, "team", ["U0ADA"])
    off(wo_sim, "ada", MONDAY + timedelta(days=2), MONDAY + timedelta(days=3))  # Wed-Thu
    off(wo_sim, "ada", MONDAY + timedelta(days=4), MONDAY + timedelta(days=7))  # Fri-Mon: joins on
    from bot.domain import Portion

    off(wo_sim, "alan", MONDAY + timedelta(days=2), start_portion=Portion.PM, end_portion=Portion.PM)
    wo_sim.add_holiday(MONDAY + timedelta(days=1), "Founders' Day")
    text = post(bot, slack, cadence="weekly", days="mon")
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert lines == [
        "• Ada Lovelace · Annual Leave · Wed 11 – Fri 13 Mar",
        "• Alan Turing · Annual Leave · afternoon of Wed 11 Mar",
    ]
    assert "Founders' Day · Tue 10 Mar" in text
    assert "Who's off this week · Mon 9 – Fri 13 Mar" in text


def test_the_daily_digest_coming_up_uses_compact_ranges_across_the_weekend(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    thursday = MONDAY + timedelta(days=3)
    off(wo_sim, "ada", thursday + timedelta(days=1), thursday + timedelta(days=4))  # Fri 13 - Mon 16
    text = post(bot, slack, thursday, channel="C0DIGEST")
    assert "• Ada Lovelace · Annual Leave · Fri 13 – Mon 16 Mar" in text
    assert text.count("Ada Lovelace") == 1


def test_sick_leave_is_only_off_in_a_channel_and_to_other_people(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    off(wo_sim, "linus", MONDAY, leave_type="Sickness", note="flu")
    off(wo_sim, "ada", MONDAY)
    text = post(bot, slack, channel="C0DIGEST")
    assert "Linus Torvalds · off" in text and "Ada Lovelace · Annual Leave" in text
    assert "Sickness" not in text and "flu" not in text
    answers = {}
    for user in ("U0LINUS", "U0ALAN"):
        _, key = bot.driver.command("/whosoff", MONDAY.isoformat(), user=user)
        answers[user] = json.dumps(slack.wait_response(key)[-1]["blocks"])
    assert "Sickness" in answers["U0LINUS"]
    assert "Sickness" not in answers["U0ALAN"] and "Linus Torvalds _(" not in answers["U0ALAN"]
    assert "off" in answers["U0ALAN"]


def test_a_digest_can_hide_the_kind_of_leave(bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim) -> None:
    off(wo_sim, "ada", MONDAY)
    text = post(bot, slack, channel="C0DIGEST", show_kind=False)
    assert "• Ada Lovelace" in text and "Annual Leave" not in text


def test_digests_name_people_without_pinging_unless_mentions_is_on(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    off(wo_sim, "ada", MONDAY, MONDAY + timedelta(days=7))
    assert "<@" not in post(bot, slack, channel="C0DIGEST")
    assert "<@U0ADA>" in post(bot, slack, MONDAY + timedelta(days=7), channel="C0DIGEST", mentions=True)


def test_whosoff_shows_people_only_on_working_days(bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim) -> None:
    friday = MONDAY + timedelta(days=4)
    off(wo_sim, "ada", friday, friday + timedelta(days=3))  # Fri - Mon
    wo_sim.add_holiday(friday + timedelta(days=3), "Spring Holiday")
    _, key = bot.driver.command("/whosoff", f"{friday}..{friday + timedelta(days=3)}", user="U0ALAN")
    days = [b["text"]["text"] for b in slack.wait_response(key)[-1]["blocks"] if b["type"] == "section"][1:]
    with_ada = [d.split("\n")[0] for d in days if "Ada Lovelace" in d]
    assert with_ada == ["*Fri 13 Mar*"]


def test_a_leave_request_of_weekend_days_only_is_a_field_error(bot: BotUnderTest, slack: SlackStandIn) -> None:
    saturday = date.today() + timedelta(days=(5 - date.today().weekday()) % 7 or 7)
    response = bot.driver.submit_view(
        ids.LEAVE_CALLBACK, leave_values(saturday, saturday + timedelta(days=1)), user="U0ADA"
    )
    answer = json.loads(response.text)
    assert answer["response_action"] == "errors"
    assert answer["errors"]["start"] == "Those days are all weekend or public holiday"


def test_a_leave_request_of_public_holidays_only_is_a_field_error_in_the_ack_once_the_form_was_opened(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim, wo_server: SimServer
) -> None:
    holiday = MONDAY + timedelta(days=2)  # a Wednesday
    wo_sim.add_holiday(holiday, "Founders' Day")
    bot.driver.command("/timeoff", user="U0ADA")
    [update] = slack.wait_call("views.update")  # the form, filled in after the ack
    leave = bot.runtime.services.leave
    eventually(lambda: leave.holidays.known(holiday, holiday) is not None)  # read after the form was shown
    asked = len(wo_server.requests)
    answer = bot.driver.submit_view(
        ids.LEAVE_CALLBACK, leave_values(holiday, holiday), user="U0ADA", view_id=update.args["view_id"]
    ).json()
    bot.runtime.services.pool.shutdown(wait=True)
    assert answer == {"response_action": "errors", "errors": {"start": "Those days are all weekend or public holiday"}}
    assert len(wo_server.requests) == asked and not wo_sim.leave


def test_a_leave_request_of_public_holidays_only_before_they_are_cached_gets_the_form_back_with_the_error_at_the_date(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim, wo_server: SimServer
) -> None:
    holiday = MONDAY + timedelta(days=2)
    wo_sim.add_holiday(holiday, "Founders' Day")
    answer = bot.driver.submit_view(
        ids.LEAVE_CALLBACK, leave_values(holiday, holiday, note="long weekend"), user="U0ADA"
    ).json()
    assert answer["response_action"] == "update"  # not known before the ack: no vendor may be asked there
    [update] = slack.wait_for(
        lambda: [c for c in slack.calls_to("views.update") if c.args["view"].get("callback_id") == ids.LEAVE_CALLBACK]
    )
    bot.runtime.services.pool.shutdown(wait=True)
    form = update.args["view"]["blocks"]
    at = next(n for n, b in enumerate(form) if b.get("block_id") == "start")
    assert form[at]["element"]["initial_date"] == holiday.isoformat()
    assert form[at + 1]["elements"][0]["text"] == ":warning: Those days are all weekend or public holiday"
    assert next(b for b in form if b.get("block_id") == "note")["element"]["initial_value"] == "long weekend"
    assert not wo_sim.leave and not [r for r in wo_server.requests if r.path.endswith("leave/submit")]


def test_adding_a_digest_to_a_private_channel_without_the_bot_tells_the_admin(
    bot: BotUnderTest, slack: SlackStandIn
) -> None:
    slack.add_channel("G0SECRET", "secret", ["U0GRACE"], is_private=True, bot_member=False)
    _, key = bot.driver.command("/timebot", "digest add <#G0SECRET|secret> 09:00 members", user=ADMIN)
    text = slack.wait_response(key)[-1]["text"]
    assert ":warning: <#G0SECRET> is a private channel I'm not in" in text and "/invite @Timebot" in text


def test_digest_list_shows_scope_cadence_zone_and_next_run_in_one_line(bot: BotUnderTest, slack: SlackStandIn) -> None:
    slack.add_usergroup("S0BACK", "backend", ["U0ADA"])
    _, key = bot.driver.command(
        "/timebot",
        "digest add <#C0DIGEST|d> mon 09:30 weekly <!subteam^S0BACK|@backend> kind=hide Europe/London",
        user=ADMIN,
    )
    slack.wait_response(key)
    _, key = bot.driver.command("/timebot", "digest list", user=ADMIN)
    [line] = [x for x in slack.wait_response(key)[-1]["text"].splitlines() if x.startswith("• ")]
    assert line.startswith("• <#C0DIGEST> · @backend · weekly on Mon at 09:30 · Europe/London · next Mon ")
    assert "kinds hidden" in line


def test_a_weekly_digest_posts_once_on_its_day_at_its_time_across_a_dst_change(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer
) -> None:
    before, after = ny(2026, 3, 2, 9, 0), ny(2026, 3, 9, 9, 0)  # Mondays in EST, then in EDT
    with time_machine.travel(before - timedelta(hours=1), tick=True) as traveller:
        bot = start_digest_bot(tmp_path, slack, wo_server)
        try:
            seed_demo_people(bot.runtime.engine)
            _, key = bot.driver.command(
                "/timebot", "digest add <#C0DIGEST|d> mon 09:00 weekly America/New_York", user=ADMIN
            )
            assert "weekly digest" in slack.wait_response(key)[-1]["text"]
            scheduler = digests(bot).scheduler
            assert scheduler is not None
            for n, moment in enumerate((before, after), start=1):
                traveller.move_to(moment - timedelta(seconds=1))
                scheduler.wakeup()
                slack.wait_for(lambda n=n: len(posts(slack, "C0DIGEST")) >= n, timeout=15)
            upcoming = scheduler.next_fire("T0DEMO", "C0DIGEST")
        finally:
            bot.close()
    assert len(posts(slack, "C0DIGEST")) == 2
    for call, expected in zip(posts(slack, "C0DIGEST"), (before, after), strict=True):
        posted = datetime.fromtimestamp(call.at, UTC)
        assert expected <= posted < expected + timedelta(seconds=5)
        assert local(posted).strftime("%a %H:%M") == "Mon 09:00"
        assert call.args["blocks"][0]["text"]["text"].startswith("Who's off this week")
    assert upcoming is not None and local(upcoming).strftime("%a %d %H:%M") == "Mon 16 09:00"


def test_a_channel_of_1500_members_is_read_in_pages_through_a_rate_limit(slack: SlackStandIn) -> None:
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    from bot.slack.client import SlackClient

    members = [f"U{n:06d}" for n in range(1500)]
    slack.add_channel("C0BIG", "everyone", members)
    slack.rate_limit("conversations.members", times=1, retry_after=1)
    client = WebClient(
        token="xoxb-test-token", base_url=slack.api_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)]
    )
    directory = SlackDirectory(SlackClient(client))
    found = directory.people(Scope("members", "C0BIG"))
    assert found == {*members, "UBOT"}
    assert len(slack.calls_to("conversations.members")) == 8  # ceil(1501 / 200)
    assert len(slack.calls_to("conversations.members#429")) == 1
    assert directory.people(Scope("members", "C0BIG")) == found  # read once per run: cached
    assert len(slack.calls_to("conversations.members")) == 8


def test_names_come_from_the_slack_directory_refreshed_by_housekeeping(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    slack.users["U0ADA"].name = "Ada King"
    refresh_directory(bot.runtime.services.store, bot.runtime.services.people.slack)
    off(wo_sim, "ada", MONDAY)
    assert "• Ada King ·" in post(bot, slack, channel="C0DIGEST")


def test_scope_words_in_a_digest_spec() -> None:
    spec = parse_spec(["fri", "17:00", "weekly", "dept=Engineering", "mentions"], "C0X")
    assert (spec.days, spec.cadence, spec.scope, spec.mentions) == ("fri", "weekly", Scope("dept", "Engineering"), True)
    assert parse_spec(["09:00", "members"], "C0X").scope == Scope("members", "C0X")
