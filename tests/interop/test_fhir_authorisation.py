"""The cross-team authorisation matrix (tests/api/test_authorisation_matrix.py) on /fhir/.

Own team: 200. Other team: 404, existence never leaks. Superuser: everything. Anonymous:
401. Every read of one patient's resource leaves an access record naming the patient and
the episode, denied ones included, as the JSON API's reads do.
"""

from __future__ import annotations

import pytest

from api.models import AccessRecord
from episodes import services
from tests.api.helpers import ACTORS, EXPECTED, actor
from tests.clients import client_for
from tests.interop.helpers import FHIR_JSON, validate

pytestmark = pytest.mark.django_db


def _path(kind: str, ident) -> str:
    if kind == "EpisodeOfCare/$everything":
        return f"/fhir/EpisodeOfCare/{ident}/$everything"
    return f"/fhir/{kind}/{ident}"


READ_KINDS = (
    "Patient", "EpisodeOfCare", "Condition", "CarePlan", "EpisodeOfCare/$everything", "Flag",
    "Observation", "DiagnosticReport", "Task", "CommunicationRequest", "Communication",
    "QuestionnaireResponse", "Provenance",
)  # fmt: skip


@pytest.mark.parametrize("name", ACTORS)
def test_reads(request, full_episode, episode, name):
    user = actor(request, name)
    client = client_for(user)
    for kind in READ_KINDS:
        path = _path(kind, full_episode[kind])
        response = client.get(path, HTTP_ACCEPT=FHIR_JSON)
        assert response.status_code == EXPECTED[name], (kind, response.content)
        body = response.json()
        validate(body)
        if response.status_code != 200:
            assert body["resourceType"] == "OperationOutcome"
            assert str(episode.patient.family_name) not in response.content.decode()
        record = AccessRecord.objects.filter(path=path).order_by("-id").first()
        if user is None:
            assert record is None, kind
            continue
        assert record is not None, kind
        assert (record.user_id, record.action, record.status_code) == (
            user.pk,
            "read",
            EXPECTED[name],
        ), kind
        assert record.patient_id == episode.patient_id, kind
        if kind != "Patient":
            assert record.episode_id == episode.pk, kind


def _ids(user, path: str, **params) -> set[str]:
    body = client_for(user).get(path, params, HTTP_ACCEPT=FHIR_JSON).json()
    validate(body)
    return {e["resource"]["id"] for e in body.get("entry", [])}


@pytest.mark.parametrize("name", ACTORS)
def test_searches_show_only_own_teams(request, full_episode, episode, other_episode, name):
    user = actor(request, name)
    if user is None:
        for path in ("Patient", "EpisodeOfCare", "Flag", "Task", "Questionnaire", "Communication"):
            assert client_for(None).get(f"/fhir/{path}").status_code == 401
        return
    services.red_flag_raise(episode_id=other_episode.pk, sign="fever", by=None)
    mine, theirs = str(episode.pk), str(other_episode.pk)
    expected = {
        "coordinator": {mine},
        "clinician": {mine},
        "other_coordinator": {theirs},
        "other_clinician": {theirs},
        "superuser": {mine, theirs},
    }[name]
    assert _ids(user, "/fhir/EpisodeOfCare") == expected
    patients = {str(episode.patient_id): mine, str(other_episode.patient_id): theirs}
    assert {patients[p] for p in _ids(user, "/fhir/Patient")} == expected
    flags = client_for(user).get("/fhir/Flag").json()
    episodes_of_flags = {
        e["resource"]["extension"][0]["valueReference"]["reference"].split("/")[1]
        for e in flags["entry"]
    }
    assert episodes_of_flags == expected
    tasks = client_for(user).get("/fhir/Task").json()
    assert {e["resource"]["focus"]["reference"].split("/")[1] for e in tasks["entry"]} == expected
    # Naming another team's patient finds nothing rather than saying it exists.
    other_patient = other_episode.patient_id if mine in expected else episode.patient_id
    if expected != {mine, theirs}:
        assert _ids(user, "/fhir/EpisodeOfCare", patient=other_patient) == set()
        assert _ids(user, "/fhir/Flag", patient=other_patient) == set()


@pytest.mark.parametrize("name", ACTORS)
def test_definitions_need_a_login_but_no_team(request, name):
    user = actor(request, name)
    expected = 401 if user is None else 200
    client = client_for(user)
    assert client.get("/fhir/PlanDefinition/radiculopathy").status_code == expected
    assert client.get("/fhir/Questionnaire/checkin-6-weeks").status_code == expected
    # The CapabilityStatement is public, as FHIR clients expect.
    assert client.get("/fhir/metadata").status_code == 200
