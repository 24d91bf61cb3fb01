"""``/timebot status``: the status report, which accounts are linked and whether the clock runs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import formatting as fmt
from bot.parse import esc
from bot.usecases.home import StatusReport


def status_text(report: StatusReport, tz: ZoneInfo, now: datetime) -> str:
    lines = ["*Your Timebot status*"]
    for i in report.identities:
        if i.linked_by == "email":
            who = f" as {esc(i.name)}" if i.name else ""
            lines.append(f"• Matched by email{who} in {esc(i.label)} (user {esc(i.vendor_user_id)}).")
        else:
            how = "linked by an admin" if i.linked_by.startswith("admin") else "linked by you"
            lines.append(f"• {esc(i.label)}: user {esc(i.vendor_user_id)} ({how})")
    for _, label in report.needs_link:
        lines.append(f"• {esc(label)}: not linked yet. Type `/timebot link` to connect your account.")
    for label, what in report.unmatched:
        lines.append(f"• {esc(label)}: {esc(what)}")
    if not (report.identities or report.needs_link or report.unmatched):
        lines.append("• No vendor is set up yet: an admin needs to configure one (see the README).")
    clock_ready = report.clock_linked
    if report.clock_error:
        lines.append(f"Clock: {esc(report.clock_error)}")
    elif report.session:
        lines.append(
            f"Clock: :large_green_circle: clocked in since "
            f"{fmt.clock(report.session.started_at, tz, with_day=True, today=now.astimezone(tz).date())}"
        )
    elif clock_ready:
        lines.append("Clock: not clocked in.")
    lines.append(f"Times are shown in your Slack time zone ({tz.key}).")
    return "\n".join(lines)
