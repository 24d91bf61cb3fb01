"""Who's off in Block Kit, written once for ``/whosoff``, the digests and their previews.

Slack's limits shape the rendering: at most 50 blocks per message and 3,000 characters per text
field. Lines (one per person) are packed into sections under those limits and sections into as
many messages as needed; a line is never split or dropped, so nobody is left out. ``/whosoff``
answers in one message, so past 50 blocks it says so rather than leave people out silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.digests.content import DigestContent, DigestMessage
from bot.domain import Portion
from bot.parse import esc
from bot.usecases.ranges import OffSpan
from bot.usecases.whos_off import OffEntry, WhosOffReport
from handlers.render.blocks import MAX_TEXT, Blocks, context, divider, header, section

MAX_BLOCKS = 50
MAX_NAME = 200  # a name this long is cut, so one person's line always fits a section

fmt_short_day = fmt.day  # one day style everywhere (bot.formatting)


def who(entry: OffEntry | OffSpan, mentions: bool = False) -> str:
    """Everyone by the name the Slack directory gives them (no notification); ``mentions`` (a digest
    option) makes people Slack knows ``<@U…>`` instead, which notifies them."""
    if mentions and entry.slack_user_id:
        return f"<@{entry.slack_user_id}>"
    name = entry.name if len(entry.name) <= MAX_NAME else entry.name[: MAX_NAME - 1] + "…"
    return esc(name)


def fmt_span(span: OffSpan) -> str:
    """``Fri 4 to Mon 7 Dec`` (en dash), ``afternoon Wed 9 Dec``, ``Mon 30 Nov to Wed 2 Dec``."""
    if span.first == span.last:
        return fmt.half(span.first, span.first_portion)
    halves = fmt.half_days(span.first, span.last, span.first_portion, span.last_portion)
    return fmt.day_range(span.first, span.last) + (f" ({halves} only)" if halves else "")


def span_line(span: OffSpan, mentions: bool = False) -> str:
    """One person per continuous absence: who · kind · when (kind already masked for the reader)."""
    parts = [f"• {who(span, mentions)}"]
    if span.kind:
        parts.append(esc(span.kind[:100]))
    parts.append(fmt_span(span))
    if span.status == "pending":
        parts.append("pending")
    return " · ".join(parts)


def _back(entry: OffEntry, today: date) -> str:
    if entry.back_on is None:
        return ""
    if entry.back_on == today:
        return " — back this afternoon"
    if entry.back_on == today + timedelta(days=1):
        return " — back tomorrow"
    return f" — back {fmt_short_day(entry.back_on)}"


def line(
    entry: OffEntry, show_kind: bool, *, today: date | None = None, portion_tag: bool = False, mentions: bool = False
) -> str:
    """One person: who, (portion), kind if allowed, pending, when back. Never the reason."""
    parts = [f"• {who(entry, mentions)}"]
    if portion_tag and entry.portion is not Portion.FULL:
        parts.append(" _(morning)_" if entry.portion is Portion.AM else " _(afternoon)_")
    if show_kind and entry.kind:
        parts.append(f" · {esc(entry.kind[:100])}")
    if entry.status == "pending":
        parts.append(" · pending")
    if today is not None:
        parts.append(_back(entry, today))
    return "".join(parts)


def sections(title: str, lines: Sequence[str]) -> Blocks:
    """``title`` then ``lines``, packed into as few sections as fit 3,000 characters each."""
    blocks: Blocks = []
    current = title
    for line in lines:
        if len(current) + 1 + len(line) > MAX_TEXT:
            blocks.append(section(current))
            current = f"{title} _(continued)_"
        current += "\n" + line
    blocks.append(section(current))
    return blocks


def _paginate(title: str, body: Blocks, summary: str) -> list[DigestMessage]:
    """Body blocks into messages of at most 50 blocks, each opened by a header."""
    per_message = MAX_BLOCKS - 1
    chunks = [body[i : i + per_message] for i in range(0, len(body), per_message)] or [[]]
    messages = []
    for n, chunk in enumerate(chunks, start=1):
        suffix = f" ({n}/{len(chunks)})" if len(chunks) > 1 else ""
        first = header(f"{title}{suffix}")
        messages.append(DigestMessage(f"{summary}{suffix}"[:MAX_TEXT], [first, *chunk]))
    return messages


def render_digest(content: DigestContent, show_kind: bool) -> list[DigestMessage]:
    """The channel's digest as one or more messages Slack accepts."""
    if content.cadence == "weekly":
        return _render_week(content)
    today = content.day
    title = f"Who's off today · {fmt_short_day(today)}"
    body: Blocks = _preamble(content)
    for holiday in content.today.holidays:
        body.append(section(f":tada: *Public holiday:* {esc(holiday.name[:MAX_NAME])}"))
    entries = content.today.entries
    if not entries:
        body.append(
            section(":sunny: Everyone's in today." if not content.today.holidays else "Nobody else is off today.")
        )
    groups = (("All day", Portion.FULL), ("Morning only", Portion.AM), ("Afternoon only", Portion.PM))
    for label, portion in groups:
        members = [e for e in entries if e.portion is portion]
        if members:
            body.extend(
                sections(
                    f"*{label}* ({len(members)})",
                    [line(e, show_kind, today=today, mentions=content.mentions) for e in members],
                )
            )
    if content.days_ahead:
        body.append(divider())
        span = f"next {content.days_ahead} working day" + ("s" if content.days_ahead != 1 else "")
        lines = [f":tada: {esc(h.name[:MAX_NAME])} · {fmt_short_day(h.day)}" for h in content.coming_holidays]
        lines += [span_line(s, content.mentions) for s in content.coming]
        if lines:
            body.extend(sections(f"*Coming up* ({span})", lines))
        else:
            body.append(context(f"Nobody is off in the {span}."))
    body += _footer(content)
    count = len(entries)
    summary = f"Who's off today ({fmt_short_day(today)}): " + (
        f"{count} " + ("person" if count == 1 else "people") if count else "everyone's in"
    )
    return _paginate(title, body, summary)


