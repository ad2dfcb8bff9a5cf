"""Every resource the facade serves, across the demo data's states, is valid FHIR R4B.

Each episode's ``$everything`` Bundle is validated whole and entry by entry with
fhir.resources' R4B models, and every entry is read again by its own id, which must answer
the same resource. A resource that fails validation fails the build.
"""

from __future__ import annotations

from collections import Counter

import pytest

from careflow.states import State
from interop.capability import served_types
from interop.selectors import LOCATORS
from tests.interop.helpers import FHIR_JSON, fhir_get, validate

pytestmark = pytest.mark.django_db


def test_every_resource_of_every_demo_episode_validates(demo, coordinator):
    seen: Counter[str] = Counter()
    states = set()
    for episode in demo.values():
        states.add(episode.state)
        response = fhir_get(coordinator, f"EpisodeOfCare/{episode.pk}/$everything")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith(FHIR_JSON)
        bundle = response.json()
        validate(bundle)
        for entry in bundle["entry"]:
            resource = entry["resource"]
            validate(resource)
            assert resource["meta"]["lastUpdated"]
            assert entry["fullUrl"].endswith(f"/fhir/{resource['resourceType']}/{resource['id']}")
            again = fhir_get(coordinator, f"{resource['resourceType']}/{resource['id']}")
            assert again.status_code == 200, (resource["resourceType"], again.content)
            assert again.json() == resource
            seen[resource["resourceType"]] += 1
    # The demo data reaches every state; each read type appears at least once.
    assert states == {s.value for s in State}
    assert set(seen) == set(LOCATORS), set(LOCATORS) - set(seen)
    assert sum(seen.values()) > 100
    print(f"validated {sum(seen.values())} resources: {dict(sorted(seen.items()))}")  # noqa: T201


def test_definitions_searches_and_errors_validate(demo, coordinator):
    patient_id = demo["Ana"].patient_id
    paths = [
        "metadata",
        "PlanDefinition/radiculopathy",
        "Questionnaire",
        "Questionnaire/checkin-2-weeks",
        "Questionnaire/checkin-6-weeks",
        "Questionnaire/checkin-3-months",
        "Patient?name=an",
        "Patient?birthdate=ge1975-01-01",
        "EpisodeOfCare?status=active",
        "EpisodeOfCare?status=finished",
        f"EpisodeOfCare?patient=Patient/{patient_id}",
        f"Flag?patient={patient_id}",
        "Flag",
        "Task?status=ready",
        "Task?period=le2100-01-01",
        f"Communication?patient={patient_id}",
        "Communication",
        "Nothing/1",
        "Patient?colour=blue",
    ]
    kinds = set()
    for path in paths:
        response = fhir_get(coordinator, path)
        body = response.json()
        validate(body)
        kinds.add(body["resourceType"])
        if body["resourceType"] == "Bundle":
            for entry in body.get("entry", []):
                validate(entry["resource"])
    assert kinds == {
        "CapabilityStatement",
        "PlanDefinition",
        "Questionnaire",
        "Bundle",
        "OperationOutcome",
    }


def test_capability_statement_lists_exactly_what_is_served(coordinator):
    statement = fhir_get(coordinator, "metadata").json()
    validate(statement)
    assert statement["fhirVersion"] == "4.3.0"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert sorted(resources) == served_types()
    for name, entry in resources.items():
        interactions = {i["code"] for i in entry["interaction"]}
        listed = fhir_get(coordinator, name)
        # A type with search-type answers a search (a Bundle); one without answers 405: the
        # type is served (by id), the interaction is not.
        if "search-type" in interactions:
            assert listed.status_code == 200, (name, listed.content)
            assert listed.json()["resourceType"] == "Bundle"
        else:
            assert listed.status_code == 405, name
        for param in entry.get("searchParam", []):
            # Every documented parameter is accepted (a malformed value is a 400, not 'unknown')
            answer = fhir_get(coordinator, name, **{param["name"]: "x"}).json()
            text = " ".join(i["diagnostics"] for i in answer.get("issue", []))
            assert "unsupported search parameter" not in text, (name, param)
