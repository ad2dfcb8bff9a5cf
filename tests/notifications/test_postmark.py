"""Email through django-anymail to Postmark (a local fake as Postmark documents it).

The provider's message id is recorded on the attempt; its tracking webhooks (basic auth)
are stored; a hard bounce or complaint marks the address unusable and puts the episode in
``delivery_failures``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine

from episodes.selectors import queue_episodes
from notifications.channels.base import PermanentSendError, TransientSendError
from notifications.channels.email import find_sent_email, send_email
from notifications.models import DeliveryAttempt, Reminder, UnusableEmail
from tests.clock import local
from tests.notifications.fake_postmark import basic_auth
from tests.notifications.helpers import enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)
HOOK = "/webhooks/email/postmark/tracking/"


@pytest.fixture
def email_episode(patient, coordinator, postmark):
    return enroll(patient, coordinator, onset=ONSET, on=ONSET)


def hook(client, payload, *, auth: dict[str, str] | None = None):
    return client.post(
        HOOK,
        data=json.dumps(payload),
        content_type="application/json",
        headers=basic_auth() if auth is None else auth,
    )


def test_the_esp_message_id_is_recorded_and_the_reminder_travels_as_metadata(
    postmark, email_episode
):
    run_cycle(DUE)

    row = reminder(email_episode)
    (sent,) = [s for s in postmark.sent if s.metadata.get("reminder") == f"reminder-{row.pk}"]
    assert row.status == "sent"
    assert row.provider_message_id == sent.message_id
    assert row.deliveries.get().provider_message_id == sent.message_id
    assert sent.to == email_episode.patient.email


def test_a_delivery_webhook_is_stored_on_the_attempt(client, postmark, email_episode):
    run_cycle(DUE)
    row = reminder(email_episode)

    assert hook(client, postmark.delivery(row.provider_message_id)).status_code == 200

    attempt = DeliveryAttempt.objects.get(reminder=row)
    assert attempt.provider_status == "delivered"
    assert attempt.provider_status_at is not None


def test_a_hard_bounce_marks_the_address_unusable_and_tells_the_care_team(
    client, postmark, email_episode, coordinator
):
    run_cycle(DUE)
    row = reminder(email_episode)

    assert hook(client, postmark.bounce(row.provider_message_id)).status_code == 200

    row.refresh_from_db()
    assert row.status == "failed"
    assert row.status_reason.startswith("bounced")
    assert DeliveryAttempt.objects.get(reminder=row).provider_status == "bounced"
    assert UnusableEmail.objects.filter(address=email_episode.patient.email.lower()).exists()
    assert email_episode in queue_episodes("delivery_failures", user=coordinator)
    # The next reminder to that address is not written: it fails at once, visibly.
    six_weeks = reminder(email_episode, "6_weeks")
    run_cycle(six_weeks.next_attempt_at)
    six_weeks.refresh_from_db()
    assert (six_weeks.status, six_weeks.status_reason) == ("failed", "permanent error")
    assert [s.to for s in postmark.sent].count(email_episode.patient.email) == 1


def test_a_bounce_about_no_message_of_ours_marks_nothing(client, postmark, email_episode):
    run_cycle(DUE)
    payload = postmark.bounce(reminder(email_episode).provider_message_id)
    payload["MessageID"] = "00000000-0000-4000-8000-000000000000"
    payload.pop("Metadata", None)
    payload["Email"] = "someone.else@example.org"

    assert hook(client, payload).status_code == 200
    assert not UnusableEmail.objects.exists()
    assert reminder(email_episode).status == "sent"


def test_a_soft_bounce_is_stored_but_the_address_stays_usable(client, postmark, email_episode):
    run_cycle(DUE)
    row = reminder(email_episode)

    hook(client, postmark.bounce(row.provider_message_id, kind="Transient", code=2))

    row.refresh_from_db()
    assert row.status == "sent"
    assert DeliveryAttempt.objects.get(reminder=row).provider_status == "deferred"
    assert not UnusableEmail.objects.exists()


def test_a_complaint_marks_the_address_unusable(client, postmark, email_episode):
    run_cycle(DUE)
    row = reminder(email_episode)

    hook(client, postmark.complaint(row.provider_message_id))

    assert UnusableEmail.objects.filter(address=email_episode.patient.email.lower()).exists()
    assert DeliveryAttempt.objects.get(reminder=row).provider_status == "complained"


def test_a_replayed_bounce_is_stored_once(client, postmark, email_episode):
    run_cycle(DUE)
    payload = postmark.bounce(reminder(email_episode).provider_message_id)

    hook(client, payload)
    hook(client, payload)

    assert UnusableEmail.objects.count() == 1


@pytest.mark.parametrize(
    "auth", [{}, basic_auth("postmark:wrong"), {"Authorization": "Bearer x"}], ids=str
)
def test_a_webhook_without_the_right_password_is_403_and_changes_nothing(
    client, postmark, email_episode, auth
):
    run_cycle(DUE)
    row = reminder(email_episode)

    assert hook(client, postmark.bounce(row.provider_message_id), auth=auth).status_code == 403

    row.refresh_from_db()
    assert row.status == "sent"
    assert not UnusableEmail.objects.exists()


def test_without_a_configured_secret_the_webhook_refuses_everything(
    client, settings, postmark, email_episode
):
    run_cycle(DUE)
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}

    response = hook(client, postmark.bounce(reminder(email_episode).provider_message_id))

    assert response.status_code == 403
    assert not UnusableEmail.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[]", '{"RecordType": 5}', "{}"])
def test_malformed_events_are_not_a_500(db, client, postmark, body):
    response = client.post(HOOK, data=body, content_type="application/json", headers=basic_auth())

    assert response.status_code in {200, 400}


def test_postmark_refusing_an_inactive_recipient_is_permanent(postmark):
    postmark.inactive.add("gone@example.org")

    with pytest.raises(PermanentSendError):
        send_email(to="gone@example.org", subject="s", body="b", idempotency_key="reminder-1")
    assert postmark.sent == []


def test_a_wrong_server_token_is_permanent(settings, postmark):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "wrong"}

    with pytest.raises(PermanentSendError, match="HTTP 401"):
        send_email(to="a@example.org", subject="s", body="b", idempotency_key="reminder-1")


def _interrupted(row) -> None:
    """The row's first attempt begun, then its worker gone (reclaimed after the lease)."""
    Reminder.objects.filter(pk=row.pk).update(attempts=1)
    DeliveryAttempt.objects.create(reminder=row, attempt=1, channel="email", outcome="interrupted")


