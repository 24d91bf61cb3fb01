"""``/whosin #team``: the morning view, each person's times in their own zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.parse import esc
from bot.usecases.morning import Member, MorningReport
from handlers.render.blocks import Blocks, context, section
from handlers.render.whos_off import MAX_BLOCKS, MAX_NAME, line, sections


def morning_blocks(report: MorningReport, tz: ZoneInfo, *, show_kind: bool = True) -> Blocks:
    """Clocked in, on leave, not in yet, then whose day it isn't (weekend or holiday where they are)."""
    today = report.now.astimezone(tz).date()

    def member(m: Member) -> str:
        return f"• {esc(m.name[:MAX_NAME])} · {fmt.wall_time(m.local)} where they are ({m.local.tzname()})"

    blocks: Blocks = [section(f"*Who's in* · {esc(report.scope.describe())} · {fmt.clock(report.now, tz)}")]
    if report.clocked_in:
        blocks.extend(
            sections(
                f"*In* ({len(report.clocked_in)})",
                [
                    f"• {esc(e.name[:MAX_NAME])} since {fmt.clock(e.since, tz, with_day=True, today=today)}"
                    for e in report.clocked_in
                ],
            )
        )
    else:
        blocks.append(section("Nobody here is clocked in right now."))
    if report.on_leave:
        blocks.extend(
            sections(
                f"*On leave* ({len(report.on_leave)})", [line(e, show_kind, portion_tag=True) for e in report.on_leave]
            )
        )
    if report.not_in:
        blocks.extend(sections(f"*Not in yet* ({len(report.not_in)})", [member(m) for m in report.not_in]))
    if report.not_working:
        blocks.extend(
            sections(
                f"*Not a working day for them* ({len(report.not_working)})", [member(m) for m in report.not_working]
            )
        )
    notes = [context(esc(note)) for note in report.notes]
    if len(blocks) + len(notes) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - len(notes) - 1]
        blocks.append(context("That's more than one message holds; the list is cut here."))
    return blocks + notes
