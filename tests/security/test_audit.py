"""An audit record of who read or changed which patient's record, visible to superusers."""

from __future__ import annotations

import pytest

from api.models import AccessRecord
from tests.clients import client_for
from tests.clock import at_day
from tests.factories import new_episode


@pytest.fixture
def episode(patient, coordinator):
    return new_episode(patient, coordinator, radicular_pain=True)


def records():
    return list(
        AccessRecord.objects.order_by("id").values_list(
            "user__username", "action", "status_code", "patient_id", "episode_id"
        )
    )


@pytest.mark.parametrize("suffix", ["", "timeline/", "reminders/", "care-plan/"])
def test_reads_of_an_episode_are_recorded(coordinator, episode, suffix):
    with at_day(3):
        response = client_for(coordinator).get(f"/api/episodes/{episode.pk}/{suffix}")
    assert response.status_code == 200
    assert records() == [("coord-a", "read", 200, episode.patient_id, episode.pk)]


def test_reads_and_changes_of_a_patient_are_recorded(coordinator, patient):
    client = client_for(coordinator)
    client.get(f"/api/patients/{patient.pk}/")
    client.patch(f"/api/patients/{patient.pk}/", {"language": "es"}, format="json")
    assert records() == [
        ("coord-a", "read", 200, patient.pk, None),
        ("coord-a", "write", 200, patient.pk, None),
    ]


def test_a_transition_is_recorded_as_a_write(coordinator, episode):
    with at_day(3):
        client_for(coordinator).post(
            f"/api/episodes/{episode.pk}/transitions/resolve/", {}, format="json"
        )
    assert records() == [("coord-a", "write", 200, episode.patient_id, episode.pk)]


def test_a_denied_look_at_another_teams_episode_is_recorded(other_coordinator, episode):
    response = client_for(other_coordinator).get(f"/api/episodes/{episode.pk}/")
    assert response.status_code == 404
    assert records() == [("coord-b", "read", 404, episode.patient_id, episode.pk)]


def test_empty_pages_and_anonymous_requests_record_nothing(coordinator, episode):
    client = client_for(coordinator)
    client.get("/api/queues/urgent/")  # the episode is not urgent: nobody shown
    client_for(None).get(f"/api/episodes/{episode.pk}/")
    assert records() == []


def test_admin_views_of_a_patient_are_recorded(client, superuser, episode):
    client.force_login(superuser)
    client.get(f"/admin/episodes/episode/{episode.pk}/change/")
    client.get(f"/admin/episodes/patient/{episode.patient_id}/change/")
    assert records() == [
        ("root-admin", "read", 200, episode.patient_id, episode.pk),
        ("root-admin", "read", 200, episode.patient_id, None),
    ]


def test_only_superusers_see_the_audit_records(client, superuser, coordinator, episode):
    client_for(coordinator).get(f"/api/episodes/{episode.pk}/")
    coordinator.is_staff = True
    coordinator.save()
    client.force_login(coordinator)
    # The admin as a whole is for superusers: a staff coordinator is sent to its login.
    assert client.get("/admin/api/accessrecord/").status_code == 302
    client.force_login(superuser)
    page = client.get("/admin/api/accessrecord/")
    assert page.status_code == 200
    assert f"/api/episodes/{episode.pk}/" in page.content.decode()


def test_list_and_queue_pages_record_every_patient_they_show(coordinator, team, other_team):
    from tests.factories import PatientFactory  # noqa: PLC0415

    mine = [PatientFactory(care_team=team) for _ in range(3)]
    theirs = PatientFactory(care_team=other_team)
    for patient in mine:
        new_episode(patient, coordinator)
    client = client_for(coordinator)
    for path in ("/api/patients/?page_size=100", "/api/episodes/", "/api/queues/unassigned/"):
        assert client.get(path).status_code == 200
        shown = set(
            AccessRecord.objects.filter(user=coordinator, path=path).values_list(
                "patient_id", flat=True
            )
        )
        assert shown == {p.pk for p in mine}, path
    assert not AccessRecord.objects.filter(patient_id=theirs.pk).exists()
    record = AccessRecord.objects.filter(path="/api/patients/?page_size=100").first()
    assert (record.action, record.username, record.status_code) == ("read", "coord-a", 200)


