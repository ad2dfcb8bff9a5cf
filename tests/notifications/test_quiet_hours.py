"""Never in the patient's quiet hours (20:00-08:00 local by default): deferred to the morning."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from django.core import mail

from notifications.delivery.batch import deliver_claimed
from tests.clock import local
from tests.notifications.helpers import claim_only, enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)
TWO_WEEKS = date(2026, 3, 16)


def test_a_zone_whose_0900_is_quiet_gets_the_end_of_quiet_hours(settings, patient, coordinator):
    settings.CAREFLOW_QUIET_HOURS_START = 21
    settings.CAREFLOW_QUIET_HOURS_END = 10  # a site that keeps mornings quiet until 10:00
    patient.timezone = "Asia/Tokyo"
    patient.save()

    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)

    # 10:00 in Tokyo (UTC+9, no DST) on 16 March is 01:00Z.
    assert reminder(episode).due_at == datetime(2026, 3, 16, 1, 0, tzinfo=UTC)


def test_after_an_outage_a_late_evening_send_waits_for_the_next_morning(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    row = reminder(episode)
    assert row.due_at == local(TWO_WEEKS, 9)

    # Dispatch was down all day; it comes back at 21:30 New York time.
    cycle, delivered = run_cycle(local(TWO_WEEKS, 21, 30))

    row.refresh_from_db()
    assert (cycle.deferred, delivered.sent) == (1, 1)  # the care team's notice went
    assert row.status == "scheduled"
    assert row.next_attempt_at == local(TWO_WEEKS.replace(day=17), 8)
    assert row.due_at == local(TWO_WEEKS, 9)  # lateness still counts from the due moment
    assert not [m for m in mail.outbox if m.to == [patient.email]]
    # The care team's own notice is not held back by the patient's quiet hours.
    assert reminder(episode, "2_weeks", "care_team").status == "sent"

    # 07:59 is still quiet and the row is not due yet; at 08:00 it goes.
    run_cycle(local(TWO_WEEKS.replace(day=17), 7, 59))
    row.refresh_from_db()
    assert row.status == "scheduled"
    _, delivered = run_cycle(local(TWO_WEEKS.replace(day=17), 8, 0))
    row.refresh_from_db()
    assert (delivered.sent, row.status, row.attempts) == (1, "sent", 1)
    assert [m.to for m in mail.outbox].count([patient.email]) == 1


def test_a_batch_that_reaches_the_worker_in_quiet_hours_is_deferred_not_sent(patient, coordinator):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    row = reminder(episode)
    batches = claim_only(local(TWO_WEEKS, 19, 59))
    # The worker only gets to the batch at 20:01 (a backlog): quiet hours have begun.
    with time_machine.travel(local(TWO_WEEKS, 20, 1), tick=False):
        for ids, claim in batches:
            counts = deliver_claimed(reminder_ids=ids, claim=claim)
    row.refresh_from_db()
    assert (counts.deferred, counts.sent) == (1, 1)  # the care team's notice went
    assert (row.status, row.attempts, row.claim_token) == ("scheduled", 0, "")
    assert row.next_attempt_at == local(TWO_WEEKS.replace(day=17), 8)
    assert not [m for m in mail.outbox if m.to == [patient.email]]
