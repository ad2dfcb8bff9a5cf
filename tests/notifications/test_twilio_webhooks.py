"""Twilio's webhooks with real signatures: status callbacks and the patient's own SMS.

Signatures are made by the twilio library's ``RequestValidator.compute_signature`` with
the auth token, over the URL Twilio was given and the form parameters, as Twilio signs.
"""

from __future__ import annotations

import time
from datetime import date
from urllib.parse import urlencode

import pytest

from episodes.selectors import episode_timeline, queue_episodes
from notifications.models import DeliveryAttempt, Reminder, WebhookReceipt
from notifications.selectors import episode_reminders
from tests.clock import local
from tests.notifications.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, sign
from tests.notifications.helpers import PUBLIC_BASE_URL, enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)
INBOUND = "/webhooks/twilio/inbound/"


@pytest.fixture
def sms_episode(settings, sms_patient, coordinator, twilio):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    return enroll(sms_patient, coordinator, onset=ONSET, on=ONSET)


def post(client, url: str, params: dict[str, str], headers: dict[str, str]):
    """POST as Twilio does: a form body to the URL it was given, with its headers."""
    return client.post(
        url.removeprefix(PUBLIC_BASE_URL),
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def wait_for_callbacks(twilio, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(twilio.callbacks) < count:
        assert time.monotonic() < deadline, "the fake sent no status callbacks"
        time.sleep(0.05)


def sent_and_called_back(client, twilio, episode):
    run_cycle(DUE)
    wait_for_callbacks(twilio, 2)  # sent, then delivered (or undelivered)
    answers = twilio.post_callbacks(lambda url, p, h: post(client, url, p, h))
    assert [a.status_code for a in answers] == [200, 200]
    return reminder(episode)


def test_status_callbacks_store_delivered_on_the_attempt_and_the_timeline(
    client, twilio, sms_episode
):
    row = sent_and_called_back(client, twilio, sms_episode)

    attempt = row.deliveries.get()
    assert (attempt.provider_status, attempt.provider_message_id) == (
        "delivered",
        row.provider_message_id,
    )
    (event,) = [
        e
        for e in episode_timeline(sms_episode)
        if e.kind == "delivery_attempt" and e.data["reminder"] == row.pk
    ]
    assert event.data["provider_status"] == "delivered"
    assert row.status == "sent"
    listed = {r.pk: r.delivery_status for r in episode_reminders(sms_episode)}
    assert listed[row.pk] == "delivered"


def test_undelivered_fails_the_reminder_with_twilios_code_into_delivery_failures(
    client, twilio, sms_episode, coordinator
):
    twilio.undeliverable[sms_episode.patient.phone] = 30003  # Unreachable destination handset

    row = sent_and_called_back(client, twilio, sms_episode)

    assert (row.status, row.status_reason) == ("failed", "undelivered (Twilio error 30003)")
    assert row.deliveries.get().provider_error_code == "30003"
    assert sms_episode in queue_episodes("delivery_failures", user=coordinator)


def test_a_wrong_signature_is_403_and_changes_nothing(client, twilio, sms_episode):
    run_cycle(DUE)
    wait_for_callbacks(twilio, 2)
    callback = twilio.callbacks[-1]
    forged = {
        **callback.headers,
        "X-Twilio-Signature": sign(callback.params, callback.url, token="not-ours")[
            "X-Twilio-Signature"
        ],
    }
    tampered = {**callback.params, "MessageStatus": "failed"}

    assert post(client, callback.url, callback.params, forged).status_code == 403
    assert post(client, callback.url, tampered, callback.headers).status_code == 403
    assert post(client, callback.url, callback.params, {}).status_code == 403
    assert (
        DeliveryAttempt.objects.get(
            reminder__episode=sms_episode, reminder__audience="patient"
        ).provider_status
        == ""
    )
    assert WebhookReceipt.objects.count() == 0


def test_a_replayed_callback_is_dropped_by_its_idempotency_token(client, twilio, sms_episode):
    run_cycle(DUE)
    wait_for_callbacks(twilio, 2)
    sent, delivered = twilio.callbacks[:2]

    assert post(client, delivered.url, delivered.params, delivered.headers).content == b"stored"
    # Twilio retrying the "sent" callback after "delivered" came: a late, older status.
    assert post(client, sent.url, sent.params, sent.headers).content == b"stale"
    assert post(client, delivered.url, delivered.params, delivered.headers).content == b"duplicate"
    attempt = DeliveryAttempt.objects.get(
        reminder__episode=sms_episode, reminder__audience="patient"
    )
    assert attempt.provider_status == "delivered"


def test_a_callback_naming_an_interrupted_reminder_gives_reconciliation_the_sid(
    client, twilio, sms_episode
):
    row = reminder(sms_episode)
    Reminder.objects.filter(pk=row.pk).update(attempts=1, status="sending")
    attempt = DeliveryAttempt.objects.create(
        reminder=row, attempt=1, channel="sms", outcome="interrupted"
    )
    url = f"{PUBLIC_BASE_URL}/webhooks/twilio/status/?reminder=reminder-{row.pk}"
    params = {
        "MessageSid": "SM" + "a" * 32,
        "MessageStatus": "sent",
        "AccountSid": ACCOUNT_SID,
        "To": sms_episode.patient.phone,
        "From": FROM_NUMBER,
    }

    assert post(client, url, params, sign(params, url)).content == b"stored"
    attempt.refresh_from_db()
    assert attempt.provider_message_id == "SM" + "a" * 32


def test_a_status_callback_is_checked_against_the_url_twilio_was_given(
    client, settings, sms_episode
):
    """A callback URL on another host (a webhook gateway) is the URL Twilio signed."""
    settings.TWILIO_STATUS_CALLBACK_URL = "https://hooks.example.net/careflow/twilio/status/"
    row = reminder(sms_episode)
    query = f"?reminder=reminder-{row.pk}"
    params = {
        "MessageSid": "SM" + "c" * 32,
        "MessageStatus": "sent",
        "AccountSid": ACCOUNT_SID,
        "To": sms_episode.patient.phone,
        "From": FROM_NUMBER,
    }
    here = f"{PUBLIC_BASE_URL}/webhooks/twilio/status/{query}"
    given = f"{settings.TWILIO_STATUS_CALLBACK_URL}{query}"
    # Signed over our own public URL, which Twilio was not given: refused.
    assert post(client, here, params, sign(params, here)).status_code == 403
    # Signed over the URL Twilio was given, arriving here through the gateway: taken.
    assert post(client, here, params, sign(params, given)).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"MessageSid": "not-a-sid", "MessageStatus": "sent"},
        {"MessageSid": "SM" + "0" * 32, "MessageStatus": "exploded"},
    ],
)
def test_signed_nonsense_is_answered_without_a_500(client, sms_episode, params):
    url = f"{PUBLIC_BASE_URL}/webhooks/twilio/status/"

    assert post(client, url, params, sign(params, url)).status_code == 200
    assert (
        post(
            client,
            f"{PUBLIC_BASE_URL}{INBOUND}",
            params,
            sign(params, f"{PUBLIC_BASE_URL}{INBOUND}"),
        ).status_code
        == 200
    )


