"""The CapabilityStatement: exactly what ``interop/urls.py`` serves, from the same tables."""

from __future__ import annotations

from typing import Any, Final

from careflow.rules import PATHWAY_VERSION
from interop import codes
from interop.selectors import LOCATORS

# Types read by id from careflow's rows (interop.selectors.LOCATORS), and the two that are
# the pathway itself.
DEFINITION_TYPES: Final = ("PlanDefinition", "Questionnaire")

# name, FHIR search parameter type, what it matches: the only parameters each search
# accepts (anything else is a 400), besides _count.
SEARCH_PARAMS: Final[dict[str, tuple[tuple[str, str, str], ...]]] = {
    "Patient": (
        ("birthdate", "date", "birth date; eq, lt, le, gt, ge prefixes"),
        ("name", "string", "given or family name, starts with, any case"),
    ),
    "EpisodeOfCare": (
        ("patient", "reference", "the patient (12 or Patient/12)"),
        ("status", "token", "active (every open pathway state) or finished (resolved, closed)"),
    ),
    "Task": (
        ("status", "token", "ready: careflow's tasks are its open next actions"),
        ("period", "date", "the due date (restriction.period.end); eq, lt, le, gt, ge"),
        ("patient", "reference", "the patient (12 or Patient/12)"),
    ),
    "Flag": (("patient", "reference", "the patient (12 or Patient/12)"),),
    "Communication": (("patient", "reference", "the patient (12 or Patient/12)"),),
    "Questionnaire": (),
}


def search_names(resource_type: str) -> set[str]:
    return {name for name, _kind, _doc in SEARCH_PARAMS[resource_type]}


def served_types() -> list[str]:
    return sorted({*LOCATORS, *DEFINITION_TYPES})


def _resource(resource_type: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": resource_type, "interaction": [{"code": "read"}]}
    if resource_type in SEARCH_PARAMS:
        entry["interaction"].append({"code": "search-type"})
        params = [
            {"name": name, "type": kind, "documentation": doc}
            for name, kind, doc in SEARCH_PARAMS[resource_type]
        ]
        if params:
            entry["searchParam"] = params
    if resource_type == "EpisodeOfCare":
        entry["operation"] = [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/EpisodeOfCare-everything",
                "documentation": "the episode and every resource about it, as a searchset",
            }
        ]
    if resource_type == "PlanDefinition":
        entry["documentation"] = "PlanDefinition/radiculopathy: generated from careflow's rules"
    return entry


def capability_statement(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": PATHWAY_VERSION,
        "publisher": "Careflow",
        "kind": "instance",
        "software": {"name": "Careflow", "version": PATHWAY_VERSION},
        "implementation": {"description": "Careflow FHIR facade", "url": base_url},
        "fhirVersion": codes.FHIR_VERSION,
        "format": [codes.FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Same tokens and care-team scoping as /api/: another care "
                "team's resource is a 404. Searches answer GET <type>?... and POST "
                "<type>/_search with a form body.",
                "security": {
                    "cors": False,
                    "description": "Authorization: Token <key> (POST /api/auth/token/).",
                },
                "resource": [_resource(t) for t in served_types()],
                "interaction": [
                    {
                        "code": "transaction",
                        "documentation": "POST /fhir/ with a Bundle of one Patient and one "
                        "Condition enrols the patient and opens the episode.",
                    }
                ],
            }
        ],
    }
