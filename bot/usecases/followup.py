"""After the request: news to the requester, the approvers' DMs, reminders and cancelling.

Each status change is announced once across every process: the process that inserts the claim
``news:<vendor>:<request>:<status>`` sends the DM; the others, and a restart, see the claim and
stay quiet. Changes come from polling (``poll``) and from vendor webhooks (``vendor_event``).
Rendering is the handlers' (``handlers/render/leave.py``), handed in by the composition root.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, cast

from bot import formatting as fmt
from bot.domain import SICK_LEAVE, Absence, Action, Actor, LeaveRequest, SickLeave
from bot.errors import UserError, VendorError, VendorRejected
from bot.telemetry import metrics
from bot.usecases.leave import LeaveResult
from bot.usecases.people import People
from bot.usecases.ports import Slack, SlackError
from bot.usecases.whos_off import WhosOff
from bot.vendors.base import CancelVendor, LeaveDecisionVendor
from storage.followup import FollowupStore
from storage.models import LeaveTrack

log = logging.getLogger(__name__)

FINAL = frozenset({"approved", "denied", "cancelled"})
LIST_AHEAD = timedelta(days=366)
SEEN_BEHIND = timedelta(days=31)


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LeaveNews:
    """One request as the DMs show it."""

    slack_user_id: str
    vendor: str
    request_id: str
    start: date
    end: date
    kind: str
    status: str
    decided_by: str | None = None
    note: str | None = None
    working_days: float | None = None
    others_off: tuple[str, ...] = ()
    approval_url: str | None = None


@dataclass(frozen=True)
class MyLeave:
    """``/timeoff list`` and the Home section: the person's upcoming and pending requests."""

    vendor: str
    requests: list[Absence]
    can_cancel: bool
    error: str | None = None


@dataclass(frozen=True)
class Balances:
    """``balances`` is None when the vendor keeps none (shown as such, never as 0)."""

    vendor: str
    balances: list[Any] | None
    error: str | None = None


class FollowupRender(Protocol):
    def requester(self, news: LeaveNews) -> tuple[str, list[dict[str, Any]]]: ...

    def approver(self, news: LeaveNews) -> tuple[str, list[dict[str, Any]]]: ...

    def reminder(self, pending: Sequence[LeaveNews]) -> tuple[str, list[dict[str, Any]]]: ...


@dataclass
class FollowupSettings:
    approvers: str = ""
    remind_hours: float = 24.0
    backdate_days: int = 14
    sick: SickLeave = SICK_LEAVE


def cancellable(absence: Absence, today: date) -> bool:
    """What the person's list offers to cancel: leave that ends today or later, or is still pending."""
    return absence.end >= today or absence.status == "pending"