# -- the patient's own SMS ------------------------------------------------------------------


def inbound(client, patient, body: str, sid: str = "SM" + "b" * 32):
    url = f"{PUBLIC_BASE_URL}{INBOUND}"
    params = {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": patient.phone,
        "To": FROM_NUMBER,
        "Body": body,
    }
    return post(client, url, params, sign(params, url))


@pytest.mark.parametrize(
    "word", ["STOP", "stop ", "Unsubscribe", "STOPALL", "QUIT", "END", "CANCEL"]
)
def test_stop_withdraws_consent_before_the_next_due_reminder_which_goes_by_email(
    client, twilio, sms_episode, word
):
    response = inbound(client, sms_episode.patient, word)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    patient = type(sms_episode.patient).objects.get(pk=sms_episode.patient.pk)
    assert patient.sms_consent is False
    assert set(
        Reminder.objects.filter(episode=sms_episode, audience="patient").values_list(
            "channel", flat=True
        )
    ) == {"email"}
    run_cycle(DUE)
    assert twilio.creates() == []  # no further SMS
    assert reminder(sms_episode).status == "sent"  # by email, to the address on file
    (event,) = [e for e in episode_timeline(sms_episode) if e.kind == "patient_message"]
    assert event.data["kind"] == "opt_out"  # the care team sees it


