"""Reminder timing: 09:00 local across DST, quiet hours, staleness."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from careflow.schedule import in_quiet_hours, is_stale, local_due_at, out_of_quiet_hours

NY = ZoneInfo("America/New_York")


def test_two_week_reminder_across_the_dst_change() -> None:
    # Onset 2026-10-20 in New York: the 2-week milestone is 2026-11-03, after DST ended.
    assert local_due_at(date(2026, 11, 3), NY) == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
    assert local_due_at(date(2026, 10, 27), NY) == datetime(2026, 10, 27, 13, 0, tzinfo=UTC)


def test_quiet_hours_defer_to_the_morning() -> None:
    evening = datetime(2026, 11, 3, 1, 30, tzinfo=UTC)  # 20:30 local on 2 Nov
    assert in_quiet_hours(evening, NY, 20, 8)
    assert out_of_quiet_hours(evening, NY, 20, 8) == datetime(2026, 11, 3, 13, 0, tzinfo=UTC)
    early = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)  # 06:00 local
    assert out_of_quiet_hours(early, NY, 20, 8) == datetime(2026, 11, 3, 13, 0, tzinfo=UTC)
    day = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)  # 09:00 local
    assert not in_quiet_hours(day, NY, 20, 8)
    assert out_of_quiet_hours(day, NY, 20, 8) == day


def test_stale_after_seven_days() -> None:
    due = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
    assert not is_stale(due, due + timedelta(days=7))
    assert is_stale(due, due + timedelta(days=7, seconds=1))
