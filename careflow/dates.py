"""Day arithmetic of the pathway: "6 weeks" is 42 days, "3 months" is three calendar months."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Final

SIX_WEEKS: Final = timedelta(days=42)
TWO_WEEKS: Final = timedelta(days=14)
SIX_WEEKS_DAYS: Final = 42
TWO_WEEKS_DAYS: Final = 14


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (2026-11-30 + 3 months = 2027-02-28)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def three_months_after(day: date) -> date:
    return add_months(day, 3)


def days_between(start: date, end: date) -> int:
    """Whole days from ``start`` to ``end`` (day 0 is ``start`` itself)."""
    return (end - start).days


def age_on(birth_date: date, on: date) -> int:
    """Age in completed years on a date."""
    had_birthday = (on.month, on.day) >= (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (0 if had_birthday else 1)


def older_than(birth_date: date, on: date, years: int) -> bool:
    """Older than ``years`` on a date: from the day after that birthday (50 years and a day).

    A birthday on 29 February falls on the 28th in other years (``add_months``' clamp), the
    earlier of the two readings.
    """
    return on > add_months(birth_date, 12 * years)
