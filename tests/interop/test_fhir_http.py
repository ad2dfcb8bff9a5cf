"""The facade's HTTP behaviour: FHIR JSON, OperationOutcome errors, no 500s, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes import services
from tests.clients import client_for
from tests.factories import PatientFactory, new_episode
from tests.interop.helpers import FHIR_JSON, fhir_get, validate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("Nothing/1", 404),
        ("Patient/abc", 404),
        ("Patient/0", 404),
        (f"Patient/{2**63}", 404),
        ("Observation/1", 404),
        ("Observation/1-telepathy", 404),
        ("Task/1-nothing", 404),
        ("EpisodeOfCare/x/$everything", 404),
        ("Questionnaire/checkin-1-year", 404),
        ("deeper/still/and/deeper", 404),
        ("Patient?colour=blue", 400),
        ("Patient?birthdate=yesterday", 400),
        ("Patient?birthdate=ne2000-01-01", 400),
        ("Patient?name=a&name=b", 400),
        ("Patient?_count=-1", 400),
        ("Patient?_count=100000", 400),
        ("EpisodeOfCare?status=nonsense", 400),
        ("EpisodeOfCare?status=active,", 400),
        ("Patient?birthdate=1984-13", 400),
        ("Patient?_lastUpdated=2026-12-01T10:00", 400),
        ("Patient?_sort=name", 400),
        ("Patient?_include=Patient:organization", 400),
        ("Patient?name:exact=Ana", 400),
        ("Patient?_cursor=abc", 400),
        ("EpisodeOfCare?patient=Group/1", 400),
        (f"Flag?patient={2**63}", 400),
        ("Task?period=soon", 400),
    ],
)
def test_errors_are_operation_outcomes(coordinator, path, status):
    response = fhir_get(coordinator, path)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    validate(body)
    assert body["resourceType"] == "OperationOutcome"


def test_methods_and_media_types(coordinator, episode):
    client = client_for(coordinator)
    assert client.delete(f"/fhir/EpisodeOfCare/{episode.pk}").status_code == 405
    assert client.put("/fhir/metadata", {}, format="json").status_code == 405
    plain = client.get(f"/fhir/EpisodeOfCare/{episode.pk}", HTTP_ACCEPT="application/json")
    assert plain.status_code == 200
    assert plain["Content-Type"].startswith("application/json")
    assert client.get("/fhir/metadata", HTTP_ACCEPT="text/csv").status_code == 406
    wrong = client.post("/fhir/", "a,b", content_type="text/csv")
    assert wrong.status_code == 415
    validate(wrong.json())


def test_searches(coordinator, clinician, episode):
    older = PatientFactory(care_team=episode.care_team, given_name="Zoe", family_name="Quist")
    older.birth_date = older.birth_date.replace(year=1950)
    older.save()
    assert {
        e["resource"]["id"] for e in fhir_get(coordinator, "Patient", name="qui").json()["entry"]
    } == {str(older.pk)}
    before_1960 = fhir_get(coordinator, "Patient", birthdate="lt1960-01-01").json()
    assert [e["resource"]["id"] for e in before_1960["entry"]] == [str(older.pk)]
    assert before_1960["total"] == 1
    services.episode_transition(episode_id=episode.pk, name="resolve", by=clinician)
    finished = fhir_get(coordinator, "EpisodeOfCare", status="finished").json()
    assert [e["resource"]["id"] for e in finished["entry"]] == [str(episode.pk)]
    assert "entry" not in fhir_get(coordinator, "EpisodeOfCare", status="active").json()
    # A resolved episode has no open tasks.
    assert fhir_get(coordinator, "Task").json()["total"] == 0


def test_task_search_by_due_date(coordinator, episode):
    everything = fhir_get(coordinator, "Task", patient=episode.patient_id).json()
    dues = sorted(e["resource"]["restriction"]["period"]["end"] for e in everything["entry"])
    assert dues, "a new episode has next actions"
    first = dues[0]
    same_day = fhir_get(coordinator, "Task", period=first).json()
    assert {e["resource"]["restriction"]["period"]["end"] for e in same_day["entry"]} == {first}
    later = fhir_get(coordinator, "Task", period=f"gt{first}").json()
    assert all(
        e["resource"]["restriction"]["period"]["end"] > first for e in later.get("entry", [])
    )
    assert fhir_get(coordinator, "Task", status="completed").json()["total"] == 0


def _grow(patient, by, flags: int):
    episode = new_episode(patient, by, radicular_pain=True)
    for sign in ("fever", "osteoporosis", "history_of_cancer")[:flags]:
        services.red_flag_raise(episode_id=episode.pk, sign=sign, by=by)
    for n in range(flags):
        services.assessment_record(
            episode_id=episode.pk, by=by, values={"disabling_pain": bool(n % 2)}
        )
        services.care_plan_item_add(episode_id=episode.pk, by=by, item="nsaid")
    return episode


def _queries(client, path: str) -> int:
    # The first read of a row a factory wrote (no service, so no kept version) records its
    # Patient or EpisodeOfCare version (interop.history): once, whatever the data's size.
    assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_everything_and_searches_do_not_grow_with_the_data(coordinator, patient):
    client = client_for(coordinator)
    small = _grow(patient, coordinator, 1)
    small_everything = _queries(client, f"/fhir/EpisodeOfCare/{small.pk}/$everything")
    # The searches select only the columns their resources read: one left out would be a
    # query per row here.
    paths = (
        "Patient",
        "EpisodeOfCare",
        "Flag",
        "Task",
        "CarePlan",
        "Condition",
        "Observation",
        "Observation?code=disabling_pain",
        "EpisodeOfCare?_include=EpisodeOfCare:patient,EpisodeOfCare:condition",
        "Flag?_include=Flag:patient",
    )
    searches = {p: _queries(client, f"/fhir/{p}") for p in paths}
    big = _grow(PatientFactory(care_team=patient.care_team), coordinator, 3)
    for _ in range(5):
        _grow(PatientFactory(care_team=patient.care_team), coordinator, 2)
    assert _queries(client, f"/fhir/EpisodeOfCare/{big.pk}/$everything") == small_everything
    assert small_everything <= 22
    for path, count in searches.items():
        assert _queries(client, f"/fhir/{path}") == count, path


def test_post_search_keeps_names_out_of_the_url(coordinator, episode):
    """FHIR's POST <type>/_search with a form body answers what the GET would."""
    client = client_for(coordinator)
    family = episode.patient.family_name
    form = "application/x-www-form-urlencoded"
    by_get = client.get("/fhir/Patient", {"name": family}).json()
    by_post = client.post("/fhir/Patient/_search", f"name={family}", content_type=form).json()
    validate(by_post)
    assert [e["resource"] for e in by_post["entry"]] == [e["resource"] for e in by_get["entry"]]
    assert by_post["total"] == 1
    assert client.post("/fhir/Patient/_search", "colour=blue", content_type=form).status_code == 400
    json_body = client.post("/fhir/Patient/_search", {"name": family}, format="json")
    assert json_body.status_code == 415
