"""A withdrawal of SMS consent never makes the patient's record invalid (PATHWAY.md).

After a STOP the patient's preferred channel stays SMS, every other correction is taken
(a birth date, and RF-3 with it), reminders fall back to email, and with no email the
care team is told the patient cannot be reached. Choosing SMS without consent is refused.
"""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from django.test import Client

from episodes.models import Patient
from tests.clients import client_for, url
from tests.clock import local
from tests.factories import PatientFactory
from tests.notifications.helpers import enroll, reminder, run_cycle, text_us

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)
PHONE = "+15557654321"


@pytest.fixture
def stopped(team, coordinator, client, twilio):
    """An SMS patient of 49 with new-onset pain who texted STOP."""
    episode = enroll(
        PatientFactory(
            care_team=team,
            preferred_channel="sms",
            sms_consent=True,
            phone=PHONE,
            birth_date=date(1977, 1, 1),
        ),
        coordinator,
        onset=ONSET,
        on=ONSET,
        new_onset_pain=True,
    )
    text_us(client, twilio, PHONE, "STOP")
    return episode


def patient_of(api, episode) -> dict:
    return api.get(url(f"patients/{episode.patient_id}/")).json()


def test_a_birth_date_correction_after_a_stop_is_taken_and_the_reminder_goes_by_email(
    stopped, coordinator, twilio, mailoutbox
):
    api = client_for(coordinator)
    before = patient_of(api, stopped)
    assert (before["preferred_channel"], before["sms_consent"]) == ("sms", False)
    assert (before["preferred_channel_reachable"], before["reminders_by"]) == (False, "email")

    response = api.patch(
        url(f"patients/{stopped.patient_id}/"),
        {"birth_date": "1966-01-01", "reason": "typed the wrong year"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["birth_date"], response.json()["preferred_channel"]) == (
        "1966-01-01",
        "sms",
    )
    flags = api.get(url(f"episodes/{stopped.pk}/")).json()["red_flags"]
    assert [(f["sign"], f["category"]) for f in flags] == [("age_over_50_new_onset", "RF-3")]
    run_cycle(DUE)
    assert (reminder(stopped).channel, reminder(stopped).status) == ("email", "sent")
    assert twilio.creates() == []
    assert stopped.patient.email in [m.to[0] for m in mailoutbox]


def test_the_whole_record_sent_back_after_a_stop_is_taken(stopped, coordinator):
    api = client_for(coordinator)
    record = patient_of(api, stopped)
    fields = ("given_name", "family_name", "email", "phone", "timezone", "preferred_channel",
              "sms_consent", "opted_out", "language")  # fmt: skip
    body = {name: record[name] for name in fields} | {"family_name": "Ruiz-Ortega"}

    response = api.patch(url(f"patients/{stopped.patient_id}/"), body, format="json")

    assert response.status_code == 200, response.content
    assert Patient.objects.get(pk=stopped.patient_id).family_name == "Ruiz-Ortega"


def test_choosing_sms_without_consent_is_still_refused_and_changes_nothing(coordinator, team):
    from tests.factories import new_episode  # noqa: PLC0415 - the fixed calendar, not ONSET here

    episode = new_episode(PatientFactory(care_team=team, sms_consent=False), coordinator)
    api = client_for(coordinator)

    refused = api.patch(
        url(f"patients/{episode.patient_id}/"),
        {"preferred_channel": "sms", "family_name": "Changed"},
        format="json",
    )
    with_consent = api.patch(
        url(f"patients/{episode.patient_id}/"),
        {"preferred_channel": "sms", "sms_consent": True},
        format="json",
    )

    assert refused.status_code == 400
    assert "preferred_channel" in refused.json()
    assert with_consent.status_code == 200
    assert Patient.objects.get(pk=episode.patient_id).family_name != "Changed"


def test_with_no_email_either_the_team_is_told_the_patient_cannot_be_reached(
    stopped, coordinator, twilio
):
    api = client_for(coordinator)
    response = api.patch(url(f"patients/{stopped.patient_id}/"), {"email": ""}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["preferred_channel_reachable"], response.json()["reminders_by"]) == (
        False,
        None,
    )
    run_cycle(DUE)
    assert (reminder(stopped).status, twilio.creates()) == ("failed", [])
    failures = api.get(url("queues/delivery_failures/")).json()["results"]
    assert [row["id"] for row in failures] == [stopped.pk]
    browser = Client()
    browser.force_login(coordinator)
    banner = unescape(browser.get(f"/episodes/{stopped.pk}/").content.decode())
    assert "Cannot be reached" in banner


def test_the_banner_says_sms_no_longer_reaches_the_patient(stopped, coordinator):
    browser = Client()
    browser.force_login(coordinator)

    page = unescape(browser.get(f"/episodes/{stopped.pk}/").content.decode())

    assert "Not by SMS" in page
    assert "reminders go by email" in page
    assert "STOP: SMS consent withdrawn" in page  # the timeline says why
