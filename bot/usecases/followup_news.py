"""Leave follow-up, what a request's people are told: the requester's news, the approvers' DMs
(asked when a request is made, updated when it is decided, reminded while it waits) and who the
approvers are (the vendor's, matched to Slack by email, else ``TIMEBOT_LEAVE_APPROVERS``).

``FollowupNews`` is the base of ``LeaveFollowup`` (``bot/usecases/followup.py``): the poll
(``followup_poll.py``) and the person's own requests (``followup_mine.py``) tell people through it.
Rendering is the handlers' (``handlers/render/leave.py``), handed in by the composition root.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol, cast

from bot.domain import SICK_LEAVE, Absence, Action, Actor, LeaveRequest, SickLeave
from bot.errors import UserError, VendorError
from bot.telemetry import metrics
from bot.usecases.leave import LeaveResult
from bot.usecases.people import People
from bot.usecases.ports import Slack, SlackError
from bot.usecases.whos_off import WhosOff
from bot.vendors.base import LeaveDecisionVendor
from storage.followup import FollowupStore
from storage.models import LeaveTrack

log = logging.getLogger(__name__)

LIST_AHEAD = timedelta(days=366)


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


class FollowupNews:
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

    def _tell_leave_gone(self, team_id: str, user_id: str) -> None:
        for hook in self.leave_gone:
            try:
                hook(team_id, user_id)
            except Exception:  # the cancel itself is done; a hook failing must not undo the answer
                log.exception("after a withdrawn leave, a follow-up hook failed")
