"""``/timebot digest add|list|remove|preview``: translation only, the rules live in bot.digests."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from slack_bolt import Ack

from bot import formatting as fmt
from bot.digests.admin import DigestAdmin, SubscriptionView
from bot.digests.schedule import next_run
from bot.digests.spec import DIGEST_SYNTAX, DigestSpec, describe_days, parse_spec
from bot.domain import Actor
from bot.parse import InputError, esc, parse_channel
from bot.usecases.scope import Scope
from handlers.render.whos_off import fmt_short_day
from handlers.turn import Reply, Turn


def _channel_arg(args: Sequence[str], what: str) -> str:
    if not args:
        raise InputError(f"Which channel? Mention it, like `/timebot digest {what} #team`.")
    return parse_channel(args[0])


def digest(turn: Turn, args: list[str], ack: Ack) -> None:
    """Parse at once (bad input is answered in the ack), then run the admin-only use case."""
    action = args[0].lower() if args else "help"
    rest = args[1:]
    digests = turn.services.digests
    command = turn.request or {}
    if action == "add":
        channel = _channel_arg(rest, "add")
        spec = parse_spec(rest[1:], channel)
        ack()
        turn.later(lambda actor: _added(digests, actor, channel, spec))
    elif action in {"list", "ls"}:
        ack()
        turn.later(lambda actor: _listed(digests, actor))
    elif action in {"remove", "rm", "delete"}:
        channel = _channel_arg(rest, "remove")
        ack()
        turn.later(lambda actor: _removed(digests, actor, channel))
    elif action == "preview":
        channel = parse_channel(rest[0]) if rest else command.get("channel_id") or ""
        if not channel:
            raise InputError("Which channel? `/timebot digest preview #team`.")
        ack()
        turn.later(lambda actor: _previewed(digests, actor, channel, turn))
    else:
        ack(text=f"Digests of who's off: {DIGEST_SYNTAX}.")


def _added(digests: DigestAdmin, actor: Actor, channel: str, spec: DigestSpec) -> Reply:
    view, created = digests.subscribe(actor, channel, spec)
    what = "Added a" if created else "Updated the"
    text = f"{what} {view.sub.cadence} digest: {describe(view, digests)}."
    return Reply(text + (f"\n:warning: {view.warning}" if view.warning else ""))


def _removed(digests: DigestAdmin, actor: Actor, channel: str) -> Reply:
    if digests.unsubscribe(actor, channel):
        return Reply(f"Removed the daily digest of <#{channel}>.")
    return Reply(f"<#{channel}> had no daily digest.")


def _listed(digests: DigestAdmin, actor: Actor) -> Reply:
    views = digests.overview(actor)
    if not views:
        return Reply("No channel gets a digest yet. Add one: `/timebot digest add #team 09:00 mon-fri`.")
    lines = ["*Digests*"] + [f"• {describe(v, digests)}" for v in views]
    return Reply("\n".join(lines))  # plain message text: Slack takes 40,000 characters, no block to fit


def _previewed(digests: DigestAdmin, actor: Actor, channel: str, turn: Turn) -> Reply:
    _, messages = digests.preview(actor, channel)
    if not digests.has_digest(actor.team_id, channel):  # say so: a preview of defaults would pass for the real one
        turn.send(
            Reply(
                f"<#{channel}> has no daily digest. Here is what one with the default settings would post "
                f"today; add it with `/timebot digest add <#{channel}> 09:00 mon-fri`."
            )
        )
    for message in messages[:-1]:
        turn.send(Reply(message.text, message.blocks))
    last = messages[-1]
    return Reply(last.text, last.blocks)


def describe(view: SubscriptionView, digests: DigestAdmin) -> str:
    """One line: channel, scope, cadence, zone, next run (then options and the last run)."""
    s = view.sub
    weekly = s.cadence == "weekly"
    cadence = (
        f"weekly on {describe_days(s.days)} at {s.hour:02d}:{s.minute:02d}"
        if weekly
        else f"daily at {s.hour:02d}:{s.minute:02d} on {describe_days(s.days)}"
    )
    text = f"<#{s.channel_id}> · {Scope.from_stored(s.scope).describe()} · {cadence} · {esc(s.tz)}"
    upcoming = view.next_at or next_run(s, digests.now())
    text += (
        f" · next {fmt.clock(upcoming, ZoneInfo(s.tz), with_day=True)}" if upcoming is not None else " · no next run"
    )
    options = ["skips empty days" if s.skip_empty else "says so on empty days"]
    if not weekly:
        options.append(
            f"looks {s.days_ahead} working day{'s' if s.days_ahead != 1 else ''} ahead"
            if s.days_ahead
            else "today only"
        )
    if s.show_kind is not None:
        options.append("kinds shown" if s.show_kind else "kinds hidden")
    if s.mentions:
        options.append("mentions people")
    text += f" ({'; '.join(options)})"
    if view.last is not None:
        text += f". Last: {fmt_short_day(view.last.local_date)} {view.last.status}"
    return text
