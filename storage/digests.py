"""Digest subscriptions and the exactly-once run claims, through bound parameters only.

Every state change of a run is a conditional UPDATE (``WHERE id = … AND owner = … AND status =
…``) whose rowcount says whether this process still holds the claim: the database, not the
scheduler, decides who posts. That works the same for threads, processes and hosts, on SQLite
and PostgreSQL (READ COMMITTED re-checks the WHERE after a concurrent writer commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from storage.models import DigestRun, DigestSubscription
from storage.store import SqlStore

# Statuses after which nothing more happens to a run on its own, save a ``resumable`` partial
# run (see ``settled``).
DONE = frozenset({"sent", "empty", "partial", "unknown", "missed"})
# Statuses where no post is in flight or unrecorded: a run may be taken over (when stale,
# retryable or forced). Only a ``claimed`` row that resumes a partial run has posted before, and
# its ``message_ts`` says what, so whoever takes it over posts only the rest.
NOTHING_POSTED = frozenset({"claimed", "failed", "missed"})


def settled(run: DigestRun) -> bool:
    """Nothing more happens to ``run`` on its own: done, and not a partial run waiting to resume."""
    return run.status in DONE and not (run.status == "partial" and run.resumable)


@dataclass(frozen=True)
class ClaimPolicy:
    """When a claim that is not ours may be taken over.

    ``stale_after`` must exceed the longest a healthy process takes from claim to first post
    (vendor timeouts and retries included): a takeover sooner could start a second build, though
    the ``posting`` fence below still lets only one of them post.
    """

    stale_after: timedelta = timedelta(minutes=10)
    retry_after: timedelta = timedelta(minutes=5)
    max_attempts: int = 3


@dataclass(frozen=True)
class Claim:
    """The outcome of asking to post: ``run`` when we hold it, else the row that stopped us."""

    run: DigestRun | None
    existing: DigestRun | None = None
    reason: str = ""  # claimed | taken-over | retry | resume | manual | forced | held | done | marked-unknown
    #                  | retry-later | gave-up

    @property
    def won(self) -> bool:
        return self.run is not None


class DigestStore(SqlStore):
    # --- subscriptions -----------------------------------------------------------------------

    def subscriptions(self, team_id: str | None = None) -> list[DigestSubscription]:
        with self.session() as s:
            stmt = select(DigestSubscription)
            if team_id is not None:
                stmt = stmt.where(DigestSubscription.team_id == team_id)
            return list(s.exec(stmt.order_by(DigestSubscription.team_id, DigestSubscription.channel_id)))

    def subscription(self, team_id: str, channel_id: str) -> DigestSubscription | None:
        with self.session() as s:
            return s.exec(
                select(DigestSubscription).where(
                    col(DigestSubscription.team_id) == team_id, col(DigestSubscription.channel_id) == channel_id
                )
            ).first()

    def subscription_for_channel(self, channel_id: str) -> DigestSubscription | None:
        """The subscription of ``channel_id`` in whichever team has it (channel ids are global)."""
        with self.session() as s:
            return s.exec(select(DigestSubscription).where(DigestSubscription.channel_id == channel_id)).first()

    def save_subscription(self, sub: DigestSubscription, now: datetime) -> tuple[DigestSubscription, bool]:
        """Insert or update the channel's subscription; True when it is new."""
        for _ in range(2):  # a concurrent insert of the same channel: the second pass updates it
            with self.session() as s:
                row = s.exec(
                    select(DigestSubscription).where(
                        DigestSubscription.team_id == sub.team_id, DigestSubscription.channel_id == sub.channel_id
                    )
                ).first()
                created = row is None
                if row is None:
                    row = DigestSubscription(
                        team_id=sub.team_id,
                        channel_id=sub.channel_id,
                        hour=sub.hour,
                        minute=sub.minute,
                        tz=sub.tz,
                        created_by=sub.created_by,
                        created_at=now,
                    )
                row.hour, row.minute, row.tz, row.days = sub.hour, sub.minute, sub.tz, sub.days
                row.skip_empty, row.days_ahead, row.created_by = sub.skip_empty, sub.days_ahead, sub.created_by
                row.scope, row.cadence = sub.scope, sub.cadence
                row.show_kind, row.mentions = sub.show_kind, sub.mentions
                row.updated_at = now
                s.add(row)
                try:
                    s.commit()
                except IntegrityError:
                    s.rollback()
                    continue
                s.refresh(row)
                return row, created
        raise RuntimeError("could not save the digest subscription")

    def delete_subscription(self, team_id: str, channel_id: str) -> bool:
        with self.session() as s:
            result = s.exec(
                delete(DigestSubscription).where(
                    col(DigestSubscription.team_id) == team_id, col(DigestSubscription.channel_id) == channel_id
                )
            )
            s.commit()
            return bool(result.rowcount)

    # --- runs --------------------------------------------------------------------------------

    def run(self, team_id: str, channel_id: str, local_date: date) -> DigestRun | None:
        with self.session() as s:
            return s.exec(
                select(DigestRun).where(
                    DigestRun.team_id == team_id, DigestRun.channel_id == channel_id, DigestRun.local_date == local_date
                )
            ).first()

    def runs(self, channel_id: str | None = None) -> list[DigestRun]:
        with self.session() as s:
            stmt = select(DigestRun)
            if channel_id is not None:
                stmt = stmt.where(DigestRun.channel_id == channel_id)
            return list(s.exec(stmt.order_by(col(DigestRun.local_date), col(DigestRun.id))))

    def runs_between(self, first: date, last: date) -> dict[tuple[str, str, date], DigestRun]:
        """Every run with a local date in [first, last], by (team, channel, date): one query for
        the once-a-minute catch-up, however many channels subscribe."""
        with self.session() as s:
            rows = s.exec(select(DigestRun).where(DigestRun.local_date >= first, DigestRun.local_date <= last))
            return {(r.team_id, r.channel_id, r.local_date): r for r in rows}

    def last_runs(self, team_id: str, since: date) -> dict[str, DigestRun]:
        """The latest run since ``since`` of each channel of the team (``/timebot digest list``)."""
        latest: dict[str, DigestRun] = {}
        with self.session() as s:
            rows = s.exec(
                select(DigestRun)
                .where(DigestRun.team_id == team_id, DigestRun.local_date >= since)
                .order_by(col(DigestRun.local_date), col(DigestRun.id))
            )
            for row in rows:
                latest[row.channel_id] = row
        return latest

    def claim_run(
        self,
        team_id: str,
        channel_id: str,
        local_date: date,
        *,
        owner: str,
        now: datetime,
        trigger: str,
        late: bool,
        policy: ClaimPolicy,
        force: bool = False,
        manual: bool = False,
    ) -> Claim:
        """INSERT the (channel, local date) row; the unique constraint makes exactly one caller win.

        A row that is already there is taken over only when that provably cannot post twice:
        a ``claimed`` row gone stale (its holder died before posting), a ``failed`` row due for a
        retry, a ``failed`` or ``missed`` row when an admin asks (``manual``), or — with ``force``, for
        an admin's explicit resend — any row not in progress (its earlier ts go to ``detail``).
        A ``partial`` row is resumed (``resume``): automatically like a ``failed`` one (``retry_after``
        apart, ``max_attempts`` in all) when it is ``resumable``, and whenever an admin asks. It keeps
        its ``message_ts``, ``plan`` and ``late`` (the messages to rebuild are the ones first planned),
        so the new holder posts only the messages not yet posted; so does whoever takes that claim
        over once stale.
        A stale ``posting`` row may have reached Slack, so it becomes ``unknown`` and is never
        re-posted automatically (at-most-once for that narrow window).
        """
        fresh = DigestRun(
            team_id=team_id,
            channel_id=channel_id,
            local_date=local_date,
            status="claimed",
            owner=owner,
            trigger=trigger,
            late=late,
            claimed_at=now,
            updated_at=now,
        )
        with self.session() as s:
            s.add(fresh)
            try:
                s.commit()
                s.refresh(fresh)
                return Claim(fresh, reason="claimed")
            except IntegrityError:
                s.rollback()
        row = self.run(team_id, channel_id, local_date)
        if row is None:  # deleted between our insert and our read: try once more from the start
            return self.claim_run(
                team_id,
                channel_id,
                local_date,
                owner=owner,
                now=now,
                trigger=trigger,
                late=late,
                policy=policy,
                force=force,
                manual=manual,
            )
        stale = row.updated_at < now - policy.stale_after
        if row.status == "posting" and stale:
            marked = self._transition(
                row,
                "unknown",
                now,
                resumable=False,
                detail=_join(row.detail, "the process posting it stopped before recording the result"),
            )
            return Claim(None, row, "marked-unknown" if marked else "held")
        if row.status in {"claimed", "posting"} and not stale:
            return Claim(None, row, "held")
        reason = ""
        if force and row.status not in {"claimed", "posting"}:
            reason = "forced"
        elif manual and row.status in NOTHING_POSTED - {"claimed"}:
            reason = "manual"
        elif manual and row.status == "partial":
            reason = "resume"
        elif row.status == "claimed" and stale:
            reason = "taken-over"
        elif (
            (row.status == "failed" or (row.status == "partial" and row.resumable))
            and row.attempts < policy.max_attempts
            and row.updated_at <= now - policy.retry_after
        ):
            reason = "retry" if row.status == "failed" else "resume"
        if not reason:
            if row.status == "failed" or (row.status == "partial" and row.resumable):
                return Claim(None, row, "gave-up" if row.attempts >= policy.max_attempts else "retry-later")
            return Claim(None, row, "done")
        values: dict[str, object] = {
            "status": "claimed",
            "owner": owner,
            "trigger": trigger,
            "claimed_at": now,
            "updated_at": now,
            "attempts": row.attempts + 1,
        }
        note = f"{reason} from {row.status}"
        if reason == "forced":  # a resend from the start: what went out before is history
            values.update(message_ts="", plan="", resumable=False, late=late)
            note += f" (earlier ts {row.message_ts})" if row.message_ts else ""
        elif not row.message_ts:
            values["late"] = late
        values["detail"] = _join(row.detail, note)
        with self.session() as s:
            result = s.exec(
                update(DigestRun)
                .where(
                    col(DigestRun.id) == row.id,
                    col(DigestRun.owner) == row.owner,
                    col(DigestRun.status) == row.status,
                )
                .values(**values)
            )
            s.commit()
            if result.rowcount != 1:
                return Claim(None, self.run(team_id, channel_id, local_date), "held")
        return Claim(self.run(team_id, channel_id, local_date), row, reason)

    def mark_posting(self, run: DigestRun, now: datetime, *, plan: str = "") -> bool:
        """The fence before the first post: False when someone took our claim over meanwhile.
        ``plan`` (fingerprints of every message of the run) is saved with it, for a resume."""
        return self._transition(run, "posting", now, expect="claimed", plan=plan[:1000])

    def record_ts(self, run: DigestRun, ts: list[str], now: datetime) -> bool:
        with self.session() as s:
            result = s.exec(
                update(DigestRun)
                .where(
                    col(DigestRun.id) == run.id, col(DigestRun.owner) == run.owner, col(DigestRun.status) == "posting"
                )
                .values(message_ts=",".join(ts)[:1000], updated_at=now)
            )
            s.commit()
            return bool(result.rowcount)

    def finish(
        self,
        run: DigestRun,
        status: str,
        now: datetime,
        *,
        detail: str = "",
        ts: list[str] | None = None,
        expect: str | None = None,
        resumable: bool = False,
    ) -> bool:
        """End our attempt; ``resumable`` (for ``partial``) lets the scheduler post the rest later."""
        values: dict[str, object] = {"status": status, "updated_at": now, "resumable": resumable}
        if detail:
            values["detail"] = _join(run.detail, detail)
        if ts is not None:
            values["message_ts"] = ",".join(ts)[:1000]
        if status in {"sent", "partial"}:
            values["sent_at"] = now
        with self.session() as s:
            stmt = update(DigestRun).where(col(DigestRun.id) == run.id, col(DigestRun.owner) == run.owner)
            if expect is not None:
                stmt = stmt.where(col(DigestRun.status) == expect)
            result = s.exec(stmt.values(**values))
            s.commit()
            return bool(result.rowcount)

    def mark_missed(
        self, team_id: str, channel_id: str, local_date: date, *, owner: str, now: datetime, detail: str
    ) -> bool:
        """Record that a day's digest was never posted (the bot was down); True if we recorded it."""
        row = DigestRun(
            team_id=team_id,
            channel_id=channel_id,
            local_date=local_date,
            status="missed",
            owner=owner,
            trigger="catch-up",
            claimed_at=now,
            updated_at=now,
            detail=detail[:2000],
        )
        with self.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return False
            return True

    def _transition(
        self,
        run: DigestRun,
        status: str,
        now: datetime,
        *,
        expect: str | None = None,
        detail: str = "",
        **extra: object,
    ) -> bool:
        values: dict[str, object] = {"status": status, "updated_at": now, **extra}
        if detail:
            values["detail"] = detail[:2000]
        with self.session() as s:
            result = s.exec(
                update(DigestRun)
                .where(
                    col(DigestRun.id) == run.id,
                    col(DigestRun.owner) == run.owner,
                    col(DigestRun.status) == (expect or run.status),
                )
                .values(**values)
            )
            s.commit()
            return bool(result.rowcount)


def _join(old: str, new: str) -> str:
    return (f"{old}; {new}" if old else new)[-2000:]
