"""A worker killed with SIGKILL in the middle of a batch: every reminder still goes once.

The fake Twilio in this process behaves as Twilio documents (no dedupe of a repeated create)
and keeps every message it accepted. Delivery is set-based: the batch's SMS
chunk begins together (every row an `in_flight` attempt before any send), is sent, and
finished together. The third SMS call is accepted by the provider but its answer never
comes back: the worker is killed while waiting for it. Every SMS row of the chunk still
says `sending` with an `in_flight` attempt: the two sent before it, the hung one, and the
ones never tried. Once the lease runs out a dispatch cycle reclaims them all (each attempt
`interrupted`); the new worker asks Twilio (the list call) about each, finds the three it
took, records them as sent (`reconciled`), and sends the rest: every phone gets its
reminder once.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from notifications import tasks
from notifications.models import DeliveryAttempt, Reminder
from tests.factories import PatientFactory
from tests.notifications.e2e import (
    daytime_zone,
    drain,
    email_messages,
    enrol_15_days_after_onset,
    new_queue,
    wait_until_done,
)
from tests.notifications.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

pytestmark = pytest.mark.django_db(transaction=True)
LEASE_SECONDS = 8  # from the beat tick, through two sends and a hang, to the check below
PATIENTS = 6


def test_after_a_sigkill_mid_batch_every_reminder_is_delivered_once(  # noqa: PLR0917 - fixtures
    settings, tmp_path, celery_worker_factory, fake_twilio, team, coordinator
):
    queue = new_queue()
    settings.CAREFLOW_REMINDER_QUEUE = queue
    settings.CAREFLOW_REMINDER_LEASE_SECONDS = LEASE_SECONDS
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 2 * PATIENTS  # one batch: the kill lands inside it
    mail_dir = tmp_path / "mail"
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
        "CAREFLOW_REMINDER_QUEUE": queue,
        "CAREFLOW_REMINDER_LEASE_SECONDS": str(LEASE_SECONDS),
        "CAREFLOW_REMINDER_BATCH_SIZE": str(2 * PATIENTS),
        "CAREFLOW_SMS_BACKEND": "notifications.channels.sms.TwilioSmsBackend",
        "CAREFLOW_SMS_TIMEOUT_SECONDS": "30",  # the hung call must not time out first
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_BASE_URL": fake_twilio.url,
        "CAREFLOW_TEST_EMAIL_DIR": str(mail_dir),
    }
    episodes = [
        enrol_15_days_after_onset(
            PatientFactory(
                care_team=team,
                timezone=daytime_zone(),
                preferred_channel="sms",
                sms_consent=True,
                phone=f"+1555765430{n}",
            ),
            coordinator,
        )
        for n in range(PATIENTS)
    ]
    rows = Reminder.objects.filter(episode__in=episodes, milestone="2_weeks")
    sms_ids = sorted(rows.filter(audience="patient").values_list("pk", flat=True))
    email_ids = sorted(rows.filter(audience="care_team").values_list("pk", flat=True))
    fake_twilio.hang_on_call = 3

    first = celery_worker_factory(queue=queue, extra_env=env)
    tasks.dispatch_due_reminders()  # beat's tick, run here: claims the batch, enqueues it
    assert fake_twilio.hanging.wait(timeout=30), "the worker never reached the third SMS"
    first.kill()

    # Mid-chunk: the whole SMS chunk in flight (begun together), nothing of it finished.
    statuses = Counter(rows.filter(audience="patient").values_list("status", flat=True))
    assert statuses == {"sending": PATIENTS}
    in_flight = list(DeliveryAttempt.objects.filter(reminder_id__in=sms_ids, outcome="in_flight"))
    assert len(in_flight) == PATIENTS
    taken_before_kill = set(fake_twilio.delivered)
    assert len(taken_before_kill) == fake_twilio.hang_on_call

    # Before the lease runs out a cycle takes nothing: the rows may still be in a worker.
    # Checked at once, before a second worker starts (starting one on a loaded machine can
    # take longer than the lease): every row keeps its claim and no attempt is interrupted.
    claims = sorted(rows.values_list("pk", "status", "claim_token"))
    tasks.dispatch_due_reminders()
    assert sorted(rows.values_list("pk", "status", "claim_token")) == claims
    assert not DeliveryAttempt.objects.filter(reminder__in=rows, outcome="interrupted").exists()

    second = celery_worker_factory(queue=queue, extra_env=env)
    time.sleep(LEASE_SECONDS + 0.5)
    tasks.dispatch_due_reminders()  # reclaims, claims again, hands the batch to `second`
    wait_until_done(sms_ids + email_ids)
    drain(second, queue)
    tasks.dispatch_due_reminders()  # and once more: nothing left to send
    drain(second, queue)

    # Every row sent; every reminder delivered once as the provider and the mailbox see it.
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert sorted(fake_twilio.delivered) == sorted(f"reminder-{pk}" for pk in sms_ids)
    assert email_messages(mail_dir) == {f"reminder-{pk}": 1 for pk in email_ids}
    # Each phone got its reminder once: the interrupted one was found at Twilio by the list
    # call (its check-in link names it) and recorded as sent, not created a second time.
    assert fake_twilio.received() == {f"reminder-{pk}": 1 for pk in sms_ids}
    raw = Counter(fake_twilio.raw_tokens())
    assert raw == {f"reminder-{pk}": 1 for pk in sms_ids}
    # Each SMS of the chunk was interrupted; those Twilio had taken were reconciled, the
    # others sent on the next attempt.
    for pk in sms_ids:
        resent = Reminder.objects.get(pk=pk)
        outcomes = list(resent.deliveries.values_list("outcome", flat=True))
        token = f"reminder-{pk}"
        if token in taken_before_kill:
            assert outcomes == ["interrupted", "reconciled"], token
            assert resent.provider_message_id == fake_twilio.delivered[token]
        else:
            assert outcomes == ["interrupted", "sent"], token
    # Every email has exactly one attempt, and it was sent.
    emails = DeliveryAttempt.objects.filter(reminder_id__in=email_ids)
    assert Counter(emails.values_list("outcome", flat=True)) == {"sent": PATIENTS}
