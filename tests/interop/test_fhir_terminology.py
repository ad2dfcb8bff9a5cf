"""Careflow's code systems served as CodeSystem resources; every coding served is in one.

And what the CapabilityStatement declares is what is served: CodeSystem's read and search,
PlanDefinition's $apply, a 405 for every interaction it does not declare.
"""

from __future__ import annotations

import re

import pytest

from careflow.redflags import DERIVED_SIGNS, Sign
from interop import codes
from interop.terminology import display, systems
from tests.clients import client_for
from tests.interop.helpers import FHIR_JSON, fhir_get, validate

pytestmark = pytest.mark.django_db

LOCAL: str = f"{codes.BASE}/CodeSystem/"


def _walk(value):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_every_local_code_system_named_in_codes_py_is_served():
    named = {
        value
        for name, value in vars(codes).items()
        if name.isupper() and isinstance(value, str) and value.startswith(LOCAL)
    }
    assert named == set(systems())


def test_each_code_system_is_read_by_id_and_found_by_url(coordinator):
    for url in systems():
        cs_id = url.rsplit("/", 1)[-1]
        read = fhir_get(coordinator, f"CodeSystem/{cs_id}")
        assert read.status_code == 200, url
        resource = read.json()
        validate(resource)
        assert (resource["url"], resource["content"], resource["status"]) == (
            url,
            "complete",
            "active",
        )
        assert resource["count"] == len(resource["concept"]) > 0
        assert all(c["display"] and c["code"] for c in resource["concept"])
        found = fhir_get(coordinator, "CodeSystem", url=url).json()
        validate(found)
        assert found["total"] == 1
        assert found["entry"][0]["resource"] == resource
    rules = fhir_get(coordinator, "CodeSystem/rules").json()
    concepts = {c["code"]: c["display"] for c in rules["concept"]}
    assert concepts["IM-2"] == "no imaging before 42 days unless a red flag"
    everything = fhir_get(coordinator, "CodeSystem").json()
    assert everything["total"] == len(systems())
    several = fhir_get(coordinator, "CodeSystem", url=f"{codes.RULES},{codes.FACTS}").json()
    assert {e["resource"]["id"] for e in several["entry"]} == {"rules", "facts"}
    assert fhir_get(coordinator, "CodeSystem", _id="states").json()["total"] == 1
    assert fhir_get(coordinator, "CodeSystem", url="http://loinc.org").json()["total"] == 0
    assert fhir_get(coordinator, "CodeSystem/nothing").status_code == 404
    refused = fhir_get(coordinator, "CodeSystem", version="1")
    assert refused.status_code == 400
    assert "version" in refused.json()["issue"][0]["diagnostics"]


def _codings(resource):
    for node in _walk(resource):
        if "system" in node and "code" in node and isinstance(node["code"], str):
            yield node


def _check_codings(resource, tables):
    for coding in _codings(resource):
        system = coding["system"]
        if not system.startswith(LOCAL):
            continue
        assert system in tables, system
        assert coding["code"] in tables[system], (system, coding["code"])
        if "display" in coding:
            assert coding["display"] == tables[system][coding["code"]], coding


def test_every_coding_served_is_in_its_code_system_with_its_display(coordinator, clinician, demo):
    """Every resource of every demo episode, the definitions and $apply, walked."""
    tables = {}
    for url in systems():
        served = fhir_get(coordinator, "CodeSystem", url=url).json()["entry"][0]["resource"]
        tables[url] = {c["code"]: c["display"] for c in served["concept"]}
    seen = set()
    for episode in demo.values():
        everything = fhir_get(
            coordinator, f"EpisodeOfCare/{episode.pk}/$everything", _count="1000"
        ).json()
        for entry in everything.get("entry", []):
            _check_codings(entry["resource"], tables)
            seen |= {c["system"] for c in _codings(entry["resource"])}
        applied = fhir_get(
            coordinator,
            "PlanDefinition/radiculopathy/$apply",
            subject=f"Patient/{episode.patient_id}",
        )
        if applied.status_code == 200:
            _check_codings(applied.json(), tables)
    _check_codings(fhir_get(coordinator, "PlanDefinition/radiculopathy").json(), tables)
    for entry in fhir_get(coordinator, "Questionnaire").json()["entry"]:
        _check_codings(entry["resource"], tables)
    # The demo reaches most systems; the walk is not vacuous.
    assert len(seen & set(systems())) >= 8, seen


def test_display_is_the_code_in_words_for_a_code_no_system_lists():
    assert display(codes.FACTS, "radicular_pain") == "Radicular (leg) pain"
    assert display("http://example.org", "a_b") == "a b"


# -- the CapabilityStatement against what is served -------------------------------------------

# A read each type answers (the ids careflow's definitions have).
DEFINITION_READS = {
    "PlanDefinition": "radiculopathy",
    "Questionnaire": "checkin-2-weeks",
    "CodeSystem": "rules",
}


