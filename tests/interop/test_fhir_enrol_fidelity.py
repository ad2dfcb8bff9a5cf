"""Enrolment that keeps what it is sent, and a retried Bundle that creates nothing.

Conditional create (the Patient entry's ``request.ifNoneExist``, matching the identifier),
the MRN, administrative gender, the Condition's code as sent and its notes.
"""

from __future__ import annotations

import copy
import logging
import threading

import pytest
from django.db import connection

from api.models import AccessRecord
from episodes import services
from episodes.models import Episode, Patient
from interop import codes
from tests.interop.helpers import counts, enrolment, fhir_get, post, validate

pytestmark = pytest.mark.django_db

MRN_SYSTEM = "urn:oid:2.16.840.1.113883.19.5"


def _bundle(*, mrn: str | None = "MRN-0042", if_none_exist: str | None = None, **patient) -> dict:
    body = enrolment()
    entry = body["entry"][0]
    if mrn is not None:
        entry["resource"]["identifier"] = [{"system": MRN_SYSTEM, "value": mrn}]
    if if_none_exist is not None:
        entry["request"]["ifNoneExist"] = if_none_exist
    entry["resource"].update(patient)
    return body


def _issues(response) -> list[tuple[str, str]]:
    body = response.json()
    validate(body)
    assert body["resourceType"] == "OperationOutcome"
    return [(i.get("expression", [""])[0], i["diagnostics"]) for i in body["issue"]]


def test_a_retried_bundle_returns_the_first_result_and_creates_nothing(coordinator):
    body = _bundle(if_none_exist=f"identifier={MRN_SYSTEM}|MRN-0042")
    first = post(coordinator, body)
    assert first.status_code == 200, first.content
    made = counts()
    again = post(coordinator, copy.deepcopy(body))
    assert again.status_code == 200, again.content
    validate(again.json())
    assert counts() == made
    assert [e["response"]["location"] for e in again.json()["entry"]] == [
        e["response"]["location"] for e in first.json()["entry"]
    ]
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["200 OK", "200 OK"]
    # The answer shows the patient: audited as a read of them.
    patient_id = int(first.json()["entry"][0]["resource"]["id"])
    record = AccessRecord.objects.filter(path="/fhir/").order_by("-id").first()
    assert (record.patient_id, record.action) == (patient_id, "read")
    # Matching the value alone (any system) finds the same patient.
    bare = post(coordinator, _bundle(if_none_exist="identifier=MRN-0042"))
    assert bare.json()["entry"][0]["resource"]["id"] == str(patient_id)
    assert counts() == made


def test_a_returning_patient_gets_a_new_episode_once_the_last_is_finished(coordinator, clinician):
    body = _bundle(if_none_exist=f"identifier={MRN_SYSTEM}|MRN-0042")
    first = post(coordinator, body).json()
    episode_id = int(first["entry"][1]["resource"]["id"])
    services.episode_transition(
        episode_id=episode_id, name="close", by=clinician, data={"reason": "transferred"}
    )
    second = post(coordinator, body).json()
    assert [e["response"]["status"] for e in second["entry"]] == ["200 OK", "201 Created"]
    assert second["entry"][0]["resource"]["id"] == first["entry"][0]["resource"]["id"]
    assert second["entry"][1]["resource"]["id"] != str(episode_id)
    assert Patient.objects.count() == 1


def test_another_teams_patient_with_the_same_mrn_is_never_matched(coordinator, other_coordinator):
    body = _bundle(if_none_exist=f"identifier={MRN_SYSTEM}|MRN-0042")
    theirs = post(other_coordinator, body).json()
    mine = post(coordinator, body)
    assert mine.status_code == 200
    assert [e["response"]["status"] for e in mine.json()["entry"]] == ["201 Created"] * 2
    assert mine.json()["entry"][0]["resource"]["id"] != theirs["entry"][0]["resource"]["id"]
    assert "Ruiz" not in mine.content.decode()
    assert Patient.objects.count() == 2


def test_without_if_none_exist_a_known_mrn_is_a_400(coordinator):
    assert post(coordinator, _bundle()).status_code == 200
    made = counts()
    again = post(coordinator, _bundle())
    assert again.status_code == 400
    assert _issues(again) == [
        ("Patient.identifier", "A patient of this care team has this identifier.")
    ]
    assert counts() == made


