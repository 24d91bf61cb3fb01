"""The admins' digest use cases: subscribe, unsubscribe, list and preview a channel's digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digests.content import DigestMessage
from bot.digests.poster import Digests
from bot.digests.schedule import next_run
from bot.digests.spec import DigestSpec
from bot.domain import Actor
from bot.usecases.people import People
from storage.models import DigestRun, DigestSubscription


@dataclass(frozen=True)
class SubscriptionView:
    sub: DigestSubscription
    next_at: datetime | None
    last: DigestRun | None
    warning: str = ""  # what the admin must do before it can post (a private channel to join)


class DigestAdmin:
    """Admin-only: every use case checks the person first."""

    def __init__(self, digests: Digests, people: People) -> None:
        self.digests = digests
        self.people = people
        self.store = digests.store

    def now(self) -> datetime:
        return self.digests.now()

    def subscribe(self, actor: Actor, channel_id: str, spec: DigestSpec) -> tuple[SubscriptionView, bool]:
        """Save and schedule; the view says when the bot can't post there (a private channel it
        isn't in: Slack hides those from it, so the digest and a ``members`` scope would fail)."""
        self.people.require_admin(actor, "digest add")
        self.digests.builder.whos_off.check_scope(spec.scope)
        tz = spec.tz or actor.tz.key
        sub = DigestSubscription(
            team_id=actor.team_id,
            channel_id=channel_id,
            hour=spec.hour,
            minute=spec.minute,
            tz=tz,
            days=spec.days,
            skip_empty=spec.skip_empty,
            days_ahead=spec.days_ahead,
            scope=spec.scope.stored(),
            cadence=spec.cadence,
            show_kind=spec.show_kind,
            mentions=spec.mentions,
            created_by=actor.user_id,
        )
        access = self.digests.builder.whos_off.directory.access(channel_id)
        warning = (
            ""
            if access.visible and (access.is_member or not access.is_private)
            else (
                f"<#{channel_id}> is a private channel I'm not in (or one I can't see), so I can't post there. "
                "Invite me with `/invite @Timebot` in that channel; the digest starts with its next run after that."
            )
        )
        saved, created = self.store.save_subscription(sub, self.now())
        if self.digests.scheduler is not None:
            self.digests.scheduler.schedule(saved)
        self.people.audit(
            actor.team_id,
            actor.user_id,
            "-",
            "digest add",
            "ok",
            f"{channel_id} {saved.hour:02d}:{saved.minute:02d} {saved.tz} {saved.days}",
        )
        return SubscriptionView(saved, next_run(saved, self.now()), None, warning), created

    def unsubscribe(self, actor: Actor, channel_id: str) -> bool:
        self.people.require_admin(actor, "digest remove")
        removed = self.store.delete_subscription(actor.team_id, channel_id)
        if self.digests.scheduler is not None:
            self.digests.scheduler.unschedule(actor.team_id, channel_id)
        self.people.audit(actor.team_id, actor.user_id, "-", "digest remove", "ok" if removed else "none", channel_id)
        return removed

    def overview(self, actor: Actor) -> list[SubscriptionView]:
        self.people.require_admin(actor, "digest list")
        now = self.now()
        last = self.store.last_runs(actor.team_id, since=now.date() - timedelta(days=14))
        return [
            SubscriptionView(s, next_run(s, now), last.get(s.channel_id))
            for s in self.store.subscriptions(actor.team_id)
        ]

    def has_digest(self, team_id: str, channel_id: str) -> bool:
        return self.store.subscription(team_id, channel_id) is not None

    def preview(self, actor: Actor, channel_id: str) -> tuple[DigestSubscription, list[DigestMessage]]:
        """The digest the channel would get today, whether or not it is subscribed."""
        self.people.require_admin(actor, "digest preview")
        sub = self.store.subscription(actor.team_id, channel_id) or self.digests.adhoc(
            actor.team_id, channel_id, actor.tz.key
        )
        day = self.now().astimezone(ZoneInfo(sub.tz)).date()
        content = self.digests.builder.content(sub, day, preview=True, fresh=True)
        return sub, self.digests.builder.render(content, self.digests.builder.show_kind)
