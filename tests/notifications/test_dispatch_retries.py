"""Transient errors retry with exponential backoff and jitter; the last attempt fails the row."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from notifications.delivery.attempts import retry_delay
from tests.clock import local
from tests.notifications.helpers import enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)


@pytest.fixture
def sms_episode(sms_patient, coordinator, twilio):
    return enroll(sms_patient, coordinator, onset=ONSET, on=ONSET)


def test_backoff_doubles_and_jitter_stays_within_half_to_full(settings):
    settings.CAREFLOW_REMINDER_RETRY_BASE_SECONDS = 60
    settings.CAREFLOW_REMINDER_RETRY_MAX_SECONDS = 3600
    rng = random.Random(7)  # noqa: S311 - a seeded draw for the test, not a secret

    for attempt, ceiling in [(1, 60), (2, 120), (3, 240), (4, 480), (7, 3600), (12, 3600)]:
        draws = {retry_delay(attempt, rng=rng).total_seconds() for _ in range(200)}
        assert min(draws) >= ceiling / 2
        assert max(draws) <= ceiling
        assert len(draws) > 100  # jittered, not one fixed delay


def test_a_transient_error_reschedules_the_row_and_records_the_attempt(sms_episode, twilio):
    twilio.fail_next(503)

    _, delivered = run_cycle(DUE)

    row = reminder(sms_episode)
    assert (delivered.retrying, row.status, row.attempts) == (1, "scheduled", 1)
    assert row.last_error.startswith("Twilio HTTP 503")
    assert DUE + timedelta(seconds=30) <= row.next_attempt_at <= DUE + timedelta(seconds=60)
    attempt = row.deliveries.get()
    assert (attempt.attempt, attempt.outcome, attempt.channel) == (1, "transient_error", "sms")
    # Not due yet a second earlier than the backoff; due after it, and then sent.
    run_cycle(row.next_attempt_at - timedelta(seconds=1))
    assert reminder(sms_episode).attempts == 1
    _, delivered = run_cycle(row.next_attempt_at)
    row.refresh_from_db()
    assert (delivered.sent, row.status, row.attempts, row.last_error) == (1, "sent", 2, "")
    assert row.provider_message_id == twilio.delivered[f"reminder-{row.pk}"]
    assert list(row.deliveries.values_list("outcome", flat=True)) == ["transient_error", "sent"]


def test_after_the_last_attempt_the_row_is_failed_with_the_error(settings, sms_episode, twilio):
    settings.CAREFLOW_REMINDER_MAX_ATTEMPTS = 5
    for _ in range(5):
        twilio.fail_next(429, {"code": 20429, "message": "Too Many Requests"})
    moment = DUE
    for _ in range(5):
        run_cycle(moment)
        moment = reminder(sms_episode).next_attempt_at

    row = reminder(sms_episode)
    assert (row.status, row.attempts) == ("failed", 5)
    assert row.status_reason == "gave up after 5 attempts"
    assert (
        row.last_error
        == "Twilio HTTP 429 (error 20429): Unable to create record: Too Many Requests"
    )
    assert row.deliveries.count() == 5
    assert row.sent_at is None
    # It waits for the care team now (delivery_failures), not for another cycle.
    _, delivered = run_cycle(moment + timedelta(days=1))
    assert (delivered.sent, reminder(sms_episode).attempts) == (0, 5)


def test_a_permanent_error_fails_at_once(sms_episode, twilio):
    twilio.fail_next(400, {"code": 21211, "message": "The 'To' number +15557654321 is not valid"})

    run_cycle(DUE)

    row = reminder(sms_episode)
    assert (row.status, row.attempts, row.status_reason) == ("failed", 1, "permanent error")
    assert "+15557654321" not in row.last_error
    assert row.last_error == (
        "Twilio HTTP 400 (error 21211): Unable to create record: The 'To' number [number] is"
        " not valid"
    )


def test_an_unexpected_error_is_retried_and_logged_without_details(
    monkeypatch, caplog, sms_episode, twilio
):
    def broken(reminder):
        msg = "cannot render for +15557654321 Ana"
        raise ValueError(msg)

    monkeypatch.setattr("notifications.delivery.attempts.render_message", broken)

    run_cycle(DUE)

    row = reminder(sms_episode)
    assert (row.status, row.attempts, row.last_error) == ("scheduled", 1, "unexpected ValueError")
    assert "unexpectedly" in caplog.text
    assert "+15557654321" not in caplog.text
    assert "Ana" not in caplog.text
