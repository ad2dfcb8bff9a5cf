"""Enrolment by a FHIR transaction Bundle, and a round trip through /api/ and /fhir/.

The same services as POST /api/patients/ and /api/episodes/; a Bundle that fails is a 400
OperationOutcome and changes nothing.
"""

from __future__ import annotations

import copy

import pytest

from interop import codes
from tests.clients import client_for
from tests.clock import at_day
from tests.interop.helpers import FHIR_JSON, counts, enrolment, fhir_get, post, validate

pytestmark = pytest.mark.django_db


def test_round_trip_enrol_then_read_through_api_and_fhir(coordinator):
    with at_day(10):
        response = post(coordinator, enrolment())
    assert response.status_code == 200, response.content
    body = response.json()
    validate(body)
    assert body["type"] == "transaction-response"
    locations = [e["response"]["location"] for e in body["entry"]]
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created"] * 2
    patient_id = int(locations[0].removeprefix("Patient/"))
    episode_id = int(locations[1].removeprefix("Condition/"))

    api = client_for(coordinator)
    api_patient = api.get(f"/api/patients/{patient_id}/").json()
    api_episode = api.get(f"/api/episodes/{episode_id}/").json()
    fhir_patient = fhir_get(coordinator, f"Patient/{patient_id}").json()
    fhir_episode = fhir_get(coordinator, f"EpisodeOfCare/{episode_id}").json()
    fhir_condition = fhir_get(coordinator, f"Condition/{episode_id}").json()
    for resource in (fhir_patient, fhir_episode, fhir_condition):
        validate(resource)

    # The patient, field by field.
    assert fhir_patient["name"] == [
        {"family": api_patient["family_name"], "given": [api_patient["given_name"]]}
    ]
    assert api_patient["given_name"] == "Iris"
    assert fhir_patient["birthDate"] == api_patient["birth_date"] == "1968-03-14"
    telecom = {t["system"]: t["value"] for t in fhir_patient["telecom"]}
    assert telecom == {"email": api_patient["email"], "sms": api_patient["phone"]}
    assert api_patient["sms_consent"] is True
    assert api_patient["preferred_channel"] == "email"
    assert (
        fhir_patient["communication"][0]["language"]["coding"][0]["code"]
        == api_patient["language"]
        == "es"
    )
    assert {"url": codes.EXT_TIMEZONE, "valueCode": api_patient["timezone"]} in fhir_patient[
        "extension"
    ]
    assert api_patient["timezone"] == "America/Chicago"
    assert fhir_patient["managingOrganization"]["identifier"]["value"] == str(
        api_patient["care_team"]
    )

    # The episode and its condition.
    assert api_episode["patient"] == patient_id
    assert fhir_episode["patient"] == {"reference": f"Patient/{patient_id}"}
    assert fhir_episode["status"] == "active"
    assert (
        fhir_episode["extension"][0]["valueCoding"]["code"]
        == api_episode["state"]
        == "urgent_escalation"
    )
    assert fhir_condition["onsetDateTime"] == api_episode["symptom_onset"] == "2026-10-01"
    assert fhir_episode["period"]["start"] == api_episode["enrolled_on"]
    assert api_episode["facts"]["radicular_pain"] is True
    assert api_episode["facts"]["new_onset_pain"] is True
    assert fhir_condition["code"]["coding"][0]["code"] == "M54.17"

    # Same services, same derived red flags: 58 at onset with new-onset pain raises RF-3.
    signs = {f["sign"] for f in api_episode["red_flags"]}
    assert signs == {"age_over_50_new_onset"}
    flags = fhir_get(coordinator, "Flag", patient=patient_id).json()
    assert [e["resource"]["code"]["coding"][0]["code"] for e in flags["entry"]] == [
        "age_over_50_new_onset"
    ]
    assert (
        api_episode["state"] == "conservative_care" or api_episode["state"] == "urgent_escalation"
    )
    everything = fhir_get(coordinator, f"EpisodeOfCare/{episode_id}/$everything").json()
    validate(everything)
    kinds = {e["resource"]["resourceType"] for e in everything["entry"]}
    assert {
        "Patient",
        "EpisodeOfCare",
        "Condition",
        "Flag",
        "Observation",
        "CommunicationRequest",
    } <= kinds


