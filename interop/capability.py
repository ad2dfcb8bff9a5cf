"""The CapabilityStatement: exactly what ``interop/urls.py`` serves, from the same tables."""

from __future__ import annotations

from typing import Any, Final

from django.conf import settings

from careflow.rules import PATHWAY_VERSION
from interop import codes
from interop.paging import TOTAL_LIMIT
from interop.selectors import LOCATORS
from interop.subscriptions.capability import SUBSCRIPTION_TYPES, subscription_entry

# Types read by id from careflow's rows (interop.selectors.LOCATORS), and the two that are
# the pathway itself.
DEFINITION_TYPES: Final = ("PlanDefinition", "Questionnaire", "CodeSystem")

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
_EPISODE = (
    "episode",
    "reference",
    (
        "the EpisodeOfCare it belongs to (12 or EpisodeOfCare/12; the resource's episode "
        "extension); a comma list for several"
    ),
)
SEARCH_PARAMS: Final[dict[str, tuple[tuple[str, str, str], ...]]] = {
    "Subscription": (_ID,),  # the caller's own (interop/subscriptions/)
    "SubscriptionTopic": (_ID,),
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
        ("date", "date", "period.start: the day the patient was enrolled"),
    ),
    "Condition": (
        _ID,
        _UPDATED,
        _PATIENT,
        _EPISODE,
        ("code", "token", "the diagnosis code (ICD-10-CM or SNOMED CT), system|code or code"),
        ("onset-date", "date", "onsetDateTime: when the symptoms began"),
        ("recorded-date", "date", "recordedDate: the day the patient was enrolled"),
    ),
    "Observation": (
        _ID,
        _UPDATED,
        _PATIENT,
        _EPISODE,
        ("code", "token", "the fact recorded (careflow's facts code system)"),
        ("date", "date", "effectiveDateTime: when the assessment was recorded"),
    ),
    "CarePlan": (
        _ID,
        _UPDATED,
        _PATIENT,
        _EPISODE,
        ("activity-code", "token", "an activity of the plan (careflow's care-plan items)"),
        ("date", "date", "period.start: the start of conservative care"),
        (
            "status",
            "token",
            "active, completed (resolved) or revoked (closed); others match nothing",
        ),
    ),
    "Task": (
        _ID,
        _UPDATED,
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
        ("focus", "reference", "the EpisodeOfCare the task is for (12 or EpisodeOfCare/12)"),
    ),
    "Flag": (
        _ID,
        _UPDATED,
        _PATIENT,
        _EPISODE,
        ("status", "token", "active or inactive (ruled out)"),
        ("date", "date", "period.start: when the red flag was raised"),
    ),
    "Communication": (
        _ID,
        _UPDATED,
        _PATIENT,
        _EPISODE,
        ("sent", "date", "when it was sent or attempted (an instant or a date)"),
        (
            "category",
            "token",
            (
                "reminder (to the patient) or alert (to the care team) for a delivery attempt; "
                "call_made, no_answer, message_left, letter_sent or other for an outreach note"
            ),
        ),
    ),
    "Questionnaire": (_ID, _UPDATED),
    # careflow's own code systems (interop/terminology.py), found by their canonical URL.
    "CodeSystem": (_ID, ("url", "uri", "the canonical URL; a comma list for several")),
}

# _sort: the date parameters (and _lastUpdated) each search orders by, ascending or, with a
# leading "-", descending; a page is then a keyset range of an index in that order.
SORTS: Final[dict[str, tuple[str, ...]]] = {
    "Patient": ("_lastUpdated", "birthdate"),
    "EpisodeOfCare": ("_lastUpdated", "date"),
    "Condition": ("_lastUpdated", "onset-date", "recorded-date"),
    "CarePlan": ("_lastUpdated", "date"),
    "Flag": ("date",),
}
# _include (a reference of the page's resources) and _revinclude (resources referring to
# them) each search serves: the pairs an integrator follows between an episode, its patient,
# its condition, its red flags and its tasks.
INCLUDES: Final[dict[str, tuple[str, ...]]] = {
    "EpisodeOfCare": ("EpisodeOfCare:patient", "EpisodeOfCare:condition"),
    "Condition": ("Condition:patient", "Condition:episode"),
    "Observation": ("Observation:patient",),
    "CarePlan": ("CarePlan:patient", "CarePlan:episode"),
    "Task": ("Task:focus", "Task:patient"),
    "Flag": ("Flag:patient", "Flag:episode"),
    "Communication": ("Communication:patient",),
}
REVINCLUDES: Final[dict[str, tuple[str, ...]]] = {
    "Patient": ("EpisodeOfCare:patient", "Flag:patient"),
    "EpisodeOfCare": ("Flag:episode", "Task:focus"),
}
# Searches whose matches are computed row by row (an assessment's facts, an episode's next
# actions) cannot count them in one query: no _summary=count and no _total there.
UNCOUNTED: Final = frozenset({"Observation", "Task"})
# Types whose versions are kept: vread and history (interop.history).
HISTORY_TYPES: Final = ("EpisodeOfCare", "Patient")


