"""Channel preference, SMS consent and opt-out: an SMS without consent is never sent."""

from __future__ import annotations

from datetime import date

import time_machine
from django.core import mail

from episodes import services
from notifications.delivery.batch import deliver_claimed
from tests.clock import local
from tests.notifications.helpers import claim_only, enroll, reminder, run_cycle

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)


def test_sms_preference_with_consent_goes_by_sms(sms_patient, coordinator, twilio):
    episode = enroll(sms_patient, coordinator, onset=ONSET, on=ONSET)
    assert reminder(episode).channel == "sms"

    run_cycle(DUE)

    assert [c.to for c in twilio.calls] == ["+15557654321"]
    assert [m.to for m in mail.outbox] == [[sms_patient.care_team.email]]


def test_sms_preference_without_consent_is_scheduled_by_email(patient, coordinator, twilio):
    patient.preferred_channel, patient.sms_consent = "sms", False
    patient.save()
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)

    run_cycle(DUE)

    assert reminder(episode).channel == "email"
    assert twilio.calls == []
    assert [patient.email] in [m.to for m in mail.outbox]


def test_consent_withdrawn_reschedules_by_email(
    sms_patient, coordinator, twilio, django_capture_on_commit_callbacks
):
    episode = enroll(sms_patient, coordinator, onset=ONSET, on=ONSET)
    with (
        time_machine.travel(local(date(2026, 3, 10), 12), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.patient_update(
            patient_id=sms_patient.pk, fields={"sms_consent": False, "preferred_channel": "email"}
        )

    assert reminder(episode).channel == "email"
    run_cycle(DUE)
    assert twilio.calls == []


def test_consent_withdrawn_after_the_claim_cancels_the_sms(sms_patient, coordinator, twilio):
    episode = enroll(sms_patient, coordinator, onset=ONSET, on=ONSET)
    batches = claim_only(DUE)
    type(sms_patient).objects.filter(pk=sms_patient.pk).update(sms_consent=False)

    with time_machine.travel(DUE, tick=False):
        for ids, claim in batches:
            deliver_claimed(reminder_ids=ids, claim=claim)

    row = reminder(episode)
    assert (row.status, row.status_reason) == ("cancelled", "no SMS consent")
    assert twilio.calls == []


def test_an_opted_out_patient_gets_nothing_and_the_care_team_still_does(
    patient, coordinator, django_capture_on_commit_callbacks
):
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    with (
        time_machine.travel(local(date(2026, 3, 10), 12), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.patient_update(patient_id=patient.pk, fields={"opted_out": True})

    run_cycle(DUE)

    row = reminder(episode)
    assert (row.status, row.status_reason) == ("cancelled", "patient opted out of reminders")
    assert [m.to for m in mail.outbox] == [[patient.care_team.email]]