def _outcome(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    validate(body)
    assert body["resourceType"] == "OperationOutcome"
    return [(i.get("expression", [""])[0], i["diagnostics"]) for i in body["issue"]]


def _broken(mutate):
    body = enrolment()
    mutate(body)
    return body


def _patient(body):
    return body["entry"][0]["resource"]


def _condition(body):
    return body["entry"][1]["resource"]


BROKEN = {
    "not a bundle": lambda b: b.update(resourceType="Patient"),
    "batch, not transaction": lambda b: b.update(type="batch"),
    "malformed birth date": lambda b: _patient(b).update(birthDate="14/03/1968"),
    "unknown element": lambda b: _patient(b).update(favouriteColour="blue"),
    "no birth date": lambda b: _patient(b).pop("birthDate"),
    "no family name": lambda b: _patient(b)["name"][0].pop("family"),
    "future onset": lambda b: _condition(b).update(onsetDateTime="2100-01-01"),
    "no onset": lambda b: _condition(b).pop("onsetDateTime"),
    "another condition": lambda b: _condition(b).update(
        code={"coding": [{"system": codes.ICD10CM, "code": "J45.909"}]}
    ),
    "subject elsewhere": lambda b: _condition(b).update(subject={"reference": "Patient/1"}),
    "unknown fact": lambda b: _condition(b)["evidence"].append(
        {"code": [{"coding": [{"system": codes.FACTS, "code": "telepathy"}]}]}
    ),
    "care start before onset": lambda b: _condition(b).update(
        extension=[{"url": codes.EXT_CARE_START, "valueDate": "2026-09-01"}]
    ),
    "sms preferred without consent": lambda b: (
        _patient(b).update(
            telecom=[
                {"system": "phone", "value": "+15551239999", "rank": 1},
            ]
        )
        or _patient(b)["telecom"][0].update(
            system="sms", extension=[{"url": codes.EXT_SMS_CONSENT, "valueBoolean": False}]
        )
    ),
    "two patients": lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])),
    "a PUT": lambda b: b["entry"][0]["request"].update(method="PUT"),
    "someone else's team": lambda b: _patient(b).update(
        managingOrganization={"identifier": {"system": codes.CARE_TEAMS, "value": "999999"}}
    ),
}


# Where each broken Bundle's first issue points (a FHIRPath expression).
WHERE = {
    "a PUT": "Bundle.entry",
    "another condition": "Condition.code",
    "batch, not transaction": "Bundle.type",
    "care start before onset": "Condition.extension",
    "future onset": "Condition.onsetDateTime",
    "malformed birth date": "Bundle.entry[0].resource.birthDate",
    "no birth date": "Patient.birthDate",
    "no family name": "Patient.name.family",
    "no onset": "Condition.onsetDateTime",
    "not a bundle": "Bundle",
    "sms preferred without consent": "Patient.telecom.rank",
    "someone else's team": "Patient.managingOrganization",
    "subject elsewhere": "Condition.subject",
    "two patients": "Bundle.entry",
    "unknown element": "Bundle.entry[0].resource.favouriteColour",
    "unknown fact": "Condition.evidence",
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_bundle_that_fails_validation_is_a_400_and_changes_nothing(coordinator, case):
    before = counts()
    with at_day(10):
        issues = _outcome(post(coordinator, _broken(BROKEN[case])))
    assert issues[0][0] == WHERE[case], issues
    assert counts() == before


def test_a_service_refusal_after_the_patient_was_written_rolls_back_both(coordinator):
    """Conservative care before onset passes the serializers and fails in episode_create."""
    before = counts()
    body = _broken(BROKEN["care start before onset"])
    with at_day(10):
        issues = _outcome(post(coordinator, body))
    assert (
        "Condition.extension",
        "Date conservative care began: Conservative care cannot start before symptom onset.",
    ) in issues
    assert counts() == before


@pytest.mark.parametrize("payload", [b"", b"{", b"[]", b"null", b'"x"', b"[" * 50000])
def test_garbage_is_an_operation_outcome_not_a_500(coordinator, payload):
    client = client_for(coordinator)
    response = client.generic(
        "POST", "/fhir/", payload, content_type=FHIR_JSON, HTTP_ACCEPT=FHIR_JSON
    )
    _outcome(response)


def test_anonymous_enrolment_is_a_401(db):
    before = counts()
    _outcome(post(None, enrolment()), status=401)
    assert counts() == before


def test_either_code_enrols_and_reads_back_as_sent(coordinator):
    body = enrolment()
    _condition(body)["code"] = {"coding": [{"system": codes.SNOMED, "code": "128196005"}]}
    with at_day(10):
        response = post(coordinator, body)
    assert response.status_code == 200, response.content
    condition = response.json()["entry"][1]["resource"]
    # The code as sent: a SNOMED CT enrolment reads back SNOMED CT, not an ICD-10-CM code
    # it was never given.
    assert [(c["system"], c["code"]) for c in condition["code"]["coding"]] == [
        ("http://snomed.info/sct", "128196005"),
    ]
