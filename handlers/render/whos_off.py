"""``/timebot digest …`` and the digest's Block Kit: translation only, the rules live in bot.digest.

Slack's limits shape the rendering: at most 50 blocks per message and 3,000 characters per text
field. Lines (one per person) are packed into sections under those limits and sections into as
many messages as needed; a line is never split or dropped, so nobody is left out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.context import Services
from bot.digest import DigestContent, DigestMessage, Digests, SubscriptionView, next_run
from bot.digest_spec import DIGEST_SYNTAX, DigestSpec, describe_days, parse_spec
from bot.domain import Portion
from bot.parse import InputError, parse_channel
from bot.usecases import Actor, OffEntry
from handlers.blocks import context, esc, plain
from handlers.commands import subcommand
from handlers.common import Reply, later, send

log = logging.getLogger(__name__)

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_NAME = 200  # a name this long is cut, so one person's line always fits a section

Blocks = list[dict[str, Any]]


# --- rendering -----------------------------------------------------------------------------------


def _day(day: date) -> str:
    return day.strftime("%a %d %b")


def _who(entry: OffEntry) -> str:
    if entry.slack_user_id:
        return f"<@{entry.slack_user_id}>"
    name = entry.name if len(entry.name) <= MAX_NAME else entry.name[: MAX_NAME - 1] + "…"
    return esc(name)


def _back(entry: OffEntry, today: date) -> str:
    if entry.back_on is None:
        return ""
    if entry.back_on == today:
        return " — back this afternoon"
    if entry.back_on == today + timedelta(days=1):
        return " — back tomorrow"
    return f" — back {_day(entry.back_on)}"


def _line(entry: OffEntry, show_kind: bool, *, today: date | None = None, portion_tag: bool = False) -> str:
    """One person: who, (portion), kind if allowed, pending, when back. Never the reason."""
    parts = [f"• {_who(entry)}"]
    if portion_tag and entry.portion is not Portion.FULL:
        parts.append(" _(morning)_" if entry.portion is Portion.AM else " _(afternoon)_")
    if show_kind and entry.kind:
        parts.append(f" · {esc(entry.kind[:100])}")
    if entry.status == "pending":
        parts.append(" · pending")
    if today is not None:
        parts.append(_back(entry, today))
    return "".join(parts)


def _sections(title: str, lines: Sequence[str]) -> Blocks:
    """``title`` then ``lines``, packed into as few sections as fit 3,000 characters each."""
    blocks: Blocks = []
    current = title
    for line in lines:
        if len(current) + 1 + len(line) > MAX_TEXT:
            blocks.append(_section(current))
            current = f"{title} _(continued)_"
        current += "\n" + line
    blocks.append(_section(current))
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _paginate(title: str, body: Blocks, summary: str) -> list[DigestMessage]:
    """Body blocks into messages of at most 50 blocks, each opened by a header."""
    per_message = MAX_BLOCKS - 1
    chunks = [body[i:i + per_message] for i in range(0, len(body), per_message)] or [[]]
    messages = []
    for n, chunk in enumerate(chunks, start=1):
        suffix = f" ({n}/{len(chunks)})" if len(chunks) > 1 else ""
        header = {"type": "header", "text": plain(f"{title}{suffix}", limit=150)}
        messages.append(DigestMessage(f"{summary}{suffix}"[:MAX_TEXT], [header, *chunk]))
    return messages


def render_digest(content: DigestContent, show_kind: bool) -> list[DigestMessage]:
    """The channel's digest as one or more messages Slack accepts."""
    today = content.day
    title = f"Who's off today · {_day(today)}"
    body: Blocks = []
    if content.preview:
        body.append(context(f"Preview for <#{content.channel_id}>: only you can see this."
                            + (" It skips empty days, so today it would get nothing."
                               if content.skip_empty and content.empty else "")))
    if content.due_at is not None:
        body.append(context(f":hourglass_flowing_sand: Posted late: this digest was due at "
                            f"{content.due_at:%H:%M %Z}."))
    for holiday in content.today.holidays:
        body.append(_section(f":tada: *Public holiday:* {esc(holiday.name[:MAX_NAME])}"))
    entries = content.today.entries
    if not entries:
        body.append(_section(":sunny: Everyone's in today." if not content.today.holidays
                             else "Nobody else is off today."))
    groups = (("All day", Portion.FULL), ("Morning only", Portion.AM), ("Afternoon only", Portion.PM))
    for label, portion in groups:
        members = [e for e in entries if e.portion is portion]
        if members:
            body.extend(_sections(f"*{label}* ({len(members)})", [_line(e, show_kind, today=today) for e in members]))
    upcoming_lines = 0
    coming: Blocks = []
    for report in content.upcoming:
        lines = [f":tada: {esc(h.name[:MAX_NAME])}" for h in report.holidays]
        lines += [_line(e, show_kind, portion_tag=True) for e in report.entries]
        upcoming_lines += len(report.entries)
        if lines:
            coming.extend(_sections(f"*{_day(report.day)}*", lines))
    if content.days_ahead:
        body.append({"type": "divider"})
        span = f"next {content.days_ahead} working day" + ("s" if content.days_ahead != 1 else "")
        if coming:
            body.append(_section(f"*Coming up* ({span})"))
            body.extend(coming)
        else:
            body.append(context(f"Nobody is off in the {span}."))
    for note in content.notes:
        body.append(context(esc(note)))
    body.append(context(f"Dates in {esc(content.tz)}."))
    count = len(entries)
    summary = f"Who's off today ({_day(today)}): " + (f"{count} " + ("person" if count == 1 else "people")
                                                      if count else "everyone's in")
    return _paginate(title, body, summary)


