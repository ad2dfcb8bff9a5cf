"""A patient reminder is due at 09:00 patient local time on the milestone date, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.notifications.helpers import enroll, reminder


def test_two_week_reminder_after_dst_ends_is_0900_eastern_standard_time(patient, coordinator):
    # Onset 2026-10-20 (EDT, UTC-4); the milestone 2026-11-03 falls after the 1 November
    # change to EST (UTC-5): 09:00 local is 14:00Z, not 13:00Z.
    episode = enroll(patient, coordinator, onset=date(2026, 10, 20), on=date(2026, 10, 20))

    row = reminder(episode, "2_weeks", "patient")

    assert row.milestone_date == date(2026, 11, 3)
    assert row.due_at == datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
    assert row.next_attempt_at == row.due_at


def test_a_milestone_before_the_change_stays_on_daylight_time(patient, coordinator):
    episode = enroll(patient, coordinator, onset=date(2026, 10, 10), on=date(2026, 10, 10))

    assert reminder(episode, "2_weeks").due_at == datetime(2026, 10, 24, 13, 0, tzinfo=UTC)


def test_every_milestone_and_audience_has_one_row(patient, coordinator):
    episode = enroll(patient, coordinator, onset=date(2026, 10, 20), on=date(2026, 10, 20))

    rows = {(r.milestone, r.audience): r for r in episode.reminders.all()}

    assert set(rows) == {
        (m, a) for m in ("2_weeks", "6_weeks", "3_months") for a in ("patient", "care_team")
    }
    assert rows["3_months", "patient"].milestone_date == date(2027, 1, 20)
    assert rows["6_weeks", "patient"].milestone_date == date(2026, 12, 1)
    # Care-team notices: 09:00 in the site's zone (TIME_ZONE, UTC in the tests).
    assert rows["2_weeks", "care_team"].due_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert {r.status for r in rows.values()} == {"scheduled"}
