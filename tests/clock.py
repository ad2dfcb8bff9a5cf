"""The fixed calendar tests travel on: moments in a zone, and days counted from ONSET.

``at_day(day)`` stops the clock at 10:00 New York time ``day`` days after ONSET: the day
of conservative care most pathway tests name.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine

NY = ZoneInfo("America/New_York")
ONSET = date(2026, 10, 1)


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def moment(day: int, start: date = ONSET) -> datetime:
    """10:00 New York time on day ``day`` after ``start``."""
    return local(start + timedelta(days=day), 10)


def at_day(day: int, start: date = ONSET) -> time_machine.travel:
    """Travel to 10:00 New York time on day ``day`` after ``start``, the clock stopped."""
    return time_machine.travel(moment(day, start), tick=False)