# --- /timebot digest ---------------------------------------------------------------------------------


def _digests(services: Services) -> Digests:
    digests = services.extras.get("digests")
    if digests is None:
        raise InputError("Digests aren't set up in this Timebot.")
    return digests  # type: ignore[no-any-return]


def _channel_arg(args: Sequence[str], what: str) -> str:
    if not args:
        raise InputError(f"Which channel? Mention it, like `/timebot digest {what} #team`.")
    return parse_channel(args[0])


@subcommand("digest")
def digest_command(services: Services, command: dict[str, Any], args: list[str], ack: Ack, respond: Respond,
                   client: WebClient) -> None:
    """Parse at once (bad input is answered in the ack), then run the admin-only use case."""
    action = args[0].lower() if args else "help"
    rest = args[1:]
    digests = _digests(services)
    team, user = command["team_id"], command["user_id"]
    if action == "add":
        channel = _channel_arg(rest, "add")
        spec = parse_spec(rest[1:])
        ack()
        later(services, team, user, client, lambda actor: _added(digests, actor, channel, spec), request=command,
              respond=respond)
    elif action in {"list", "ls"}:
        ack()
        later(services, team, user, client, lambda actor: _listed(digests, actor), request=command, respond=respond)
    elif action in {"remove", "rm", "delete"}:
        channel = _channel_arg(rest, "remove")
        ack()
        later(services, team, user, client, lambda actor: _removed(digests, actor, channel), request=command,
              respond=respond)
    elif action == "preview":
        channel = parse_channel(rest[0]) if rest else command.get("channel_id") or ""
        if not channel:
            raise InputError("Which channel? `/timebot digest preview #team`.")
        ack()
        later(services, team, user, client, lambda actor: _previewed(digests, actor, channel, client, respond),
              request=command, respond=respond)
    else:
        ack(text=f"Daily digests of who's off: {DIGEST_SYNTAX}.")


def _added(digests: Digests, actor: Actor, channel: str, spec: DigestSpec) -> Reply:
    sub, created = digests.subscribe(actor, channel, spec)
    view = SubscriptionView(sub, None, None)
    what = "Added a" if created else "Updated the"
    return Reply(f"{what} daily digest: {describe(view, digests)}.\n"
                 f"If <#{channel}> is private, invite me first (`/invite @Timebot`) or the post will fail.")


def _removed(digests: Digests, actor: Actor, channel: str) -> Reply:
    if digests.unsubscribe(actor, channel):
        return Reply(f"Removed the daily digest of <#{channel}>.")
    return Reply(f"<#{channel}> had no daily digest.")


def _listed(digests: Digests, actor: Actor) -> Reply:
    views = digests.overview(actor)
    if not views:
        return Reply("No channel gets a daily digest yet. Add one: `/timebot digest add #team 09:00 mon-fri`.")
    lines = ["*Daily digests*"] + [f"• {describe(v, digests)}" for v in views]
    return Reply("\n".join(lines))  # plain message text: Slack takes 40,000 characters, no block to fit


def _previewed(digests: Digests, actor: Actor, channel: str, client: WebClient, respond: Respond) -> Reply:
    _, messages = digests.preview(actor, channel)
    for message in messages[:-1]:
        send(client, actor.user_id, Reply(message.text, message.blocks), respond)
    last = messages[-1]
    return Reply(last.text, last.blocks)


def describe(view: SubscriptionView, digests: Digests) -> str:
    s = view.sub
    empty = "skips empty days" if s.skip_empty else "says so on empty days"
    ahead = (f"looks {s.days_ahead} working day{'s' if s.days_ahead != 1 else ''} ahead" if s.days_ahead
             else "today only")
    text = f"<#{s.channel_id}> at {s.hour:02d}:{s.minute:02d} {esc(s.tz)}, {describe_days(s.days)}; {empty}; {ahead}"
    upcoming = view.next_at or next_run(s, digests.now())
    if upcoming is not None:
        text += f". Next: {upcoming:%a %d %b %H:%M %Z}"
    if view.last is not None:
        text += f". Last: {_day(view.last.local_date)} {view.last.status}"
    return text
