"""What a channel's digest says and how it is cut into messages Slack accepts, built from the
WhosOff simulator over HTTP and posted to the Slack stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.digests.content import DigestContent
from bot.domain import Portion
from bot.usecases.ranges import OffSpan
from bot.usecases.whos_off import DayReport, OffEntry
from handlers.render.whos_off import render_digest
from sandbox.server import SimServer
from sandbox.slack import SlackStandIn
from sandbox.whosoff import WhosOffSim
from tests.bot.digests.support import (
    CHANNEL,
    a_monday,
    all_text,
    assert_slack_accepts,
    digests,
    mentions,
    posts,
    runs,
    seed_demo_people,
    seed_people,
    start_digest_bot,
    subscribe,
    user_id,
    vendor_calls,
)
from tests.conftest import BotUnderTest

MONDAY = a_monday()


@pytest.fixture
def bot(tmp_path: Path, slack: SlackStandIn, wo_server: SimServer) -> Iterator[BotUnderTest]:
    under_test = start_digest_bot(tmp_path, slack, wo_server, TIMEBOT_SCHEDULER=False)
    seed_demo_people(under_test.runtime.engine)
    yield under_test
    under_test.close()


def off(sim: WhosOffSim, email: str, start: date, end: date | None = None, **kw: object) -> None:
    sim.add_leave(user_id(sim, email), start, end or start, **kw)  # type: ignore[arg-type]


def post_today(bot: BotUnderTest, slack: SlackStandIn, day: date = MONDAY, **sub_kw: object) -> list[dict]:
    sub = subscribe(bot.runtime.engine, **sub_kw)  # type: ignore[arg-type]
    result = digests(bot).post(sub, day, trigger="test")
    assert result.outcome in {"sent", "empty"}, result
    return [c.args for c in posts(slack)]


def sections(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def test_today_is_grouped_by_portion_and_sorted_by_name(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    off(wo_sim, "linus@example.com", MONDAY)
    off(wo_sim, "ada@example.com", MONDAY)
    off(wo_sim, "alan@example.com", MONDAY, start_portion=Portion.AM, end_portion=Portion.AM)
    off(wo_sim, "katherine@example.com", MONDAY, start_portion=Portion.PM, end_portion=Portion.PM)
    [message] = post_today(bot, slack)
    texts = sections(message)
    all_day = next(t for t in texts if t.startswith("*All day*"))
    assert all_day.index("Ada Lovelace") < all_day.index("Linus Torvalds")  # Ada Lovelace before Linus Torvalds
    assert "Alan Turing" in next(t for t in texts if t.startswith("*Morning only*"))
    assert "Katherine Johnson" in next(t for t in texts if t.startswith("*Afternoon only*"))


def test_each_person_says_when_they_are_back_skipping_the_weekend_and_holidays(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    friday = MONDAY + timedelta(days=4)
    off(wo_sim, "ada@example.com", MONDAY - timedelta(days=2), friday)
    wo_sim.add_holiday(friday + timedelta(days=3), "Spring Bank Holiday")
    off(wo_sim, "alan@example.com", MONDAY, start_portion=Portion.AM, end_portion=Portion.AM)
    off(wo_sim, "linus@example.com", MONDAY)
    text = all_text(post_today(bot, slack))
    assert "Ada Lovelace · Annual Leave — back Tue 17 Mar" in text
    assert "Alan Turing · Annual Leave — back this afternoon" in text
    assert "Linus Torvalds · Annual Leave — back tomorrow" in text


def test_leave_reasons_never_reach_the_channel(bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim) -> None:
    off(wo_sim, "ada@example.com", MONDAY, note="Chemotherapy appointment")
    off(wo_sim, "alan@example.com", MONDAY + timedelta(days=1), note="Job interview elsewhere")
    message = json.dumps(post_today(bot, slack))
    assert "Ada Lovelace" in message and "Alan Turing" in message
    assert "Chemotherapy" not in message and "interview" not in message


def test_the_kind_of_absence_is_hidden_when_show_leave_kind_is_off(
    tmp_path: Path, slack: SlackStandIn, wo_server: SimServer, wo_sim: WhosOffSim
) -> None:
    off(wo_sim, "ada@example.com", MONDAY, leave_type="Sickness")
    bot = start_digest_bot(tmp_path, slack, wo_server, TIMEBOT_SCHEDULER=False, TIMEBOT_SHOW_LEAVE_KIND=False)
    try:
        seed_demo_people(bot.runtime.engine)
        text = all_text(post_today(bot, slack))
    finally:
        bot.close()
    assert "Ada Lovelace" in text and "Sickness" not in text and "· off" not in text


def test_people_unknown_to_slack_appear_by_escaped_name(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    stranger = wo_sim.add_user("Zoë <b>&co</b>", "zoe@elsewhere.example")
    wo_sim.add_leave(stranger, MONDAY)
    text = all_text(post_today(bot, slack))
    assert "Zoë &lt;b&gt;&amp;co&lt;/b&gt;" in text
    assert "<b>" not in text


def test_public_holidays_today_and_in_the_coming_days_are_shown(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim
) -> None:
    wo_sim.add_holiday(MONDAY, "Founders' Day")
    wo_sim.add_holiday(MONDAY + timedelta(days=2), "Pancake Day")
    text = all_text(post_today(bot, slack))
    assert ":tada: *Public holiday:* Founders' Day" in text
    assert "Pancake Day" in text


def test_the_next_working_days_skip_the_weekend(bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim) -> None:
    friday = MONDAY + timedelta(days=4)
    off(wo_sim, "ada@example.com", friday + timedelta(days=1))  # Saturday: not a working day
    off(wo_sim, "alan@example.com", friday + timedelta(days=3))  # Monday
    off(wo_sim, "linus@example.com", friday + timedelta(days=6))  # Thursday: beyond the next 3 working days
    texts = sections(post_today(bot, slack, day=friday)[0])
    coming = [t for t in texts if t.startswith("*Coming up*")]
    assert coming == ["*Coming up* (next 3 working days)\n• Alan Turing · Annual Leave · Mon 16 Mar"]


def test_an_empty_day_says_so_in_one_friendly_line(bot: BotUnderTest, slack: SlackStandIn) -> None:
    [message] = post_today(bot, slack)
    assert sections(message)[0] == ":sunny: Everyone's in today."
    assert "everyone's in" in message["text"]


def test_an_empty_day_posts_nothing_when_the_channel_skips_empty_days(bot: BotUnderTest, slack: SlackStandIn) -> None:
    assert post_today(bot, slack, skip_empty=True) == []
    assert [r.status for r in runs(bot.runtime.engine)] == ["empty"]


def test_5000_people_with_300_absent_fit_slacks_limits_with_nobody_left_out(
    bot: BotUnderTest, slack: SlackStandIn, wo_sim: WhosOffSim, wo_server: SimServer
) -> None:
    people = [(f"U5K{n:05d}", f"Person{n:04d} Surname{n % 97:02d}", f"p{n}@big.example") for n in range(5000)]
    ids = [wo_sim.add_user(name, email) for _, name, email in people]
    seed_people(bot.runtime.engine, people[:4000])  # the last 1,000 never used Slack with Timebot
    absent = list(range(0, 5000, 16))[:300]
    for i, n in enumerate(absent):
        portion = (Portion.FULL, Portion.AM, Portion.PM)[i % 3]
        wo_sim.add_leave(
            ids[n],
            MONDAY,
            MONDAY + timedelta(days=i % 4) if portion is Portion.FULL else MONDAY,
            start_portion=portion,
            end_portion=portion,
            leave_type=("Annual Leave", "Sickness")[i % 2],
            note=f"private reason {n}",
        )
    slack_before = len(slack.calls)
    messages = post_today(bot, slack, mentions=True)
    for message in messages:
        assert_slack_accepts(message)
    blocks = [b for m in messages for b in m["blocks"]]
    divider = next(i for i, b in enumerate(blocks) if b["type"] == "divider")
    today = "\n".join(b["text"]["text"] for b in blocks[:divider] if b["type"] == "section")
    assert mentions(today) == {people[n][0] for n in absent if n < 4000}
    for n in (n for n in absent if n >= 4000):
        assert f"• {people[n][1]} ·" in today
    assert today.count("\n• ") == 300
    assert "private reason" not in json.dumps(messages)
    assert len(vendor_calls(wo_server, "whosoff/retrieve")) == 1  # company-wide, not per person
    assert len(vendor_calls(wo_server)) <= 4  # sign-in, who's off, holidays
    assert not [c for c in slack.calls[slack_before:] if c.method.startswith("users.")]


def content_with(count: int, name_length: int = 30) -> DigestContent:
    entries = [
        OffEntry(
            None,
            f"{'N' * (name_length - 5)}{n:05d}",
            Portion.FULL,
            "Annual Leave",
            "approved",
            MONDAY + timedelta(days=1),
        )
        for n in range(count)
    ]
    coming = [
        OffSpan(None, e.name, e.kind, e.status, MONDAY + timedelta(days=1), MONDAY + timedelta(days=1))
        for e in entries[: count // 2]
    ]
    return DigestContent(CHANNEL, MONDAY, "UTC", DayReport(MONDAY, entries), [], 1, coming=coming)


def test_a_very_long_list_is_split_across_messages_within_slacks_limits_and_in_order() -> None:
    messages = render_digest(content_with(4000, name_length=60), True)
    assert len(messages) > 1
    for m in messages:
        assert_slack_accepts({"text": m.text, "blocks": m.blocks})
    text = all_text({"text": m.text, "blocks": m.blocks} for m in messages)
    names = [f"{'N' * 55}{n:05d}" for n in range(4000)]
    positions = [text.index(f"• {name} ·") for name in names]
    assert positions == sorted(positions)
    assert messages[1].blocks[0]["text"]["text"].endswith(f"(2/{len(messages)})")


def test_digest_posts_are_spaced_about_a_second_apart(bot: BotUnderTest, slack: SlackStandIn) -> None:
    digests(bot).gate.interval = 1.0
    for channel in ("C0ONE", "C0TWO"):
        digests(bot).post(subscribe(bot.runtime.engine, channel=channel), MONDAY, trigger="test")
    first, second = (posts(slack, c)[0].at for c in ("C0ONE", "C0TWO"))
    assert second - first >= 0.95
