"""The CapabilityStatement: exactly what ``interop/urls.py`` serves, from the same tables."""

from __future__ import annotations

from typing import Any, Final

from django.conf import settings

from careflow.rules import PATHWAY_VERSION
from interop import codes
from interop.selectors import LOCATORS

# Types read by id from careflow's rows (interop.selectors.LOCATORS), and the two that are
# the pathway itself.
DEFINITION_TYPES: Final = ("PlanDefinition", "Questionnaire")

# name, FHIR search parameter type, what it matches: the only parameters each search
# accepts (anything else is a 400 naming it), besides _count, _cursor and _format. A comma
# list is any of its values; dates take eq, lt, le, gt, ge and any precision (1984, 1984-05).
_ID = ("_id", "token", "the resource's id; a comma list for several")
_UPDATED = (
    "_lastUpdated",
    "date",
    "meta.lastUpdated: a date (UTC day) or an instant; eq, lt, le, gt, ge",
)
_PATIENT = ("patient", "reference", "the patient (12 or Patient/12); a comma list for several")
SEARCH_PARAMS: Final[dict[str, tuple[tuple[str, str, str], ...]]] = {
    "Patient": (
        _ID,
        _UPDATED,
        ("birthdate", "date", "birth date; a year or month is its whole range"),
        ("name", "string", "given or family name, starts with, any case"),
    ),
    "EpisodeOfCare": (
        _ID,
        _UPDATED,
        _PATIENT,
        (
            "status",
            "token",
            (
                "active (every open pathway state), finished (resolved, closed); the value "
                "set's other codes match nothing"
            ),
        ),
    ),
    "Condition": (_ID, _UPDATED, _PATIENT),
    "Observation": (_ID, _PATIENT),
    "CarePlan": (_ID, _PATIENT),
    "Task": (
        _ID,
        (
            "status",
            "token",
            (
                "ready: careflow's tasks are its open next actions; the value set's other "
                "codes match nothing"
            ),
        ),
        ("period", "date", "the due date (restriction.period.end)"),
        _PATIENT,
    ),
    "Flag": (_ID, _PATIENT, ("status", "token", "active or inactive (ruled out)")),
    "Communication": (_ID, _PATIENT),
    "Questionnaire": (_ID,),
}


def search_names(resource_type: str) -> set[str]:
    return {name for name, _kind, _doc in SEARCH_PARAMS[resource_type]}


def served_types() -> list[str]:
    return sorted({*LOCATORS, *DEFINITION_TYPES})


def _resource(resource_type: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": resource_type, "interaction": [{"code": "read"}]}
    if resource_type in LOCATORS:
        # meta.versionId and ETag on every read (a digest of the content), If-None-Match
        # answered 304; no history is kept, so no vread.
        entry |= {"versioning": "versioned", "readHistory": False, "conditionalRead": "not-match"}
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


AUTH_DESCRIPTION: Final = (
    "Authorization: Bearer <token> (or Token <token>): a person's token from POST "
    '/api/auth/token/ with the JSON body {"username": ..., "password": ...}, or a system\'s '
    "OAuth 2 access token from POST /o/token/ (grant_type=client_credentials, the client's "
    "id and secret by HTTP Basic or in the form; scopes system/*.read, system/*.write). "
    "Either sees one care team's patients: the person's, or the client's."
)
SMART_SCOPES: Final = ("system/*.read", "system/*.write")
SECURITY_SERVICE: Final = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS: Final = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def security(server_root: str) -> dict[str, Any]:
    """``rest.security``: CORS only where origins are configured, OAuth 2, and tokens."""
    return {
        "extension": [
            {
                "url": OAUTH_URIS,
                "extension": [{"url": "token", "valueUri": f"{server_root}o/token/"}],
            }
        ],
        "cors": bool(settings.CORS_ALLOWED_ORIGINS),
        "service": [
            {
                "coding": [{"system": SECURITY_SERVICE, "code": "OAuth", "display": "OAuth2"}],
                "text": "OAuth 2 client credentials, or careflow's own tokens",
            }
        ],
        "description": AUTH_DESCRIPTION,
    }


def smart_configuration(server_root: str) -> dict[str, Any]:
    """``/.well-known/smart-configuration`` (SMART App Launch 2): what is true of careflow.

    A system (an EHR) gets an OAuth 2 token by client credentials with a client secret
    (SMART's ``client-confidential-symmetric``); there is no authorization endpoint, so no
    SMART launch, no authorization code and no PKCE. A person's token is careflow's own
    (``careflow_token_request``), sent as a Bearer token too.
    """
    return {
        "token_endpoint": f"{server_root}o/token/",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(SMART_SCOPES),
        "capabilities": ["client-confidential-symmetric"],
        "code_challenge_methods_supported": [],
        "response_types_supported": [],
        "careflow_token_request": {
            "url": f"{server_root}api/auth/token/",
            "method": "POST",
            "content_type": "application/json",
            "body": {"username": "<username>", "password": "<password>"},
            "use": "Authorization: Bearer <token>",
        },
    }


def capability_statement(base_url: str, server_root: str) -> dict[str, Any]:
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
                "security": security(server_root),
                "resource": [_resource(t) for t in served_types()],
                "interaction": [
                    {
                        "code": "transaction",
                        "documentation": "POST /fhir/ with a Bundle of one Patient and one "
                        "Condition enrols the patient and opens the episode. The Patient "
                        "entry's request.ifNoneExist (identifier=<system>|<value>) makes a "
                        "retry answer with the patient the care team has, creating nothing.",
                    }
                ],
            }
        ],
    }
