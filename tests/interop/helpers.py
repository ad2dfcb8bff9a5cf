"""FHIR facade helpers: a read as a client makes it, a validator, and an enrolment Bundle."""

from __future__ import annotations

from fhir.resources.R4B import get_fhir_model_class

from episodes.models import Episode, Patient, RedFlag
from interop import codes
from notifications.models import Reminder
from tests.clients import client_for

FHIR_JSON = "application/fhir+json"


def validate(resource: dict) -> object:
    """The resource parsed by fhir.resources' R4B model of its type: any error fails the test."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def fhir_get(user, path: str, **params):
    return client_for(user).get(f"/fhir/{path}", params, HTTP_ACCEPT=FHIR_JSON)


PATIENT_URL = "urn:uuid:6f1c0c1e-5a4b-4f0e-9a55-0d1e2f3a4b5c"


def enrolment(**condition_extra) -> dict:
    patient = {
        "resourceType": "Patient",
        "name": [{"family": "Demo-Fhir", "given": ["Iris"]}],
        "birthDate": "1968-03-14",
        "telecom": [
            {"system": "email", "value": "iris@example.org", "rank": 1},
            {"system": "sms", "value": "+15551239999", "rank": 2},
        ],
        "communication": [
            {"language": {"coding": [{"system": codes.BCP47, "code": "es"}]}, "preferred": True}
        ],
        "extension": [{"url": codes.EXT_TIMEZONE, "valueCode": "America/Chicago"}],
    }
    condition = {
        "resourceType": "Condition",
        "code": {"coding": [{"system": codes.ICD10CM, "code": "M54.17"}]},
        "subject": {"reference": PATIENT_URL},
        "onsetDateTime": "2026-10-01",
        "evidence": [
            {"code": [{"coding": [{"system": codes.FACTS, "code": "radicular_pain"}]}]},
            {"code": [{"coding": [{"system": codes.FACTS, "code": "new_onset_pain"}]}]},
        ],
        **condition_extra,
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": PATIENT_URL,
                "resource": patient,
                "request": {"method": "POST", "url": "Patient"},
            },
            {"resource": condition, "request": {"method": "POST", "url": "Condition"}},
        ],
    }


def post(user, body, content_type=FHIR_JSON):
    client = client_for(user)
    return client.post(
        "/fhir/", body, format="json", CONTENT_TYPE=content_type, HTTP_ACCEPT=FHIR_JSON
    )


def counts():
    return (
        Patient.objects.count(),
        Episode.objects.count(),
        RedFlag.objects.count(),
        Reminder.objects.count(),
    )