def test_workspace_and_fhir_lists_record_every_patient_they_show(coordinator, team, other_team):
    """Every patient shown is recorded beside the API too: the board, a queue, FHIR searches."""
    from django.test import Client  # noqa: PLC0415

    from tests.factories import PatientFactory  # noqa: PLC0415

    mine = [PatientFactory(care_team=team) for _ in range(2)]
    theirs = PatientFactory(care_team=other_team)
    for patient in mine:
        new_episode(patient, coordinator)
    browser = Client()
    browser.force_login(coordinator)
    api = client_for(coordinator)
    reads = (
        (browser, "/queues/unassigned/"),
        (api, "/fhir/Patient"),
        (api, "/fhir/EpisodeOfCare"),
    )
    for client, path in reads:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
        shown = set(
            AccessRecord.objects.filter(user=coordinator, path=path).values_list(
                "patient_id", flat=True
            )
        )
        assert shown == {p.pk for p in mine}, path
    assert not AccessRecord.objects.filter(patient_id=theirs.pk).exists()


def test_a_queue_page_records_its_patients_in_order_in_one_statement(coordinator, team):
    """One INSERT for a queue page (UNNEST on PostgreSQL).

    One row per patient shown, in the page's order, all with one user, path, status, instant.
    """
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    from tests.factories import PatientFactory  # noqa: PLC0415

    for _ in range(4):
        new_episode(PatientFactory(care_team=team), coordinator)
    client = client_for(coordinator)
    path = "/api/queues/unassigned/?page_size=3"
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(path).json()["results"]
    inserts = [q["sql"] for q in ctx.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == 1
    rows = list(
        AccessRecord.objects.filter(path=path)
        .order_by("id")
        .values("patient_id", "user_id", "username", "action", "method", "status_code", "at")
    )
    assert [r["patient_id"] for r in rows] == [e["patient"] for e in page]
    assert {
        (r["user_id"], r["username"], r["action"], r["method"], r["status_code"], r["at"])
        for r in rows
    } == {(coordinator.pk, "coord-a", "read", "GET", 200, rows[0]["at"])}
    assert AccessRecord.objects.filter(path=path, episode_id__isnull=False).count() == 0


def test_every_door_of_enrolment_is_recorded_as_a_write(coordinator, team):
    """The API's patient and episode, FHIR's transaction, the workspace's form: who, what."""
    from django.test import Client  # noqa: PLC0415 - the workspace's browser client

    from episodes.models import Episode, Patient  # noqa: PLC0415
    from tests.interop.helpers import enrolment, post  # noqa: PLC0415

    api = client_for(coordinator)
    with at_day(3):
        patient = api.post(
            "/api/patients/",
            {"given_name": "Ada", "family_name": "Door", "birth_date": "1970-01-01",
             "email": "ada@example.org"},
            format="json",
        ).json()  # fmt: skip
        episode = api.post(
            "/api/episodes/",
            {"patient": patient["id"], "symptom_onset": "2026-10-01"},
            format="json",
        ).json()
        fhir = post(coordinator, enrolment())
        browser = Client()
        browser.force_login(coordinator)
        form = browser.post(
            "/enrol/",
            {"given_name": "Iris", "family_name": "Formdoor", "birth_date-day": "2",
             "birth_date-month": "3", "birth_date-year": "1980", "email": "i@example.org",
             "symptom_onset-day": "1", "symptom_onset-month": "10",
             "symptom_onset-year": "2026"},
        )  # fmt: skip
    assert fhir.status_code == 200
    assert form.status_code == 302
    fhir_patient = Patient.objects.get(family_name="Demo-Fhir")
    form_episode = Episode.objects.get(patient__family_name="Formdoor")
    writes = set(
        AccessRecord.objects.filter(action="write", user=coordinator, method="POST").values_list(
            "path", "patient_id", "episode_id"
        )
    )
    fhir_episode = Episode.objects.get(patient=fhir_patient)
    assert writes >= {
        ("/api/patients/", patient["id"], None),
        ("/api/episodes/", patient["id"], episode["id"]),
        ("/fhir/", fhir_patient.pk, fhir_episode.pk),
        ("/enrol/", form_episode.patient_id, form_episode.pk),
    }
    # The other way: a refused enrolment created no one, and records no one.
    with at_day(3):
        assert api.post("/api/patients/", {"given_name": ""}, format="json").status_code == 400
    assert not AccessRecord.objects.filter(path="/api/patients/", status_code=400).exists()
