"""Hours worked and who's in now, in Block Kit."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.parse import esc
from bot.usecases.hours import HoursReport
from bot.usecases.whos_in import InEntry, WhosInReport
from handlers.render.blocks import Blocks, context, section
from handlers.render.whos_off import MAX_BLOCKS, MAX_NAME, line, sections

hm = fmt.hours_minutes


def hours_title(report: HoursReport) -> str:
    if report.start == report.end:
        return f"Hours worked on {fmt.day(report.start)}"
    return f"Hours worked, {fmt.day_range(report.start, report.end)}"


def hours_blocks(report: HoursReport) -> Blocks:
    """A line per day, the range's total, and per project where the vendor has them."""
    lines = []
    long = len(report.days) > 7  # over a week: the days with hours, and a subtotal per week
    week_total = timedelta()
    week_start: date | None = None
    for n, day in enumerate(report.days):
        running = " _(running)_" if day.running else ""
        if not long or day.worked or day.running:
            lines.append(f"• {fmt.day(day.day)}: *{hm(day.worked)}*{running}")
        if long:
            week_start = week_start or day.day
            week_total += day.worked
            if day.day.weekday() == 6 or n == len(report.days) - 1:
                lines.append(f"_Week {fmt.day_range(week_start, day.day)}: {hm(week_total)}_")
                week_total, week_start = timedelta(), None
    blocks: Blocks = [section(f"*{hours_title(report)}*")]
    if len(report.days) > 1:
        blocks.extend(sections("*Per day*", lines))
        blocks.append(section(f"*Total: {hm(report.total)}*"))
    else:
        blocks.append(section(f"*Total: {hm(report.total)}*" + (" _(running)_" if report.days[0].running else "")))
    if report.projects:
        project_lines = [
            f"• {esc(name[:MAX_NAME])}: {hm(span)}"
            for name, span in sorted(report.projects.items(), key=lambda p: -p[1])
        ]
        blocks.extend(sections("*Per project*", project_lines))
    notes = [f"From {esc(report.vendor)}; days in your time zone ({report.tz.key})."]
    if report.running_since is not None:
        notes.append(f"Your running session since {fmt.clock(report.running_since, report.tz)} counts up to now.")
    blocks.append(context(" ".join(notes)))
    return blocks[:50]


def hours_line(report: HoursReport, week: HoursReport | None = None) -> str:
    """The App Home line: today, and the week so far."""
    text = f"*Hours* ({esc(report.vendor)}): today {hm(report.total)}"
    if week is not None:
        text += f" · this week {hm(week.total)}"
    return text


def whos_in_blocks(report: WhosInReport, tz: ZoneInfo, *, show_kind: bool = True) -> Blocks:
    """``/whosin``: who is clocked in (earliest first), then who is on leave today, apart."""
    today = report.now.astimezone(tz).date()

    def in_line(entry: InEntry) -> str:
        who = esc(entry.name[:MAX_NAME])  # names as the directory knows them, as who's off shows them
        project = f" · {esc(entry.project[:100])}" if entry.project else ""
        return f"• {who} since {fmt.clock(entry.since, tz, with_day=True, today=today)}{project}"

    blocks: Blocks = [section(f"*Who's in now* · {fmt.clock(report.now, tz)}")]
    if report.entries:
        blocks.extend(sections(f"*Clocked in* ({len(report.entries)})", [in_line(e) for e in report.entries]))
    else:
        blocks.append(section("Nobody is clocked in right now."))
    if report.on_leave:
        blocks.extend(
            sections(
                f"*On leave today* ({len(report.on_leave)})",
                [line(e, show_kind, portion_tag=True) for e in report.on_leave],
            )
        )
    notes = [context(esc(note)) for note in report.notes]
    if len(blocks) + len(notes) > MAX_BLOCKS:  # say so rather than leave people out without a word
        blocks = blocks[: MAX_BLOCKS - len(notes) - 1]
        blocks.append(context("That's more than one message holds; the list is cut here."))
    return blocks + notes
