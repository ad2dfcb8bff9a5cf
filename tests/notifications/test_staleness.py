"""A reminder more than 7 days late when it would go out is skipped, reason recorded."""

from __future__ import annotations

from datetime import date

from django.core import mail

from tests.clock import local
from tests.notifications.helpers import enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)  # the 2-week milestone is 16 March, 09:00


def test_enrolled_22_days_after_onset_the_two_week_reminders_are_skipped(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=date(2026, 3, 24))

    cycle, delivered = run_cycle(local(date(2026, 3, 24), 10))

    for audience in ("patient", "care_team"):
        row = reminder(episode, "2_weeks", audience)
        assert (row.status, row.attempts) == ("skipped", 0)
        assert row.status_reason == "more than 7 days late when it would go out"
    assert (cycle.skipped, delivered.sent, mail.outbox) == (2, 0, [])
    assert reminder(episode, "6_weeks").status == "scheduled"


def test_seven_days_late_exactly_is_still_sent(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=date(2026, 3, 23), hour=8)

    _, delivered = run_cycle(local(date(2026, 3, 23), 9))

    assert reminder(episode).status == "sent"
    assert delivered.sent == 1  # the care team's was due at 09:00Z: 7 days 4 h late, skipped


def test_enrolled_15_days_after_onset_it_goes_at_once(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=date(2026, 3, 17))

    _, delivered = run_cycle(local(date(2026, 3, 17), 10, 1))

    assert reminder(episode).status == "sent"
    assert delivered.sent == 2
    assert [m.to for m in mail.outbox].count([patient.email]) == 1