class LeaveFollowup:
    def __init__(
        self,
        people: People,
        whos_off: WhosOff,
        store: FollowupStore,
        render: FollowupRender,
        settings: FollowupSettings,
    ) -> None:
        self.people = people
        self.router = people.router
        self.whos_off = whos_off
        self.store = store
        self.render = render
        self.settings = settings
        # Told (team id, Slack user id) when a person's leave is withdrawn or refused, so what shows
        # their leave elsewhere (their Slack status) can put things back at once.
        self.leave_gone: list[Callable[[str, str], None]] = []

    @property
    def slack(self) -> Slack:
        return self.people.slack

    def _status_vendor(self, name: str) -> LeaveDecisionVendor | None:
        vendor = self.router.vendors.get(name)
        if vendor is None or Action.LEAVE_DECISION not in vendor.capabilities:
            return None
        return cast(LeaveDecisionVendor, vendor)

    def is_sick(self, kind: str | None) -> bool:
        return self.settings.sick(kind)

    # --- a new request ----------------------------------------------------------------------

    def requested(self, actor: Actor, result: LeaveResult, request: LeaveRequest) -> None:
        """Follow a request just made through Timebot and, while it is pending, tell its approvers."""
        vendor = self._status_vendor(self.router.leave().name)
        absence = result.absence
        if vendor is None or not absence.absence_id:
            return
        user = self.people.identity(actor, vendor)
        row = self.store.track(
            LeaveTrack(
                team_id=actor.team_id,
                slack_user_id=actor.user_id,
                vendor=vendor.name,
                request_id=absence.absence_id,
                vendor_user_id=user.vendor_user_id,
                start_day=absence.start,
                end_day=absence.end,
                kind=absence.kind or "Leave",
                status=absence.status,
                via="timebot",
                created_at=self.people.now(),
            )
        )
        if row.status != "pending":
            return
        approvers = self.approver_ids(actor, vendor, user)
        if not approvers:
            return
        news = self._news(row, vendor, note=request.note, working_days=result.working_days)
        for approver in approvers:
            if not self.store.claim(f"ask:{vendor.name}:{row.request_id}:{approver}"):
                continue
            text, blocks = self.render.approver(news)
            try:
                sent = self.slack.post(approver, text, blocks)
            except SlackError as exc:
                log.warning("could not DM approver %s: %s", approver, exc.error)
                continue
            assert row.id is not None
            self.store.add_approver_dm(row.id, sent.channel, sent.ts)

    def approver_ids(self, actor: Actor, vendor: LeaveDecisionVendor, user: Any) -> list[str]:
        """The vendor's approvers matched to Slack by email; else ``TIMEBOT_LEAVE_APPROVERS``."""
        found: list[str] = []
        try:
            named = vendor.approvers(user)
        except VendorError as exc:
            log.warning("%s approvers unknown: %s", vendor.label, exc.user_message)
            named = []
        for person in named:
            if not person.email:
                continue
            try:
                found.append(self.slack.user_id_by_email(person.email))
            except SlackError:
                log.info("approver %s has no Slack account with their %s email", person.vendor_user_id, vendor.label)
        if not found:
            found = self._configured_approvers()
        return [a for a in dict.fromkeys(found) if a != actor.user_id]

    def _configured_approvers(self) -> list[str]:
        ids: list[str] = []
        for item in (x.strip() for x in self.settings.approvers.split(",")):
            if not item:
                continue
            if item.startswith("@") or item[0] not in "UW":
                ids.extend(self._group_members(item.lstrip("@")))
            else:
                ids.append(item)
        return ids

    def _group_members(self, handle: str) -> list[str]:
        try:
            groups = self.slack.groups()
            group = next((g for g in groups if g.get("handle") == handle or g.get("id") == handle), None)
            if group is None:
                log.warning("TIMEBOT_LEAVE_APPROVERS names @%s, which is no Slack user group", handle)
                return []
            return self.slack.group_members(str(group["id"]))
        except SlackError as exc:
            log.warning("user group @%s unreadable: %s", handle, exc.error)
            return []

    def _news(
        self,
        row: LeaveTrack,
        vendor: LeaveDecisionVendor | None,
        *,
        note: str | None = None,
        working_days: float | None = None,
        others_off: bool = True,
    ) -> LeaveNews:
        """``others_off``: ask who else is off then (one who's-off read), for approvers' messages."""
        others: tuple[str, ...] = ()
        try:
            if not others_off:
                raise UserError("not asked")
            report = self.whos_off.whos_off(row.team_id, row.start_day, row.end_day)
            names = {e.name for d in report.days for e in d.entries if e.slack_user_id != row.slack_user_id}
            others = tuple(sorted(names))
        except (VendorError, UserError) as exc:
            log.info("who else is off unknown: %s", exc)
        absence = Absence(
            row.vendor_user_id, row.start_day, row.end_day, kind=row.kind, status=row.status, absence_id=row.request_id
        )
        return LeaveNews(
            row.slack_user_id,
            vendor.label if vendor else row.vendor,
            row.request_id,
            row.start_day,
            row.end_day,
            row.kind,
            row.status,
            row.decided_by or None,
            None if self.is_sick(row.kind) else note,
            working_days,
            others,
            vendor.approval_url(absence) if vendor else None,
        )

    # --- status changes -----------------------------------------------------------------------

    def poll(self, *, scan: bool = True) -> int:
        """Ask each vendor that reports status about the open requests; announce what changed
        (also what changed while no process ran). Returns how many changes were announced.
        ``scan``: also pick up pending requests of linked people from company-wide lists; without
        it a vendor with nothing open is not called (the poll at start-up)."""
        announced = 0
        for name in list(self.router.vendors):
            vendor = self._status_vendor(name)
            if vendor is None:
                continue
            try:
                announced += self._poll_vendor(vendor, scan)
            except (VendorError, UserError) as exc:
                log.warning("leave status poll of %s failed: %s", vendor.label, exc)
        return announced

    def _poll_vendor(self, vendor: LeaveDecisionVendor, scan: bool) -> int:
        rows = self.store.open_requests(vendor.name)
        today = self.people.now().date()
        if not rows and not scan:
            return 0
        if vendor.company_wide_status:
            start = min([r.start_day for r in rows] + [today - SEEN_BEHIND])
            end = max([r.end_day for r in rows] + [today + LIST_AHEAD])
            found = vendor.leave_requests(start, end, [])
            self._follow_seen(vendor, found)
            rows = self.store.open_requests(vendor.name)
        else:
            if not rows:
                return 0
            found = []
            for holder, mine in self._by_person(vendor, rows).items():
                found.extend(
                    vendor.leave_requests(min(r.start_day for r in mine), max(r.end_day for r in mine), [holder])
                )
        by_id = {a.absence_id: a for a in found if a.absence_id}
        announced = 0
        for row in rows:
            absence = by_id.get(row.request_id)
            status = absence.status if absence is not None else "cancelled"  # gone from the vendor's list
            if status in FINAL and self.announce(row, status, absence.decided_by if absence else None):
                announced += 1
        return announced

    def _by_person(self, vendor: LeaveDecisionVendor, rows: list[LeaveTrack]) -> dict[Any, list[LeaveTrack]]:
        grouped: dict[Any, list[LeaveTrack]] = {}
        for row in rows:
            identity = self.people.store.identity(row.team_id, row.slack_user_id, vendor.name)
            if identity is None:
                continue
            grouped.setdefault(self.people.vendor_user(identity), []).append(row)
        return grouped

    def _follow_seen(self, vendor: LeaveDecisionVendor, found: list[Absence]) -> None:
        """Pending requests of linked people that Timebot did not make are followed too."""
        for absence in found:
            if absence.status != "pending" or not absence.absence_id:
                continue
            if self.store.tracked(vendor.name, absence.absence_id) is not None:
                continue
            holders = self.people.store.identity_holders(vendor.name, absence.vendor_user_id)
            if not holders:
                continue
            self.store.track(
                LeaveTrack(
                    team_id=holders[0].team_id,
                    slack_user_id=holders[0].slack_user_id,
                    vendor=vendor.name,
                    request_id=absence.absence_id,
                    vendor_user_id=absence.vendor_user_id,
                    start_day=absence.start,
                    end_day=absence.end,
                    kind=absence.kind or "Leave",
                    status="pending",
                    via="list",
                    created_at=self.people.now(),
                )
            )

    def vendor_event(
        self, vendor_name: str, request_id: str, status: str, decided_by: str | None, at: datetime | None = None
    ) -> bool:
        """A change a vendor pushed (a verified webhook): announced now, once. ``at``, the event's
        time, when the vendor sends one: a decision older than the one recorded is not news (a
        late or replayed delivery) and must not replace it."""
        row = self.store.tracked(vendor_name, request_id)
        if row is None or status not in FINAL:
            return False
        if at is not None and row.status != "pending" and at <= _aware(row.updated_at):
            log.info(
                "ignored %s's %s for request %s: older than the %s recorded",
                vendor_name,
                status,
                request_id,
                row.status,
            )
            return False
        return self.announce(row, status, decided_by, at=at)

    def announce(self, row: LeaveTrack, status: str, decided_by: str | None, *, at: datetime | None = None) -> bool:
        """Tell the requester about ``status`` and update the approvers' DMs, exactly once. Only the
        process that wins the claim records the status: a claim already held means that status was
        announced before, and recording it again would rewind a later decision."""
        if row.status == status:
            return False
        if not self.store.claim(f"news:{row.vendor}:{row.request_id}:{status}"):
            return False
        self.store.settle(row, status, decided_by, at=at)
        metrics.leave_changes(1)
        if status in {"cancelled", "denied"}:
            self._tell_leave_gone(row.team_id, row.slack_user_id)
        latest = self.store.tracked(row.vendor, row.request_id) or row
        news = self._news(
            LeaveTrack(**{**latest.model_dump(), "status": status, "decided_by": decided_by or ""}),
            self._status_vendor(row.vendor),
            others_off=bool(latest.approver_dms),
        )
        text, blocks = self.render.requester(news)
        try:
            self.slack.post(row.slack_user_id, text, blocks)
        except SlackError as exc:
            log.error("could not tell %s about their leave: %s", row.slack_user_id, exc.error)
        self._update_approvers(latest, news)
        return True

    def _update_approvers(self, row: LeaveTrack, news: LeaveNews) -> None:
        text, blocks = self.render.approver(news)
        for item in filter(None, row.approver_dms.split(",")):
            channel, _, ts = item.partition(":")
            try:
                self.slack.update(channel, ts, text, blocks)
            except SlackError as exc:
                log.warning("approver message %s not updated: %s", item, exc.error)

    def remind(self) -> int:
        """Once a day per approver: the requests still pending after the reminder delay."""
        now = self.people.now()
        cutoff = now - timedelta(hours=self.settings.remind_hours)
        due: dict[str, list[LeaveNews]] = {}
        for row in self.store.open_requests():
            created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=now.tzinfo)
            if created > cutoff:
                continue
            news = self._news(row, self._status_vendor(row.vendor), others_off=False)  # the list shows no one else
            for item in filter(None, row.approver_dms.split(",")):
                due.setdefault(item.partition(":")[0], []).append(news)
        sent = 0
        for channel, pending in due.items():
            if not self.store.claim(f"remind:{channel}:{now.date().isoformat()}"):
                continue
            text, blocks = self.render.reminder(pending)
            try:
                self.slack.post(channel, text, blocks)
                sent += 1
                metrics.reminders("approval", 1)
            except SlackError as exc:
                log.warning("reminder to %s not sent: %s", channel, exc.error)
        return sent

    # --- my leave, cancel, balances ------------------------------------------------------------

    def my_leave(self, actor: Actor) -> MyLeave:
        vendor = self.router.leave()
        user = self.people.identity(actor, vendor)
        today = actor.today(self.people.now())
        found = vendor.my_absences(user, today - timedelta(days=self.settings.backdate_days), today + LIST_AHEAD)
        mine = [a for a in found if cancellable(a, today)]
        mine.sort(key=lambda a: (a.start, a.absence_id or ""))  # soonest first, as the Home lists it
        return MyLeave(vendor.label, mine, Action.CANCEL in vendor.capabilities)

    @metrics.attempted("cancel_leave")
    def cancel(self, actor: Actor, request_id: str) -> str:
        """Withdraw one of the person's own requests, once however often the button is pressed."""
        vendor = self.router.leave()
        if Action.CANCEL not in vendor.capabilities:
            raise VendorRejected(
                vendor.label, f"{vendor.label} doesn't let Timebot cancel leave: cancel it in {vendor.label} itself."
            )
        canceller = cast(CancelVendor, vendor)
        user = self.people.identity(actor, vendor)
        today = actor.today(self.people.now())
        mine = vendor.my_absences(user, today - timedelta(days=self.settings.backdate_days), today + LIST_AHEAD)
        absence = next((a for a in mine if a.absence_id == request_id), None)
        if absence is not None and not cancellable(absence, today):
            # an old list keeps its buttons: leave already taken is the vendor's record of it, not a request
            self.people.audit(
                actor.team_id,
                actor.user_id,
                vendor.name,
                "cancel_leave",
                "refused",
                f"request {request_id[:64]} ended {absence.end}",
            )
            raise VendorRejected(
                vendor.label,
                f"That {absence.kind or 'leave'} ended on {absence.end}, so it can't "
                f"be cancelled any more. Ask whoever keeps {vendor.label} to change it.",
            )
        mine_key = f"cancel:{vendor.name}:{request_id}:{actor.team_id}:{actor.user_id}"
        if absence is None:
            if self.store.claimed(mine_key):  # a double click that arrived after the delete
                return "That request is cancelled already."
            self.people.audit(
                actor.team_id,
                actor.user_id,
                vendor.name,
                "cancel_leave",
                "refused",
                f"request {request_id[:64]} is not theirs",
            )
            raise VendorRejected(vendor.label, "That isn't one of your requests, so it wasn't cancelled.")
        if not self.store.claim(f"cancel:{vendor.name}:{request_id}"):
            return "That request is being cancelled already."
        self.store.claim(mine_key)
        try:
            canceller.cancel_leave(user, request_id)
        except VendorError as exc:
            self.people.audit(actor.team_id, actor.user_id, vendor.name, "cancel_leave", "failed", exc.user_message)
            raise
        self.people.audit(
            actor.team_id,
            actor.user_id,
            vendor.name,
            "cancel_leave",
            "ok",
            f"{absence.start}..{absence.end} ({request_id})",
        )
        row = self.store.tracked(vendor.name, request_id)
        if row is not None and row.status != "cancelled":
            self.store.claim(f"news:{row.vendor}:{row.request_id}:cancelled")  # they know: no DM about it
            self.store.settle(row, "cancelled", None)
            self._update_approvers(
                row,
                self._news(LeaveTrack(**{**row.model_dump(), "status": "cancelled"}), self._status_vendor(row.vendor)),
            )
        self._tell_leave_gone(actor.team_id, actor.user_id)
        done = (
            f"Cancelled your {absence.kind or 'leave'}: "
            f"{fmt.leave_range(absence.start, absence.end, absence.start_portion, absence.end_portion)}."
        )
        if absence.status == "approved" and self._tell_approvers_withdrawn(actor, user, absence, row):
            return f"{done} It was approved, so your approver will be told."
        return done

    def _tell_approvers_withdrawn(self, actor: Actor, user: Any, absence: Absence, row: LeaveTrack | None) -> bool:
        """A new DM to whoever approved or would approve it (an edit of their old message alone
        notifies no one): the approvers Timebot asked, else the vendor's or the configured ones.
        Only where the vendor has an approval flow; True when someone was told."""
        vendor = self._status_vendor(self.router.leave().name)
        if vendor is None:
            return False
        channels = [item.partition(":")[0] for item in filter(None, (row.approver_dms if row else "").split(","))]
        if not channels:
            channels = self.approver_ids(actor, vendor, user)
        track = row or LeaveTrack(
            team_id=actor.team_id,
            slack_user_id=actor.user_id,
            vendor=vendor.name,
            request_id=absence.absence_id or "",
            vendor_user_id=absence.vendor_user_id,
            start_day=absence.start,
            end_day=absence.end,
            kind=absence.kind or "Leave",
        )
        news = self._news(LeaveTrack(**{**track.model_dump(), "status": "cancelled"}), vendor, others_off=False)
        text, blocks = self.render.approver(news)
        told = False
        for channel in dict.fromkeys(channels):
            try:
                self.slack.post(channel, text, blocks)
                told = True
            except SlackError as exc:
                log.warning("could not tell approver %s about a withdrawn leave: %s", channel, exc.error)
        return told

    def still_there(self, actor: Actor, request_id: str) -> Absence | None:
        """The person's request ``request_id`` as the vendor has it now; None once it is gone
        (cancelled). A resumed cancel reads this back before cancelling again."""
        vendor = self.router.leave()
        user = self.people.identity(actor, vendor)
        today = actor.today(self.people.now())
        mine = vendor.my_absences(user, today - timedelta(days=self.settings.backdate_days), today + LIST_AHEAD)
        return next((a for a in mine if a.absence_id == request_id), None)

    def cancel_again(self, actor: Actor, request_id: str) -> str:
        """Cancel after a takeover: the claims of the process that died before cancelling are its
        own, not a sign that someone else is cancelling now (the intake row says who owns it)."""
        vendor = self.router.leave()
        self.store.unclaim(f"cancel:{vendor.name}:{request_id}")
        self.store.unclaim(f"cancel:{vendor.name}:{request_id}:{actor.team_id}:{actor.user_id}")
        return self.cancel(actor, request_id)

    def _tell_leave_gone(self, team_id: str, user_id: str) -> None:
        for hook in self.leave_gone:
            try:
                hook(team_id, user_id)
            except Exception:  # the cancel itself is done; a hook failing must not undo the answer
                log.exception("after a withdrawn leave, a follow-up hook failed")

    def balances(self, actor: Actor) -> Balances | None:
        """The person's balances where the vendor states them; None when no vendor is asked."""
        leave = self.router.maybe_leave()
        vendor = (
            leave if leave is not None and Action.BALANCES in leave.capabilities else self.router.maybe(Action.BALANCES)
        )
        if vendor is None:
            return Balances(leave.label, None) if leave is not None else None
        try:
            user = self.people.identity(actor, vendor)
            return Balances(vendor.label, list(cast(Any, vendor).balances(user)))
        except (VendorError, UserError) as exc:
            return Balances(vendor.label, [], exc.user_message if isinstance(exc, VendorError) else exc.message)