def test_the_capability_statement_declares_codesystem_and_apply_and_both_are_served(
    coordinator, episode
):
    client = client_for(coordinator)
    statement = client.get("/fhir/metadata").json()
    validate(statement)
    declared = {r["type"]: r for r in statement["rest"][0]["resource"]}
    code_system = declared["CodeSystem"]
    assert {i["code"] for i in code_system["interaction"]} == {"read", "search-type"}
    assert {p["name"] for p in code_system["searchParam"]} == {"_id", "url"}
    for param in code_system["searchParam"]:
        value = codes.RULES if param["name"] == "url" else "rules"
        answer = client.get("/fhir/CodeSystem", {param["name"]: value})
        assert answer.status_code == 200
        assert answer.json()["total"] == 1
    for resource_type, resource_id in DEFINITION_READS.items():
        assert {"code": "read"} in declared[resource_type]["interaction"]
        assert client.get(f"/fhir/{resource_type}/{resource_id}").status_code == 200
    # Every operation declared answers, and with what its definition says it returns.
    operations = {(t, o["name"]): o for t, r in declared.items() for o in r.get("operation", [])}
    assert set(operations) >= {("EpisodeOfCare", "everything"), ("PlanDefinition", "apply")}
    assert operations[("PlanDefinition", "apply")]["definition"] == (
        "http://hl7.org/fhir/OperationDefinition/PlanDefinition-apply"
    )
    applied = client.get(
        "/fhir/PlanDefinition/radiculopathy/$apply", {"subject": f"Patient/{episode.patient_id}"}
    )
    assert applied.status_code == 200
    assert applied.json()["resourceType"] == "CarePlan"
    everything = client.get(f"/fhir/EpisodeOfCare/{episode.pk}/$everything")
    assert everything.json()["type"] == "searchset"
    # A type that does not declare create answers POST <type> with a 405, and one that
    # declares no search answers GET <type> with a 405 too.
    for resource_type, resource in declared.items():
        codes_declared = {i["code"] for i in resource["interaction"]}
        if "create" not in codes_declared:
            created = client.post(
                f"/fhir/{resource_type}", {"resourceType": resource_type}, format="json"
            )
            assert created.status_code == 405, (resource_type, created.content)
            validate(created.json())
        if "search-type" not in codes_declared:
            assert client.get(f"/fhir/{resource_type}").status_code == 405, resource_type


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/fhir/Observation"),
        ("post", "/fhir/Flag"),
        ("post", "/fhir/DiagnosticReport"),
        ("post", "/fhir/CodeSystem"),
        ("put", "/fhir/CodeSystem/rules"),
        ("delete", "/fhir/PlanDefinition/radiculopathy"),
        ("put", "/fhir/PlanDefinition/radiculopathy/$apply"),
        ("post", "/fhir/metadata"),
        ("get", "/fhir/Provenance"),
        ("patch", "/fhir/"),
        ("post", "/fhir/Patient/1"),
    ],
)
def test_interactions_not_served_are_405_whatever_the_body(coordinator, method, path):
    """405 for the interaction, before the body is read: never 415 for its media type."""
    client = client_for(coordinator)
    extra = {} if method == "get" else {"data": "a,b", "content_type": "text/csv"}
    response = getattr(client, method)(path, HTTP_ACCEPT=FHIR_JSON, **extra)
    assert response.status_code == 405, response.content
    body = response.json()
    validate(body)
    assert body["issue"][0]["code"] == "not-supported"
    assert "not" in body["issue"][0]["diagnostics"]


# -- every refusal in words, with FHIRPath expressions ------------------------------------------

FHIRPATH = re.compile(
    r"[A-Z][A-Za-z]+(\.[a-z_][A-Za-z0-9_]*(\[\d+\])?)*(\.where\(name = '[a-z]+'\))?"
)
REPR = re.compile(r"ErrorDetail|\[ErrorDetail|\{'|\['|\bcode='")

HOSTILE_GETS = [
    "Patient?colour=blue",
    "Patient?birthdate=yesterday",
    "Patient?_count=-1",
    "EpisodeOfCare?status=bogus",
    "Task?period=soon",
    "Patient?_cursor=abc",
    "Patient/abc",
    "Nothing/1",
    "CodeSystem?url=a&url=b",
    "CodeSystem/%00",
    "PlanDefinition/radiculopathy/$apply",
    "PlanDefinition/radiculopathy/$apply?subject=Group/1",
    "PlanDefinition/radiculopathy/$apply?subject=Patient/1&subject=Patient/2",
    "PlanDefinition/radiculopathy/$apply?subject=Patient/1&x=1",
    "Patient?_format=xml",
]


def _outcome_in_words(response) -> None:
    assert response.status_code >= 400, response.content
    body = response.json()
    validate(body)
    assert body["resourceType"] == "OperationOutcome"
    raw = response.content.decode()
    assert not REPR.search(raw), raw
    for issue in body["issue"]:
        assert issue["diagnostics"].strip(), issue
        for expression in issue.get("expression", []):
            assert FHIRPATH.fullmatch(expression), expression