def test_an_interrupted_email_postmark_took_is_reconciled_not_sent_again(postmark, email_episode):
    row = reminder(email_episode)
    with time_machine.travel(DUE, tick=False):
        _interrupted(row)
        taken = send_email(
            to=email_episode.patient.email,
            subject="s",
            body="b",
            idempotency_key=f"reminder-{row.pk}",
        )

    run_cycle(DUE)

    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == ("sent", taken)
    assert list(row.deliveries.values_list("outcome", flat=True)) == ["interrupted", "reconciled"]
    assert postmark.inbox()[f"reminder-{row.pk}"] == 1


def test_an_interrupted_email_postmark_never_got_is_sent_once(postmark, email_episode):
    row = reminder(email_episode)
    with time_machine.travel(DUE, tick=False):
        _interrupted(row)

    run_cycle(DUE)

    row.refresh_from_db()
    assert list(row.deliveries.values_list("outcome", flat=True)) == ["interrupted", "sent"]
    assert postmark.inbox()[f"reminder-{row.pk}"] == 1


def test_when_postmark_cannot_be_searched_nothing_is_resent_on_a_guess(settings, postmark):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": "http://127.0.0.1:9/"}

    with pytest.raises(TransientSendError, match="Postmark search unavailable"):
        find_sent_email(to="a@example.org", since=datetime.now(UTC), idempotency_key="reminder-1")


def test_over_smtp_there_is_nobody_to_ask(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    assert find_sent_email(to="a@example.org", since=datetime.now(UTC), idempotency_key="r") is None