@pytest.mark.parametrize(
    ("if_none_exist", "expression", "words"),
    [
        ("name=Iris", "Bundle.entry.request.ifNoneExist", "unsupported search parameter: name"),
        ("identifier=OTHER-1", "Bundle.entry.request.ifNoneExist", "the Patient's own"),
        ("identifier=", "Bundle.entry.request.ifNoneExist", "identifier once"),
        ("&&", "Bundle.entry.request.ifNoneExist", "a search"),
    ],
)
def test_an_if_none_exist_careflow_cannot_match_is_a_400(
    coordinator, if_none_exist, expression, words
):
    response = post(coordinator, _bundle(if_none_exist=if_none_exist))
    assert response.status_code == 400
    ((where, text),) = _issues(response)
    assert where == expression
    assert words in text
    assert counts() == (0, 0, 0, 0)


def test_identical_bundles_at_once_make_one_patient(transactional_db, coordinator):
    body = _bundle(if_none_exist=f"identifier={MRN_SYSTEM}|MRN-0042")
    results = []
    start = threading.Barrier(2)

    def send():
        try:
            start.wait()
            results.append(post(coordinator, copy.deepcopy(body)).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200, 200]
    assert Patient.objects.count() == 1
    assert Episode.objects.count() == 1


def test_mrn_gender_code_and_notes_are_kept_and_read_back(coordinator, caplog):
    body = _bundle(gender="female")
    condition = body["entry"][1]["resource"]
    condition["code"] = {"coding": [{"system": codes.ICD10CM, "code": "M54.16"}]}
    condition["note"] = [{"text": "Worse on sitting; L4 dermatome."}, {"text": "Second note"}]
    with caplog.at_level(logging.DEBUG):
        response = post(coordinator, body)
    assert response.status_code == 200, response.content
    patient_id, episode_id = (e["resource"]["id"] for e in response.json()["entry"])
    patient = fhir_get(coordinator, f"Patient/{patient_id}").json()
    validate(patient)
    assert patient["gender"] == "female"
    assert [(i["system"], i["value"]) for i in patient["identifier"]] == [(MRN_SYSTEM, "MRN-0042")]
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    read = fhir_get(coordinator, f"Condition/{episode_id}").json()
    validate(read)
    assert [(c["system"], c["code"]) for c in read["code"]["coding"]] == [(codes.ICD10CM, "M54.16")]
    assert [n["text"] for n in read["note"]] == ["Worse on sitting; L4 dermatome.", "Second note"]
    everything = fhir_get(coordinator, f"EpisodeOfCare/{episode_id}/$everything").json()
    (condition_read,) = [
        e["resource"] for e in everything["entry"] if e["resource"]["resourceType"] == "Condition"
    ]
    assert condition_read["code"] == read["code"]
    # Patient data never in logs: not the MRN, not a note.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "MRN-0042" not in logged
    assert "dermatome" not in logged


@pytest.mark.parametrize(
    ("change", "expression", "words"),
    [
        ({"gender": "nonsense"}, "Patient.gender", "one of male, female, other, unknown"),
        (
            {"identifier": [{"system": MRN_SYSTEM, "value": "1"}, {"system": "x", "value": "2"}]},
            "Patient.identifier",
            "one identifier",
        ),
        ({"identifier": [{"value": "1"}]}, "Patient.identifier", "system and value"),
        (
            {"identifier": [{"system": MRN_SYSTEM, "value": "9" * 65}]},
            "Patient.identifier",
            "at most 64",
        ),
    ],
)
def test_invalid_patient_fields_are_refused(coordinator, change, expression, words):
    body = _bundle(mrn=None)
    body["entry"][0]["resource"].update(change)
    response = post(coordinator, body)
    assert response.status_code == 400, response.content
    issues = _issues(response)
    assert issues[0][0] == expression
    assert words in issues[0][1]
    assert "ErrorDetail" not in response.content.decode()
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("notes", [[{"text": ""}], [{"text": "x" * 10_001}], [{"text": "n"}] * 11])
def test_invalid_notes_are_refused(coordinator, notes):
    body = _bundle()
    body["entry"][1]["resource"]["note"] = notes
    response = post(coordinator, body)
    assert response.status_code == 400
    assert _issues(response)[0][0] == "Condition.note"
    assert counts() == (0, 0, 0, 0)