def _preamble(content: DigestContent) -> Blocks:
    body: Blocks = []
    if content.preview:
        body.append(
            context(
                f"Preview for <#{content.channel_id}>: only you can see this."
                + (
                    " It skips empty days, so today it would get nothing."
                    if content.skip_empty and content.empty
                    else ""
                )
            )
        )
    if content.due_at is not None:
        body.append(
            context(
                f":hourglass_flowing_sand: Posted late: this digest was due at "
                f"{fmt.clock(content.due_at, ZoneInfo(content.tz))}."
            )
        )
    return body


def _footer(content: DigestContent) -> Blocks:
    notes = [context(esc(note)) for note in content.notes]
    whose = "" if content.scope.everyone else f"Showing {content.scope.describe()}. "
    return [*notes, context(f"{whose}Dates in {esc(content.tz)}.")]


def _render_week(content: DigestContent) -> list[DigestMessage]:
    """The working week: one line per person per continuous absence, and the holidays."""
    start, end = content.week_start or content.day, content.week_end or content.day
    title = f"Who's off this week · {fmt.day_range(start, end)}"
    body = _preamble(content)
    lines = [
        f":tada: *Public holiday:* {esc(h.name[:MAX_NAME])} · {fmt_short_day(h.day)}" for h in content.coming_holidays
    ]
    lines += [span_line(s, content.mentions) for s in content.coming]
    if content.coming:
        body.extend(sections(f"*Off this week* ({len({s.name for s in content.coming})})", lines))
    else:
        body.extend(sections(":sunny: Everyone's in this week.", lines[: len(content.coming_holidays)]))
    body += _footer(content)
    people = len({s.name for s in content.coming})
    summary = f"Who's off this week ({fmt.day_range(start, end)}): " + (
        f"{people} " + ("person" if people == 1 else "people") if people else "everyone's in"
    )
    return _paginate(title, body, summary)


def whos_off_blocks(report: WhosOffReport, *, show_kind: bool = True) -> Blocks:
    """``/whosoff``: one message, grouped by day, half days and holidays marked."""
    if report.start == report.end:
        title = f"*Who's off on {fmt.day(report.start)}*"
    else:
        title = f"*Who's off, {fmt.day_range(report.start, report.end)}*"
    blocks: Blocks = [section(title)]
    nobody = True
    for day in report.days:
        lines = [f":tada: {esc(h.name[:MAX_NAME])}" for h in day.holidays]
        lines += [line(e, show_kind, portion_tag=True) for e in day.entries]
        nobody = nobody and not day.entries
        if lines:
            blocks.extend(sections(f"*{fmt.day(day.day)}*", lines))
    if nobody and not any(d.holidays for d in report.days):  # weekends without anyone off have no day
        blocks.append(section("Everyone's in. :sunny:"))
    notes = [context(esc(note)) for note in report.notes]
    if not report.scope.everyone:
        notes.append(context(f"Showing {report.scope.describe()}."))
    if len(blocks) + len(notes) > MAX_BLOCKS:  # say so rather than leave people out without a word
        blocks = blocks[: MAX_BLOCKS - len(notes) - 1]
        blocks.append(context("That's more than one message holds: ask for fewer days, like `/whosoff today`."))
    return blocks + notes
