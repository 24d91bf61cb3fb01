"""Calendar feeds: secret iCal URLs for "my leave" and for a scope the person may see.

The feed shows what ``/whosoff`` shows for the same days, as the feed's owner may read it (sick
leave masked by the same rule), built with ``icalendar``: a full day is an all-day event, a
half day a timed event in the absent person's own zone, public holidays all-day events.

A token is ``HMAC(secret key, salt)``: only its SHA-256 is stored, so a copy of the database
opens no feed, and the same URL comes back when the person asks again. Every process shares
each feed's last build (``storage.calendar``): a poll within ``FRESH`` of it costs no vendor
read, and a stale feed is rebuilt by the one process that claims it, however many calendar apps
poll at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.domain import Actor, Portion, SickLeave
from bot.errors import UserError, VendorError
from bot.usecases.people import People
from bot.usecases.ranges import OffSpan, is_working_day
from bot.usecases.scope import Scope
from bot.usecases.whos_off import WhosOff, WhosOffReport
from storage.calendar import CalendarStore
from storage.models import CalendarFeed

log = logging.getLogger(__name__)

FRESH = timedelta(minutes=5)  # at most one vendor read per feed in this long
CLAIM = timedelta(seconds=60)  # a rebuild claim older than this is presumed dead
BACK, AHEAD = 30, 334  # days shown: 365 in all, one company-wide read on vendors that page by year
MINE = "mine"
EVERYONE = "all"
PATH_PREFIX, SUFFIX = "/calendar/", ".ics"
NOT_A_MEMBER = "Only members of that channel can have its calendar."
# Half days as a calendar shows them, in the absent person's zone.
MORNING = (clock_time(9, 0), clock_time(13, 0))
AFTERNOON = (clock_time(13, 0), clock_time(17, 30))


@dataclass(frozen=True)
class FeedLink:
    label: str
    url: str


@dataclass(frozen=True)
class Served:
    body: str
    etag: str
    modified: datetime


class FeedGone(Exception):
    """The owner may no longer see the feed's scope (they left the channel): it is revoked."""


class FeedBusy(Exception):
    """The feed has never been built and another process is building it, or the vendor failed."""