# The order of the searches that take no _sort.
FIXED_ORDERS: Final = {
    "Observation": "by assessment, then fact",
    "Task": "by episode, then careflow's order of next actions, the urgent first",
    "Communication": "by time",
}


def result_documentation(resource_type: str) -> str:
    """What a search of this type does with the result parameters, in words."""
    sorts = SORTS.get(resource_type, ())
    said = [
        "_sort: " + ", ".join(sorts) + " (a leading - for newest first)"
        if sorts
        else f"no _sort (the order is {FIXED_ORDERS.get(resource_type, 'by id')})",
        "_summary=count, _count=0 and _total (none, estimate, accurate: an exact count; "
        f"without it the total is given up to {TOTAL_LIMIT:,} matches)"
        if resource_type not in UNCOUNTED
        else "no _summary=count or _total: its matches are computed, so the total is given "
        "only when every match is on the first page",
        "_elements: the named top-level elements, tagged SUBSETTED",
    ]
    return "; ".join(said) + "."


def result_options(resource_type: str) -> dict[str, Any]:
    """What ``interop.search.result`` checks this search's result parameters against."""
    return {
        "sorts": SORTS.get(resource_type, ()),
        "includes": INCLUDES.get(resource_type, ()),
        "revincludes": REVINCLUDES.get(resource_type, ()),
        "counts": resource_type not in UNCOUNTED,
    }


def search_names(resource_type: str) -> set[str]:
    return {name for name, _kind, _doc in SEARCH_PARAMS[resource_type]}


def served_types() -> list[str]:
    return sorted({*LOCATORS, *DEFINITION_TYPES, *SUBSCRIPTION_TYPES})


def _resource(resource_type: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": resource_type, "interaction": [{"code": "read"}]}
    if resource_type in LOCATORS:
        # meta.versionId and ETag on every read, If-None-Match answered 304. Patient and
        # EpisodeOfCare keep their versions (vread, history); the others' versionId is a
        # digest of the content, and no history is kept of them.
        kept = resource_type in HISTORY_TYPES
        entry |= {"versioning": "versioned", "readHistory": kept, "conditionalRead": "not-match"}
        if kept:
            entry["interaction"] += [
                {"code": "vread", "documentation": f"{resource_type}/{{id}}/_history/{{n}}"},
                {
                    "code": "history-instance",
                    "documentation": "every version kept, newest first, paged by _count; "
                    "_since an instant",
                },
            ]
    if resource_type in SEARCH_PARAMS:
        entry["interaction"].append({"code": "search-type"})
        params = [
            {"name": name, "type": kind, "documentation": doc}
            for name, kind, doc in SEARCH_PARAMS[resource_type]
        ]
        if params:
            entry["searchParam"] = params
        entry["documentation"] = result_documentation(resource_type)
        if resource_type in INCLUDES:
            entry["searchInclude"] = list(INCLUDES[resource_type])
        if resource_type in REVINCLUDES:
            entry["searchRevInclude"] = list(REVINCLUDES[resource_type])
    if resource_type in SUBSCRIPTION_TYPES:
        entry = subscription_entry(resource_type, entry)
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
        entry["operation"] = [
            {
                "name": "apply",
                "definition": "http://hl7.org/fhir/OperationDefinition/PlanDefinition-apply",
                "documentation": (
                    "PlanDefinition/radiculopathy/$apply?subject=Patient/{id} (or POST with a "
                    "Parameters body): what the pathway asks now of the patient's open "
                    "episode, computed by careflow's guards: a CarePlan with a contained "
                    "RequestGroup of the next actions and the transitions allowed and "
                    "blocked, each with its rules. Nothing is written."
                ),
            }
        ]
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
