"""Corrections from the episode page: dates and a birth date with their reason; a plan item ended.

A changed date without a reason is refused with an NHS.UK-style message linked to the
field, and changes nothing (PATHWAY.md "Facts change over time"); with the reason it is
on the timeline with the old and new dates. Marking a care-plan item ended works its
CC-3 flags out again.
"""

from __future__ import annotations

from datetime import date

from episodes import services
from episodes.models import Correction, Episode, Patient
from tests.clock import ONSET, at_day
from tests.workspace.helpers import read, signed_in, text, words


def dates_form(episode, **changes) -> dict:
    return {
        "symptom_onset": episode.symptom_onset.isoformat(),
        "conservative_care_start": episode.conservative_care_start.isoformat(),
        "version": episode.version,
        **changes,
    }


def test_a_date_correction_without_a_reason_is_refused_and_changes_nothing(coordinator, episode):
    with at_day(10):
        response = signed_in(coordinator).post(
            f"/episodes/{episode.pk}/dates/", dates_form(episode, symptom_onset="2026-09-20")
        )
    page = text(response)
    assert response.status_code == 400
    assert 'id="error-summary-title">There is a problem</h2>' in page
    assert '<a href="#dates-reason">Enter why the date is being corrected</a>' in page
    assert 'class="nhsuk-error-message" id="dates-reason-error">' in page
    sent = {i["id"]: i.get("value") for i in read(page).inputs if i.get("id")}
    assert [sent[f"dates-symptom_onset-{part}"] for part in ("day", "month", "year")] == [
        "20",
        "9",
        "2026",
    ]  # the form comes back as it was sent, in the date input's three boxes
    assert Episode.objects.get(pk=episode.pk).symptom_onset == ONSET
    assert not Correction.objects.exists()


def test_a_date_correction_with_a_reason_is_on_the_timeline(coordinator, episode):
    client = signed_in(coordinator)
    with at_day(10):
        response = client.post(
            f"/episodes/{episode.pk}/dates/",
            dates_form(episode, symptom_onset="2026-09-20", reason="GP letter: began in September"),
        )
        page = words(client.get(f"/episodes/{episode.pk}/"))
    assert response.status_code == 302
    assert Episode.objects.get(pk=episode.pk).symptom_onset == date(2026, 9, 20)
    assert (
        "Date the symptoms began corrected from 2026-10-01 to 2026-09-20"
        " — GP letter: began in September — coord-a" in page
    )


def test_a_stale_date_correction_is_a_409(coordinator, clinician, episode):
    stale = dates_form(episode, symptom_onset="2026-09-20", reason="GP letter")
    services.episode_update(episode_id=episode.pk, by=clinician, fields={"assigned_to": clinician})
    with at_day(10):
        response = signed_in(coordinator).post(f"/episodes/{episode.pk}/dates/", stale)
    assert response.status_code == 409
    assert Episode.objects.get(pk=episode.pk).symptom_onset == ONSET


def patient_form(patient, **changes) -> dict:
    return {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "birth_date": patient.birth_date.isoformat(),
        "email": patient.email,
        "phone": patient.phone,
        "timezone": patient.timezone,
        "preferred_channel": patient.preferred_channel,
        "language": patient.language,
        **changes,
    }


def test_a_birth_date_correction_needs_a_reason(coordinator, episode):
    patient = episode.patient
    client = signed_in(coordinator)
    url = f"/episodes/{episode.pk}/patient/"
    with at_day(10):
        refused = client.post(url, patient_form(patient, birth_date="1970-04-02"))
    assert refused.status_code == 400
    assert '<a href="#patient-reason">Enter why the date of birth is being corrected</a>' in (
        text(refused)
    )
    assert Patient.objects.get(pk=patient.pk).birth_date == date(1980, 4, 2)

    with at_day(10):
        done = client.post(
            url, patient_form(patient, birth_date="1970-04-02", reason="passport seen")
        )
    assert done.status_code == 302
    assert Patient.objects.get(pk=patient.pk).birth_date == date(1970, 4, 2)
    assert Correction.objects.get().reason == "passport seen"


def test_other_details_change_without_a_reason(coordinator, episode):
    patient = episode.patient
    with at_day(10):
        response = signed_in(coordinator).post(
            f"/episodes/{episode.pk}/patient/", patient_form(patient, phone="+15557654321")
        )
    assert response.status_code == 302
    assert Patient.objects.get(pk=patient.pk).phone == "+15557654321"
    assert not Correction.objects.exists()


def test_a_bad_phone_number_is_refused_naming_the_field(coordinator, episode):
    patient = episode.patient
    with at_day(10):
        response = signed_in(coordinator).post(
            f"/episodes/{episode.pk}/patient/", patient_form(patient, phone="call me")
        )
    assert response.status_code == 400
    assert '<a href="#patient-phone">Enter a mobile phone number in international format' in text(
        response
    )
    assert Patient.objects.get(pk=patient.pk).phone == patient.phone


def test_marking_a_plan_item_ended_clears_its_cc3_flag(coordinator, episode):
    with at_day(10):
        item = services.care_plan_item_add(
            episode_id=episode.pk, by=coordinator, item="opioid_short_term", started_on=ONSET
        )
    assert [f["rule"] for f in item.flags] == ["CC-3"]  # a course with no end date
    client = signed_in(coordinator)
    url = f"/episodes/{episode.pk}/care-plan/{item.pk}/end/"
    with at_day(12):
        before = words(client.get(f"/episodes/{episode.pk}/"))
        empty = client.post(url, {"ended_on": ""})
        ended = client.post(url, {"ended_on": "2026-10-12"})
        after = words(client.get(f"/episodes/{episode.pk}/"))
    assert "Opioid, short term (medication), from 2026-10-01 — ongoing" in before
    assert "Flag CC-3" in before
    assert empty.status_code == 400
    assert "Enter the date it ended" in text(empty)
    assert ended.status_code == 302
    item.refresh_from_db()
    assert item.ended_on == date(2026, 10, 12)
    assert item.flags == []
    assert "Opioid, short term (medication), from 2026-10-01 — ended 2026-10-12" in after
    assert "Flag CC-3" not in after
