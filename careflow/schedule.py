"""When a reminder goes out: 09:00 local on the milestone date, never in quiet hours.

Pure functions over aware datetimes and IANA zones; the clock is always an argument.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

REMINDER_LOCAL_TIME: Final = time(9, 0)
STALE_AFTER: Final = timedelta(days=7)


def local_due_at(on: date, zone: ZoneInfo, at: time = REMINDER_LOCAL_TIME) -> datetime:
    """09:00 on the date in the zone, as UTC (the zone's offset on that date: DST included)."""
    return datetime.combine(on, at, tzinfo=zone).astimezone(UTC)


def in_quiet_hours(when: datetime, zone: ZoneInfo, start_hour: int, end_hour: int) -> bool:
    """Quiet hours run from ``start_hour`` to ``end_hour`` local time, across midnight."""
    hour = when.astimezone(zone).hour
    if start_hour > end_hour:
        return hour >= start_hour or hour < end_hour
    return start_hour <= hour < end_hour


def out_of_quiet_hours(when: datetime, zone: ZoneInfo, start_hour: int, end_hour: int) -> datetime:
    """The first moment at or after ``when`` outside quiet hours (the next local morning)."""
    if not in_quiet_hours(when, zone, start_hour, end_hour):
        return when
    local = when.astimezone(zone)
    morning = local.date() if local.hour < end_hour else local.date() + timedelta(days=1)
    return datetime.combine(morning, time(end_hour, 0), tzinfo=zone).astimezone(UTC)


def is_stale(due_at: datetime, now: datetime, limit: timedelta = STALE_AFTER) -> bool:
    """A reminder more than ``limit`` late when it would go out is skipped, not sent."""
    return now - due_at > limit