@pytest.mark.parametrize("path", HOSTILE_GETS)
def test_refusals_of_reads_are_sentences_with_fhirpath(coordinator, path):
    _outcome_in_words(client_for(coordinator).get(f"/fhir/{path}", HTTP_ACCEPT=FHIR_JSON))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b["entry"][0]["resource"].update(birthDate="14/03/1968"),
        lambda b: b["entry"][0]["resource"].update(favouriteColour="blue"),
        lambda b: b["entry"][0]["resource"].pop("birthDate"),
        lambda b: b["entry"][0]["resource"]["name"][0].pop("family"),
        lambda b: b["entry"][0]["resource"].update(gender="nonsense"),
        lambda b: b["entry"][0]["resource"].update(birthDate="2090-01-01"),
        lambda b: b["entry"][1]["resource"].update(onsetDateTime="2100-01-01"),
        lambda b: b["entry"][1]["resource"].update(code={"coding": [{"code": 1}]}),
        lambda b: b["entry"][0]["resource"].update(telecom=[{"system": "email", "value": "no"}]),
        lambda b: b.update(entry="nope"),
        lambda b: b.update(type="batch"),
    ],
)
def test_refusals_of_enrolments_are_sentences_with_fhirpath(coordinator, mutate):
    from tests.clock import at_day  # noqa: PLC0415
    from tests.interop.helpers import enrolment, post  # noqa: PLC0415

    body = enrolment()
    mutate(body)
    with at_day(10):
        response = post(coordinator, body)
    _outcome_in_words(response)
    assert response.status_code == 400
    for issue in response.json()["issue"]:
        # Words for a person: never careflow's column names (birth_date, symptom_onset).
        assert not re.search(r"\b[a-z]+_[a-z_]+:", issue["diagnostics"]), issue


def test_other_refusals_are_sentences(coordinator):
    client = client_for(coordinator)
    _outcome_in_words(client.post("/fhir/", "a,b", content_type="text/csv"))  # 415
    _outcome_in_words(client_for(None).get("/fhir/Patient"))  # 401
    _outcome_in_words(client.post("/fhir/Observation", {}, format="json"))  # 405
    _outcome_in_words(
        client.post(
            "/fhir/PlanDefinition/radiculopathy/$apply",
            {"resourceType": "Parameters", "parameter": [{"name": "subject"}]},
            format="json",
        )
    )


# The SNOMED CT concept served beside each sign (interop/codes.py cites each source); a
# sign missing here is served with careflow's code alone.
SIGN_SNOMED_SERVED = {
    "urinary_retention": "267064002",
    "saddle_anesthesia": "449813001",
    "history_of_cancer": "266987004",
    "unexplained_weight_loss": "422868009",
    "fever": "386661006",
    "iv_drug_use": "228388006",
    "immunosuppression": "38013005",
    "osteoporosis": "64859006",
}


def test_each_red_flag_carries_snomed_ct_beside_careflows_code_only_where_verified(
    coordinator, clinician, episode
):
    from episodes import services  # noqa: PLC0415
    from episodes.models import Source  # noqa: PLC0415

    served = {}
    for sign in Sign:
        # The derived sign is raised by the system, as the episode's facts raise it.
        derived = sign in DERIVED_SIGNS
        flag = services.red_flag_raise(
            episode_id=episode.pk,
            sign=sign.value,
            by=None if derived else clinician,
            source=Source.SYSTEM if derived else Source.USER,
        )
        resource = fhir_get(coordinator, f"Flag/{flag.pk}").json()
        validate(resource)
        codings = resource["code"]["coding"]
        assert (codings[0]["system"], codings[0]["code"]) == (codes.SIGNS, sign.value)
        assert [c["system"] for c in codings[1:]] in ([], [codes.SNOMED]), sign
        for standard in codings[1:]:
            assert (standard["code"], standard["display"]) == codes.SIGN_SNOMED[sign], sign
            served[sign.value] = standard["code"]
    # Mapped signs carry their concept; every other sign carries careflow's code alone.
    assert served == SIGN_SNOMED_SERVED
    assert set(Sign) - set(served) == {
        Sign.INCONTINENCE,
        Sign.BILATERAL_LEG_WEAKNESS,
        Sign.PROGRESSIVE_MOTOR_DEFICIT,
        Sign.AGE_OVER_50_NEW_ONSET,
        Sign.SIGNIFICANT_TRAUMA,
        Sign.PROLONGED_CORTICOSTEROIDS,
    }


def test_every_sign_mapped_to_snomed_ct_is_a_sign_of_the_catalogue():
    # A misspelt sign would never be served: it must name a sign careflow raises.
    assert set(codes.SIGN_SNOMED) <= set(Sign)


def test_a_condition_enrolled_without_a_code_is_lumbosacral_in_both_systems(coordinator, episode):
    condition = fhir_get(coordinator, f"Condition/{episode.pk}").json()
    assert [(c["system"], c["code"], c["display"]) for c in condition["code"]["coding"]] == [
        (codes.ICD10CM, "M54.17", "Radiculopathy, lumbosacral region"),
        (codes.SNOMED, "2415007", "Lumbosacral radiculopathy (disorder)"),
    ]
