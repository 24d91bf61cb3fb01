"""What ``/timebot help`` says (and an unknown ``/timebot`` subcommand, after saying so)."""

from __future__ import annotations

HELP = (
    "*Timebot* keeps your time and leave without leaving Slack.\n"
    "• `/clockin [project]`: start working\n"
    "• `/clockout [note]`: stop working\n"
    "• `/timeoff`: the leave form · `/timeoff sick today`, `/timeoff vacation 24 dec to 2 jan`, "
    "`/timeoff tomorrow pm`: sent at once (with Undo) when the days and the type are clear, else the form "
    "filled in · `/timeoff list`: your leave\n"
    "• `/whosoff [today|tomorrow|week|next week|2026-12-24|2026-12-24..2026-12-31]`: who is off\n"
    "• `/whosin`: who is clocked in right now\n"
    "• `/timebot hours [today|week|last week|2026-12-01..2026-12-07]`: hours worked\n"
    "• `/timebot link`: connect your account · `/timebot unlink` · `/timebot status`\n"
    "• `/timebot calendar [#channel|@group|dept=NAME|everyone]`: your leave in your calendar app\n"
    "• Admins and approvers: `/timebot report hours|absence last month [#channel|@group|dept=NAME]` (a CSV)\n"
    "• Admins: `/timebot link @person [id]`, `/timebot digest add|list|remove|preview`"
)
