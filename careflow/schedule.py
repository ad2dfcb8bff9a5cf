"""When a reminder goes out: 09:00 local on the milestone date, never in quiet hours.

Pure functions over aware datetimes and IANA zones; the clock is always an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
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


# PATHWAY.md "Queue dates ... are each patient's local date". A queue compares a deadline
# with "today"; there is no single today when patients live in several zones, so each
# episode carries the instants (UTC) at which its deadlines turn due soon and overdue in
# its patient's zone, and a queue compares those with the current instant.
DUE_SOON_DAYS: Final = 7


@dataclass(frozen=True, slots=True)
class QueueMoments:
    overdue_from: datetime | None  # the local midnight after the deadline
    due_soon_from: datetime | None  # the local midnight DUE_SOON_DAYS before it
    reassessment_due_from: datetime | None  # the local midnight starting the due day


def local_day_start(on: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local calendar date in the zone, as UTC (DST included)."""
    return local_due_at(on, zone, time(0, 0))


def queue_moments(
    *, next_deadline: date | None, reassessment_due_on: date | None, zone: ZoneInfo
) -> QueueMoments:
    if next_deadline is None:
        overdue_from = due_soon_from = None
    else:
        overdue_from = local_day_start(next_deadline + timedelta(days=1), zone)
        due_soon_from = local_day_start(next_deadline - timedelta(days=DUE_SOON_DAYS), zone)
    reassessment = (
        None if reassessment_due_on is None else local_day_start(reassessment_due_on, zone)
    )
    return QueueMoments(overdue_from, due_soon_from, reassessment)
