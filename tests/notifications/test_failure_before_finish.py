"""A provider's failure verdict fails the reminder whichever comes first: it or the finish.

The provider answers the send, and may call its webhook (Postmark's hard bounce, Twilio's
``undelivered`` status callback) before the worker has recorded the attempt as finished:
the reminder is still ``sending`` then. The verdict is kept on the attempt and the finish
respects it; a verdict after the finish fails the ``sent`` reminder. Either way the
reminder ends ``failed`` and the episode is in ``delivery_failures``.
"""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlencode

import pytest

from episodes.selectors import queue_episodes
from notifications.channels.email import EmailChannel
from notifications.channels.sms import SmsChannel
from notifications.models import DeliveryAttempt, Reminder
from tests.clock import local
from tests.notifications.fake_postmark import basic_auth
from tests.notifications.fake_twilio import AUTH_TOKEN, sign
from tests.notifications.helpers import PUBLIC_BASE_URL, enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)
POSTMARK_HOOK = "/webhooks/email/postmark/tracking/"


@pytest.fixture
def email_episode(patient, coordinator, postmark):
    return enroll(patient, coordinator, onset=ONSET, on=ONSET)


@pytest.fixture
def sms_episode(settings, sms_patient, coordinator, twilio):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    return enroll(sms_patient, coordinator, onset=ONSET, on=ONSET)


def bounce(client, postmark, message_id: str) -> None:
    response = client.post(
        POSTMARK_HOOK,
        data=json.dumps(postmark.bounce(message_id)),
        content_type="application/json",
        headers=basic_auth(),
    )
    assert response.status_code == 200


def undelivered(client, row: Reminder, sid: str) -> None:
    url = f"{PUBLIC_BASE_URL}/webhooks/twilio/status/?reminder=reminder-{row.pk}"
    params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    response = client.post(
        url.removeprefix(PUBLIC_BASE_URL),
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=sign(params, url),
    )
    assert response.content == b"stored"


def verdict_during_send(monkeypatch, channel: type, tell) -> list[str]:
    """The provider's webhook arrives after it answered the send, before the finish."""
    send = channel.send
    seen: list[str] = []

    def send_then_tell(self, message, *, idempotency_key):
        provider_id = send(self, message, idempotency_key=idempotency_key)
        row = Reminder.objects.get(pk=int(idempotency_key.removeprefix("reminder-")))
        if row.audience == "patient":
            seen.append(row.status)
            tell(row, provider_id)
        return provider_id

    monkeypatch.setattr(channel, "send", send_then_tell)
    return seen


def assert_failed(row: Reminder, reason: str, coordinator) -> None:
    row.refresh_from_db()
    assert (row.status, row.status_reason) == ("failed", reason)
    assert row.episode in queue_episodes("delivery_failures", user=coordinator)


EMAIL_REASON = "bounced (ESP reason: bounced)"
SMS_REASON = "undelivered (Twilio error 30003)"


def test_a_hard_bounce_before_the_finish_fails_the_reminder(
    client, monkeypatch, postmark, email_episode, coordinator
):
    seen = verdict_during_send(
        monkeypatch, EmailChannel, lambda _row, pid: bounce(client, postmark, pid)
    )

    run_cycle(DUE)

    row = reminder(email_episode)
    assert seen == ["sending"]
    assert DeliveryAttempt.objects.get(reminder=row).provider_status == "bounced"
    assert_failed(row, EMAIL_REASON, coordinator)


def test_a_hard_bounce_after_the_finish_fails_the_reminder(
    client, postmark, email_episode, coordinator
):
    run_cycle(DUE)
    row = reminder(email_episode)
    assert row.status == "sent"

    bounce(client, postmark, row.provider_message_id)

    assert_failed(row, EMAIL_REASON, coordinator)


def test_undelivered_before_the_finish_fails_the_reminder(
    client, monkeypatch, twilio, sms_episode, coordinator
):
    seen = verdict_during_send(
        monkeypatch, SmsChannel, lambda row, sid: undelivered(client, row, sid)
    )

    run_cycle(DUE)

    row = reminder(sms_episode)
    assert seen == ["sending"]
    assert_failed(row, SMS_REASON, coordinator)


def test_undelivered_after_the_finish_fails_the_reminder(client, twilio, sms_episode, coordinator):
    run_cycle(DUE)
    row = reminder(sms_episode)
    assert row.status == "sent"

    undelivered(client, row, row.provider_message_id)

    assert_failed(row, SMS_REASON, coordinator)


def test_undelivered_on_an_interrupted_attempt_fails_the_reconciled_reminder(
    client, twilio, sms_episode, coordinator
):
    # The worker was lost after Twilio took the message; the row was reclaimed. Twilio's
    # callback names the reminder, so the verdict lands on the interrupted attempt.
    row = reminder(sms_episode)
    Reminder.objects.filter(pk=row.pk).update(attempts=1)
    DeliveryAttempt.objects.create(reminder=row, attempt=1, channel="sms", outcome="interrupted")
    undelivered(client, row, "SM" + "b" * 32)

    run_cycle(DUE)

    outcomes = row.deliveries.order_by("attempt").values_list("outcome", flat=True)
    assert list(outcomes) == ["interrupted", "reconciled"]
    assert twilio.messages_to(sms_episode.patient.phone) == []  # not sent again
    assert_failed(row, SMS_REASON, coordinator)
