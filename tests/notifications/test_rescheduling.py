"""A corrected onset or care-start date reschedules the reminders not yet sent."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes import services
from notifications.models import Reminder
from tests.clock import local
from tests.notifications.helpers import enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)


def _update(episode, by, on, **fields):
    with time_machine.travel(local(on, 11), tick=False):
        return services.episode_update(
            episode_id=episode.pk, by=by, fields=fields, reason="corrected from the referral letter"
        )


def test_correcting_onset_moves_due_and_next_attempt(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=date(2026, 3, 4))

    _update(episode, coordinator, date(2026, 3, 5), symptom_onset=ONSET - timedelta(days=2))

    row = reminder(episode)
    assert row.milestone_date == date(2026, 3, 14)
    assert row.due_at == row.next_attempt_at == local(date(2026, 3, 14), 9)
    assert reminder(episode, "3_months").milestone_date == date(2026, 5, 28)


def test_correcting_care_start_moves_the_six_week_reminders(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=date(2026, 3, 9))

    _update(episode, coordinator, date(2026, 3, 10), conservative_care_start=date(2026, 3, 3))

    assert reminder(episode, "6_weeks").milestone_date == date(2026, 4, 14)
    assert reminder(episode, "6_weeks", "care_team").milestone_date == date(2026, 4, 14)


def test_a_sent_reminder_is_history_and_does_not_move(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    run_cycle(local(date(2026, 3, 16), 9))
    sent = reminder(episode)

    _update(episode, coordinator, date(2026, 3, 17), symptom_onset=ONSET - timedelta(days=1))

    again = reminder(episode)
    assert (again.status, again.due_at, again.sent_at) == ("sent", sent.due_at, sent.sent_at)


def test_an_unrelated_write_keeps_a_retry_backoff(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    row = reminder(episode)
    later = row.due_at + timedelta(hours=3)
    type(row).objects.filter(pk=row.pk).update(next_attempt_at=later)

    with time_machine.travel(local(date(2026, 3, 16), 9, 30), tick=False):
        services.assessment_record(
            episode_id=episode.pk, by=coordinator, values={"radicular_pain": True}
        )

    assert reminder(episode).next_attempt_at == later


def test_the_moved_rows_are_written_in_one_update_and_the_others_left_alone(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=date(2026, 3, 9))
    before = {r.pk: r for r in Reminder.objects.filter(episode=episode)}

    with CaptureQueriesContext(connection) as ctx:
        _update(episode, coordinator, date(2026, 3, 10), conservative_care_start=date(2026, 3, 3))

    updates = [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "notifications_')
    ]
    assert len(updates) == 1  # every moved row in one statement
    # One array a field (notifications.services._write_resynced).
    assert "UNNEST" in updates[0]
    after = {r.pk: r for r in Reminder.objects.filter(episode=episode)}
    moved = {pk for pk, row in after.items() if row.milestone_date != before[pk].milestone_date}
    assert moved  # the six-week reminders, patient's and care team's
    for pk, row in after.items():
        if pk in moved:
            assert row.due_at == row.next_attempt_at != before[pk].due_at
            assert row.updated_at > before[pk].updated_at
            assert (row.status, row.channel) == (before[pk].status, before[pk].channel)
        else:
            assert row.updated_at == before[pk].updated_at
