"""Leave follow-up, the person's own requests: the list (``/timeoff list``, the Home tab), cancelling
one (once, however often the button is pressed; approvers told when an approved leave is
withdrawn) and their balances.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from bot import formatting as fmt
from bot.domain import Absence, Action, Actor
from bot.errors import UserError, VendorError, VendorRejected
from bot.telemetry import metrics
from bot.usecases.followup_news import LIST_AHEAD, FollowupNews
from bot.usecases.ports import SlackError
from bot.vendors.base import CancelVendor
from storage.models import LeaveTrack

log = logging.getLogger(__name__)


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


def cancellable(absence: Absence, today: date) -> bool:
    """What the person's list offers to cancel: leave that ends today or later, or is still pending."""
    return absence.end >= today or absence.status == "pending"


class FollowupMine(FollowupNews):
    """A person's own requests: list, cancel, balances."""

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
