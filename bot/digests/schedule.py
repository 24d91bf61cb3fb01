"""Schedule arithmetic for digests (pure): wall-clock times in the channel's IANA zone on named
weekdays, so 09:00 stays 09:00 across DST. Decisions about dates use the caller's clock, never the
host's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.digests.spec import day_set
from storage.models import DigestSubscription

LATE_AFTER = timedelta(minutes=5)  # a post this long after its time says it is late
CATCH_UP_AFTER = timedelta(minutes=2)  # the cron job's own window; catch-up waits it out
DUE_TOLERANCE = timedelta(seconds=5)  # a job may fire a hair before the clock says it is due


def scheduled_at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``hour:minute`` wall clock on ``day`` in ``tz``. A time that does not
    exist that day (spring forward) is read with the offset from before the gap (PEP 495, as
    APScheduler does), so 02:30 fires at 03:30 new time; a time that occurs twice fires at its
    first occurrence (the second finds the day's run claimed)."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def latest_due(sub: DigestSubscription, now: datetime, *, lookback_days: int = 8) -> datetime | None:
    """The latest scheduled instant at or before ``now`` (UTC), on one of the subscribed days."""
    tz = ZoneInfo(sub.tz)
    days = day_set(sub.days)
    today = now.astimezone(tz).date()
    for back in range(lookback_days):
        day = today - timedelta(days=back)
        if day.weekday() not in days:
            continue
        moment = scheduled_at(day, sub.hour, sub.minute, tz)
        if moment <= now + DUE_TOLERANCE:
            return moment
    return None


def cron_trigger(sub: DigestSubscription) -> CronTrigger:
    return CronTrigger(day_of_week=sub.days, hour=sub.hour, minute=sub.minute, timezone=ZoneInfo(sub.tz))


def next_run(sub: DigestSubscription, now: datetime) -> datetime | None:
    fire = cron_trigger(sub).get_next_fire_time(None, now)
    return fire.astimezone(ZoneInfo(sub.tz)) if fire else None
