"""Rows left `sending` past their lease are reclaimed; a stale task message sends nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from notifications.channels.sms import TwilioSmsBackend
from notifications.delivery.batch import deliver_claimed
from notifications.delivery.claims import reclaim_expired
from notifications.delivery.messages import render_message
from notifications.models import DeliveryAttempt
from tests.clock import local
from tests.notifications.helpers import claim_only, enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)


@pytest.fixture
def sms_episode(settings, sms_patient, coordinator, twilio):
    settings.CAREFLOW_REMINDER_LEASE_SECONDS = 60
    return enroll(sms_patient, coordinator, onset=ONSET, on=ONSET)


def test_a_claim_whose_worker_never_ran_is_reclaimed_after_the_lease(sms_episode, twilio):
    claim_only(DUE)  # the batch message is lost (Redis restarted): no worker runs it
    row = reminder(sms_episode)
    assert (row.status, row.lease_expires_at) == ("sending", DUE + timedelta(seconds=60))

    # Within the lease nothing happens; after it the next cycle reclaims and sends.
    cycle, delivered = run_cycle(DUE + timedelta(seconds=60))
    assert (cycle.reclaimed, delivered.sent, reminder(sms_episode).status) == (0, 0, "sending")
    cycle, delivered = run_cycle(DUE + timedelta(seconds=61))

    row.refresh_from_db()
    assert cycle.reclaimed == 2  # the patient's SMS and the care team's email
    assert (row.status, row.attempts) == ("sent", 1)
    assert twilio.raw_tokens() == [f"reminder-{row.pk}"]


def test_a_worker_lost_after_twilio_took_it_is_reconciled_not_resent(sms_episode, twilio):
    batches = claim_only(DUE)
    ids, claim = batches[0]
    row = reminder(sms_episode)
    # The worker had written its attempt and Twilio took the message, then the worker died.
    with time_machine.travel(DUE + timedelta(seconds=1), tick=False):
        reminder_row = type(row).objects.get(pk=row.pk)
        reminder_row.attempts = 1
        reminder_row.save()
        DeliveryAttempt.objects.create(
            reminder=reminder_row, attempt=1, channel="sms", outcome="in_flight"
        )
    message = render_message(reminder_row)
    with time_machine.travel(DUE + timedelta(seconds=2), tick=False):
        taken = TwilioSmsBackend().send(
            to=message.to, body=message.body, idempotency_key=f"reminder-{row.pk}"
        )

    cycle, _ = run_cycle(DUE + timedelta(minutes=2))

    row.refresh_from_db()
    assert cycle.reclaimed == 2
    assert (row.status, row.attempts) == ("sent", 2)
    assert list(row.deliveries.values_list("outcome", flat=True)) == ["interrupted", "reconciled"]
    # Twilio's list call found it: recorded as sent, never created a second time.
    assert row.provider_message_id == taken
    assert twilio.raw_tokens() == [f"reminder-{row.pk}"]
    assert twilio.received() == {f"reminder-{row.pk}": 1}
    # The dead worker's task message, redelivered late, finds its claim gone: no send.
    with time_machine.travel(DUE + timedelta(minutes=3), tick=False):
        late = deliver_claimed(reminder_ids=ids, claim=claim)
    assert (late.sent, late.lost) == (0, len(ids))
    assert len(twilio.creates()) == 1


def _claimed_then_lost_in_flight(episode):
    """The patient's row claimed, its first attempt begun, then the worker gone."""
    claim_only(DUE)
    row = reminder(episode)
    with time_machine.travel(DUE + timedelta(seconds=1), tick=False):
        type(row).objects.filter(pk=row.pk).update(attempts=1)
        DeliveryAttempt.objects.create(reminder=row, attempt=1, channel="sms", outcome="in_flight")
    return row


def test_a_worker_lost_before_twilio_took_it_is_sent_once(sms_episode, twilio):
    row = _claimed_then_lost_in_flight(sms_episode)

    run_cycle(DUE + timedelta(minutes=2))

    row.refresh_from_db()
    assert row.status == "sent"
    assert list(row.deliveries.values_list("outcome", flat=True)) == ["interrupted", "sent"]
    assert twilio.received() == {f"reminder-{row.pk}": 1}


def test_when_twilio_cannot_be_asked_the_row_waits_rather_than_guessing(sms_episode, twilio):
    row = _claimed_then_lost_in_flight(sms_episode)
    twilio.fail_lists = 1  # Twilio's list call answers 503 once

    run_cycle(DUE + timedelta(minutes=2))

    row.refresh_from_db()
    assert row.status == "scheduled"
    assert row.last_error.startswith("Twilio HTTP 503")
    assert twilio.creates() == []
    # The next try asks again, finds nothing, and sends once.
    run_cycle(row.next_attempt_at)
    row.refresh_from_db()
    assert row.status == "sent"
    assert twilio.received() == {f"reminder-{row.pk}": 1}


def test_an_interrupted_last_attempt_fails_the_row(settings, sms_episode, twilio):
    settings.CAREFLOW_REMINDER_MAX_ATTEMPTS = 1
    claim_only(DUE)
    row = reminder(sms_episode)
    type(row).objects.filter(pk=row.pk).update(attempts=1)
    DeliveryAttempt.objects.create(reminder=row, attempt=1, channel="sms", outcome="in_flight")

    with time_machine.travel(DUE + timedelta(minutes=2), tick=False):
        reclaim_expired(now=DUE + timedelta(minutes=2))

    row.refresh_from_db()
    assert (row.status, row.status_reason) == ("failed", "gave up after 1 attempts")
    assert "may have been delivered" in row.last_error
    assert twilio.calls == []


def test_a_second_cycle_does_not_take_rows_another_claim_holds(sms_episode, twilio):
    first = claim_only(DUE)
    second = claim_only(DUE + timedelta(seconds=30))

    assert sum(len(ids) for ids, _ in first) == 2
    assert second == []