def feed_token(secret: bytes, salt: str) -> str:
    digest = hmac.new(secret, b"calendar:" + salt.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Calendars:
    def __init__(
        self,
        people: People,
        whos_off: WhosOff,
        store: CalendarStore,
        secret: bytes,
        public_url: str | None,
        *,
        show_kind: bool,
        sick: SickLeave,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.people = people
        self.whos_off = whos_off
        self.store = store
        self.secret = secret
        self.public_url = public_url.rstrip("/") if public_url else None
        self.show_kind = show_kind
        self.sick = sick
        self.sleep = sleep

    # --- the person's side -----------------------------------------------------------------

    def links(self, actor: Actor, scope: Scope | None = None) -> list[FeedLink]:
        """The URL of "my leave" and, with ``scope``, of that scope's leave (made on first ask)."""
        if not self.public_url:
            raise UserError("Calendar feeds need the bot's public address: an admin sets TIMEBOT_PUBLIC_URL.")
        wanted = [(MINE, "Your leave")]
        if scope is not None:
            self._may_see(actor, scope)
            wanted.append((scope.stored() or EVERYONE, f"Leave of {scope.describe()}"))
        out = []
        for key, label in wanted:
            row = self.store.feed(actor.team_id, actor.user_id, key)
            if row is None:
                salt = secrets.token_urlsafe(24)
                row = self.store.add(
                    CalendarFeed(
                        team_id=actor.team_id,
                        slack_user_id=actor.user_id,
                        scope=key,
                        salt=salt,
                        token_hash=token_hash(feed_token(self.secret, salt)),
                    )
                )
            token = feed_token(self.secret, row.salt)
            if token_hash(token) != row.token_hash and row.id is not None:  # TIMEBOT_SECRET_KEY was rotated
                self.store.rehash(row.id, token_hash(token))
            out.append(FeedLink(label, f"{self.public_url}{PATH_PREFIX}{token}{SUFFIX}"))
        self.people.audit(actor.team_id, actor.user_id, "-", "calendar links", "ok", ", ".join(k for k, _ in wanted))
        return out

    def reset(self, actor: Actor) -> int:
        """Revoke every feed of the person: their URLs answer 404 from now on."""
        removed = self.store.revoke(actor.team_id, actor.user_id)
        self.people.audit(actor.team_id, actor.user_id, "-", "calendar reset", "ok", f"{removed} feeds revoked")
        return removed

    def _may_see(self, actor: Actor, scope: Scope) -> None:
        """A channel's feed is for its members (and admins): it would otherwise show who belongs
        to a private channel. Groups, departments and everyone are what ``/whosoff`` shows anyone."""
        if (
            scope.kind == "members"
            and not actor.is_admin
            and actor.user_id not in self.whos_off.directory.people(scope, fresh=True)
        ):
            raise UserError(NOT_A_MEMBER)

    # --- serving ---------------------------------------------------------------------------

    def serve(self, token: str) -> Served | None:
        """The feed for ``token``; None when there is no such feed (never made, or revoked)."""
        row = self.store.by_token_hash(token_hash(token))
        if row is None or row.id is None:
            return None
        now = self.people.now()
        if row.built_at is not None and now - _aware(row.built_at) < FRESH:
            return _served(row)
        if self.store.claim_refresh(row.id, now, FRESH, CLAIM):
            try:
                body = self.build(row)
            except FeedGone:
                self.store.remove(row.id)
                return None
            except (VendorError, UserError) as exc:
                self.store.release(row.id)
                log.warning("calendar feed %s could not be rebuilt: %s", row.id, type(exc).__name__)
                if row.body:
                    return _served(row)  # yesterday's leave beats no calendar at all
                raise FeedBusy from None
            etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
            self.store.store_build(row.id, body, etag, now)
            fresh = self.store.by_token_hash(row.token_hash)
            return _served(fresh) if fresh is not None else None
        if row.body:
            return _served(row)  # another process is rebuilding it: the last build meanwhile
        for _ in range(40):  # its very first build is under way elsewhere: wait for it, briefly
            self.sleep(0.25)
            again = self.store.by_token_hash(row.token_hash)
            if again is None:
                return None
            if again.body:
                return _served(again)
        raise FeedBusy

    def build(self, row: CalendarFeed) -> str:
        actor = self.people.actor(row.team_id, row.slack_user_id)
        if row.scope not in (MINE, EVERYONE):
            try:
                self._may_see(actor, Scope.from_stored(row.scope))
            except UserError as exc:
                if exc.message == NOT_A_MEMBER:
                    raise FeedGone from None
                raise
        today = actor.today(self.people.now())
        start, end = today - timedelta(days=BACK), today + timedelta(days=AHEAD)
        report = self.report(actor, row.scope, start, end)
        return render_feed(
            report,
            self._zone_of(row.team_id, actor.tz),
            self.people.now(),
            "My leave" if row.scope == MINE else f"Leave of {report.scope.describe()}",
        )

    def report(self, actor: Actor, stored_scope: str, start: date, end: date) -> WhosOffReport:
        """What ``/whosoff`` would show ``actor`` for [start, end] in the feed's scope."""
        scope = (
            Scope("person", actor.user_id)
            if stored_scope == MINE
            else Scope.from_stored("" if stored_scope == EVERYONE else stored_scope)
        )
        return self.whos_off.whos_off(actor.team_id, start, end, scope).masked(  # admin as of now: a demoted
            show_kind=self.show_kind,
            sick=self.sick,
            viewer=actor.user_id,  # admin's feed masks sick leave again
            admin=self.people.is_admin(actor),
        )

    def _zone_of(self, team_id: str, viewer: ZoneInfo) -> Callable[[str | None], ZoneInfo]:
        """Each absent person's Slack zone (kept by the hourly directory read); the feed owner's
        for someone Slack hasn't told us about yet."""
        zones = {p.slack_user_id: p.tz for p in self.whos_off.store.people(team_id) if p.tz}

        def zone(slack_id: str | None) -> ZoneInfo:
            return self.people.zone(zones[slack_id]) if slack_id in zones else viewer

        return zone


def render_feed(report: WhosOffReport, zone_of: Callable[[str | None], ZoneInfo], now: datetime, name: str) -> str:
    cal = Calendar()
    cal.add("prodid", "-//Timebot//Leave calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-published-ttl", "PT5M")  # calendar apps may poll often: the bot answers from its last build
    off_days = {h.day for h in report.holidays}
    stamp = now.astimezone(UTC)
    for span in report.spans:
        for event in _span_events(span, off_days, zone_of(span.slack_user_id)):
            event.add("dtstamp", stamp)
            cal.add_component(event)
    for holiday in report.holidays:
        event = Event()
        event.add("uid", _uid("holiday", holiday.day.isoformat(), holiday.name))
        event.add("summary", f"Public holiday: {holiday.name}")
        event.add("dtstart", holiday.day)
        event.add("dtend", holiday.day + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        event.add("dtstamp", stamp)
        cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical.decode()


def _span_events(span: OffSpan, off_days: set[date], zone: ZoneInfo) -> list[Event]:
    """One continuous absence: an all-day event over its full days, a timed one per half day."""
    who = f"{span.name} · {span.kind or 'off'}" + (" (pending)" if span.status == "pending" else "")
    events = []
    first, last = span.first, span.last
    if first == last and span.first_portion is not Portion.FULL:
        return [_half(span, who, first, span.first_portion, zone)]
    if span.first_portion is Portion.PM:
        events.append(_half(span, who, first, Portion.PM, zone))
        first = _step(first, 1, off_days)
    if span.last_portion is Portion.AM and last >= first:
        events.append(_half(span, who, last, Portion.AM, zone))
        last = _step(last, -1, off_days)
    if first <= last:
        event = _event(span, who, "day", first)
        event.add("dtstart", first)
        event.add("dtend", last + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        events.append(event)
    return events


def _half(span: OffSpan, who: str, day: date, portion: Portion, zone: ZoneInfo) -> Event:
    begin, end = MORNING if portion is Portion.AM else AFTERNOON
    event = _event(span, who + (" (morning)" if portion is Portion.AM else " (afternoon)"), portion.value, day)
    event.add("dtstart", datetime.combine(day, begin, zone))
    event.add("dtend", datetime.combine(day, end, zone))
    return event


def _event(span: OffSpan, summary: str, part: str, day: date) -> Event:
    event = Event()
    event.add("uid", _uid(span.slack_user_id or span.name, span.kind or "", part, day.isoformat()))
    event.add("summary", summary)
    event.add("status", "TENTATIVE" if span.status == "pending" else "CONFIRMED")
    return event


def _step(day: date, direction: int, off_days: set[date]) -> date:
    day += timedelta(days=direction)
    for _ in range(14):
        if is_working_day(day, off_days):
            return day
        day += timedelta(days=direction)
    return day


def _uid(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24] + "@timebot"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _served(row: CalendarFeed) -> Served:
    return Served(row.body, row.etag, _aware(row.modified_at or row.built_at or row.created_at))