def test_start_restores_sms(client, twilio, sms_episode):
    inbound(client, sms_episode.patient, "STOP", sid="SM" + "1" * 32)
    inbound(client, sms_episode.patient, "START", sid="SM" + "2" * 32)

    assert type(sms_episode.patient).objects.get(pk=sms_episode.patient.pk).sms_consent is True
    assert reminder(sms_episode).channel == "sms"
    run_cycle(DUE)
    assert len(twilio.creates()) == 1


def test_a_replayed_stop_after_a_start_changes_nothing(client, twilio, sms_episode):
    """Deduplicated on the message SID: a genuine STOP sent again is not a new STOP."""
    inbound(client, sms_episode.patient, "STOP", sid="SM" + "1" * 32)
    inbound(client, sms_episode.patient, "START", sid="SM" + "2" * 32)
    again = inbound(client, sms_episode.patient, "STOP", sid="SM" + "1" * 32)

    assert again.status_code == 200
    assert type(sms_episode.patient).objects.get(pk=sms_episode.patient.pk).sms_consent is True
    # The other way: a new STOP (its own SID) still withdraws consent.
    inbound(client, sms_episode.patient, "STOP", sid="SM" + "3" * 32)
    assert type(sms_episode.patient).objects.get(pk=sms_episode.patient.pk).sms_consent is False


def test_stop_without_an_email_address_puts_the_reminder_in_delivery_failures(
    client, twilio, sms_episode, coordinator
):
    type(sms_episode.patient).objects.filter(pk=sms_episode.patient.pk).update(email="")
    inbound(client, sms_episode.patient, "STOP")

    run_cycle(DUE)

    assert (reminder(sms_episode).status, twilio.creates()) == ("failed", [])
    assert sms_episode in queue_episodes("delivery_failures", user=coordinator)


def test_any_other_reply_lands_on_the_timeline_and_changes_nothing(client, twilio, sms_episode):
    inbound(client, sms_episode.patient, "Pain is worse since Tuesday")
    inbound(client, sms_episode.patient, "Pain is worse since Tuesday")  # Twilio retrying

    assert type(sms_episode.patient).objects.get(pk=sms_episode.patient.pk).sms_consent is True
    events = [e for e in episode_timeline(sms_episode) if e.kind == "patient_message"]
    assert [(e.data["kind"], e.data["body"]) for e in events] == [
        ("reply", "Pain is worse since Tuesday")
    ]


def test_a_body_no_parser_can_read_is_refused_not_a_500(client, sms_episode):
    response = client.post(
        INBOUND,
        data=b"--x\r\nbroken",
        content_type="multipart/form-data; boundary=x",
        headers={"X-Twilio-Signature": "anything"},
    )

    assert response.status_code == 403


def test_an_unsigned_stop_is_refused_and_changes_nothing(client, sms_episode):
    url = f"{PUBLIC_BASE_URL}{INBOUND}"
    params = {"MessageSid": "SM" + "c" * 32, "From": sms_episode.patient.phone, "Body": "STOP"}

    assert post(client, url, params, {"X-Twilio-Signature": "bogus"}).status_code == 403
    assert type(sms_episode.patient).objects.get(pk=sms_episode.patient.pk).sms_consent is True
