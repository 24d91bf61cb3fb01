"""Leave follow-up, status changes: each vendor that reports a request's approval state is asked
about the open requests (``poll``), or tells (``vendor_event``, a verified webhook); each change is
announced to the requester, and the approvers' DMs are updated, once across every process.

Once: the process that inserts the claim ``news:<vendor>:<request>:<status>`` sends the DM; the
others, and a restart, see the claim and stay quiet.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import Absence
from bot.errors import UserError, VendorError
from bot.telemetry import metrics
from bot.usecases.followup_news import LIST_AHEAD, FollowupNews
from bot.usecases.ports import SlackError
from bot.vendors.base import LeaveDecisionVendor
from storage.models import LeaveTrack

log = logging.getLogger(__name__)

FINAL = frozenset({"approved", "denied", "cancelled"})
SEEN_BEHIND = timedelta(days=31)


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class FollowupPoll(FollowupNews):
    """Status changes, found by polling or pushed by a vendor, announced once."""

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
