"""The FHIR facade's views (``/fhir/``): thin, like the JSON API's, over the same selectors.

Authentication and throttling are the API's (``REST_FRAMEWORK`` settings); access is the
care-team scoping of ``episodes.selectors`` (another team's resource is a 404); every
error is an ``OperationOutcome``. None of these views is in the OpenAPI schema: FHIR's
contract is the CapabilityStatement at ``/fhir/metadata``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.http import http_date
from oauth2_provider.models import AccessToken
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from api.audit import record_created, record_shown
from api.authentication import CareflowOAuth2Authentication
from api.parsers import SafeJSONParser
from careflow.deadlines import Milestone
from careflow.states import NON_TERMINAL_STATES, TERMINAL_STATES
from episodes.selectors import MAX_ID, care_plan_for, episode_get_for, patient_today
from interop import codes, search
from interop import resources as fhir
from interop.capability import capability_statement, search_names, smart_configuration
from interop.clients import READ, WRITE
from interop.enrol import EnrolmentError, enrol, words
from interop.paging import (
    CURSOR,
    Page,
    count_param,
    decode,
    decode_memory,
    expanded_rows,
    keyset_rows,
    links,
    natural_key,
    page_of,
    total_of,
)
from interop.pathway import plan_definition, published
from interop.selectors import (
    abated_at,
    careplan_search,
    communication_search,
    condition_search,
    episode_everything,
    episode_search,
    flag_search,
    locate,
    may_see,
    observation_search,
    patient_search,
    task_page,
)

Resource = dict[str, Any]


class FhirJsonRenderer(JSONRenderer):
    media_type = codes.FHIR_JSON
    format = "fhir"


class FhirJsonParser(SafeJSONParser):
    media_type = codes.FHIR_JSON


def operation_outcome(issues: list[tuple[str, str, str | None]]) -> Resource:
    """(code, diagnostics, FHIRPath expression or None) -> an OperationOutcome."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": code,
                "diagnostics": text,
                **({"expression": [where]} if where else {}),
            }
            for code, text, where in issues
        ],
    }


_ISSUE_CODE: Final = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    415: "not-supported",
    429: "throttled",
}


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error of the facade as an OperationOutcome, with DRF's status and headers."""
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        exc = exceptions.NotFound("No such resource, or not one of your care teams'.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = _ISSUE_CODE.get(response.status_code, "processing")
    # Every message in words: DRF's details are lists and dicts of ErrorDetail strings.
    messages = words(getattr(exc, "detail", str(exc))) or [str(exc)]
    response.data = operation_outcome([(code, message, None) for message in messages])
    return response


class FhirApi(APIView):
    """Base of every facade view: FHIR JSON in and out, OperationOutcome errors.

    The API's authentication, and OAuth 2 access tokens of the facade's clients (an EHR's
    client credentials: interop/clients.py), whose scopes each view checks.
    """

    renderer_classes = (FhirJsonRenderer, JSONRenderer)
    parser_classes = (FhirJsonParser, SafeJSONParser)
    authentication_classes = (
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
        CareflowOAuth2Authentication,
    )
    schema = None  # not in /api/schema/: FHIR's contract is /fhir/metadata
    scope = READ  # what an OAuth 2 token needs for this view

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return fhir_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # _format asks for a format: careflow answers JSON only, and says so (406) rather
        # than answering JSON to a client that asked for XML.
        wanted = request.query_params.get("_format")
        if wanted is not None and wanted not in search.JSON_FORMATS:
            msg = f"_format: careflow answers JSON only ({', '.join(sorted(search.JSON_FORMATS))})"
            raise exceptions.NotAcceptable(msg)
        super().initial(request, *args, **kwargs)
        token = request.auth
        if isinstance(token, AccessToken) and not token.allow_scopes([self.scope]):
            msg = f"This token's scopes do not include {self.scope}."
            raise exceptions.PermissionDenied(msg)


class FhirSearchApi(FhirApi):
    """A search: ``GET <type>?...`` or ``POST <type>/_search`` with a form body (FHIR's two)."""

    parser_classes = (FormParser,)

    def post(self, request: Request) -> Response:
        return self.get(request)  # type: ignore[attr-defined] # every search defines get


def _absolute(request: Request, path: str) -> str:
    return request.build_absolute_uri(f"/fhir/{path}")


def bundle(request: Request, kind: str, resources: list[Resource], total: int | None) -> Resource:
    out: Resource = {
        "resourceType": "Bundle",
        "type": kind,
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [
            {
                "fullUrl": _absolute(request, f"{r['resourceType']}/{r['id']}"),
                "resource": fhir.versioned(r),
                **({"search": {"mode": "match"}} if kind == "searchset" else {}),
            }
            for r in resources
        ],
    }
    if total is not None:
        out["total"] = total
    if not out["entry"]:
        del out["entry"]
    return out


def searchset(
    request: Request,
    path: str,
    *,
    params: dict[str, str],
    page: Page[Any],
    resources: list[Resource],
    total: int | None,
) -> Resource:
    """A page of a search as a searchset Bundle, with its self / next / previous links."""
    out = bundle(request, "searchset", resources, total)
    out["link"] = links(request, path, params, count_param(params), page)
    return out


def _note_for_audit(request: Request, *, patient_id: int, episode_id: int | None) -> None:
    """Name the patient and episode a read is about, for the audit middleware.

    ``api.audit`` takes them from the URL's ``patient_id`` / ``episode_id``; a FHIR id
    is often not one (``Flag/7``, ``Observation/12-radicular-pain``), so once the resource
    is located the view adds them to the resolved URL's arguments, which the middleware
    reads after the response (denied reads included).
    """
    match = request._request.resolver_match  # noqa: SLF001 - the Django request under DRF's
    if match is not None:
        match.kwargs["patient_id"] = patient_id
        if episode_id is not None:
            match.kwargs["episode_id"] = episode_id


# -- conformance ------------------------------------------------------------------------------


class MetadataApi(FhirApi):
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return Response(
            capability_statement(_absolute(request, ""), request.build_absolute_uri("/"))
        )


class SmartConfigurationApi(APIView):
    """``/.well-known/smart-configuration`` (and under ``/fhir/``): public, plain JSON."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    renderer_classes = (JSONRenderer,)
    schema = None

    def get(self, request: Request) -> Response:
        return Response(smart_configuration(request.build_absolute_uri("/")))


class PlanDefinitionApi(FhirApi):
    def get(self, request: Request, resource_id: str) -> Response:  # noqa: ARG002
        if resource_id != "radiculopathy":
            raise Http404
        return Response(plan_definition())


QUESTIONNAIRES: Final = {fhir.questionnaire_id(m): m for m in Milestone}


class QuestionnaireApi(FhirApi):
    def get(self, request: Request, resource_id: str) -> Response:  # noqa: ARG002
        milestone = QUESTIONNAIRES.get(resource_id)
        if milestone is None:
            raise Http404
        return Response(fhir.questionnaire_resource(milestone, published=published()))


class QuestionnaireSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Questionnaire"))
        wanted = search.values(params, "_id")
        items = [
            resource
            for resource in (
                fhir.questionnaire_resource(m, published=published()) for m in Milestone
            )
            if wanted is None or resource["id"] in wanted
        ]
        page = page_of(
            items,
            lambda r: (natural_key(r["id"]),),
            decode_memory(params.get(CURSOR), length=1),
            count_param(params),
        )
        return Response(
            searchset(
                request,
                "Questionnaire",
                params=params,
                page=page,
                resources=page.rows,
                total=len(items),
            )
        )


# -- reads ------------------------------------------------------------------------------------


class ResourceReadApi(FhirApi):
    """``GET /fhir/{type}/{id}`` for every type careflow's rows map to."""

    def get(self, request: Request, resource_type: str, resource_id: str) -> Response:
        found = locate(resource_type, resource_id)
        _note_for_audit(request, patient_id=found.patient_id, episode_id=found.episode_id)
        if not may_see(request.user, found.team_id):
            raise Http404
        resource = fhir.versioned(found.render())
        etag = f'W/"{resource["meta"]["versionId"]}"'
        headers = {
            "ETag": etag,
            "Last-Modified": http_date(
                datetime.fromisoformat(resource["meta"]["lastUpdated"]).timestamp()
            ),
        }
        # A client that has this version already is told so, without the body again.
        if etag in _etags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(resource, headers=headers)


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header, each as ``W/"..."``."""
    tags = {tag.strip() for tag in header.split(",") if tag.strip()}
    return {tag if tag.startswith("W/") else f"W/{tag}" for tag in tags}


class EpisodeEverythingApi(FhirApi):
    """``GET /fhir/EpisodeOfCare/{id}/$everything``: the episode and all its resources."""

    def get(self, request: Request, episode_id: str) -> Response:
        params = search.params(request, set())
        if not (episode_id.isascii() and episode_id.isdigit()):
            raise Http404
        episode = episode_get_for(request.user, int(episode_id))
        resources = episode_everything(episode)
        page = page_of(
            resources,
            _everything_key(resources),
            decode_memory(params.get(CURSOR), length=2),
            count_param(params),
        )
        path = f"EpisodeOfCare/{episode.pk}/$everything"
        return Response(
            searchset(
                request, path, params=params, page=page, resources=page.rows, total=len(resources)
            )
        )


# $everything's order: the types as a reader meets them (who, what, then what happened),
# each type's resources by id, but Tasks in careflow's order of next actions (the urgent
# first: docs/PATHWAY-DECISIONS.md). The key of the last entry shown is the next page's
# cursor.
EVERYTHING_ORDER: Final = (
    "Patient",
    "EpisodeOfCare",
    "Condition",
    "CarePlan",
    "Flag",
    "Observation",
    "DiagnosticReport",
    "Task",
    "CommunicationRequest",
    "Communication",
    "QuestionnaireResponse",
    "Provenance",
)


def _everything_key(resources: list[Resource]) -> Callable[[Resource], tuple[Any, ...]]:
    tasks = [r["id"] for r in resources if r["resourceType"] == "Task"]
    task_order = {task_id: n for n, task_id in enumerate(tasks)}

    def key(resource: Resource) -> tuple[Any, ...]:
        rank = EVERYTHING_ORDER.index(resource["resourceType"])
        if resource["resourceType"] == "Task":
            return (rank, ((1, task_order[resource["id"]], ""),))
        return (rank, natural_key(resource["id"]))

    return key


# -- searches ---------------------------------------------------------------------------------


def _cursor(params: dict[str, str], length: int = 1) -> Any:  # noqa: ANN401 - a Cursor or None
    return decode(params.get(CURSOR), length=length)


class PatientSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Patient"))
        birthdate = params.get("birthdate")
        patients = patient_search(
            request.user,
            ids=search.ids(params),
            birthdate=None
            if birthdate is None
            else search.date_range("birthdate", birthdate).q("birth_date"),
            name=params.get("name"),
            last_updated=search.last_updated(params, "updated_at"),
        )
        page = keyset_rows(patients, ("id",), _cursor(params), count_param(params))
        record_shown(request, (p.pk for p in page.rows))
        found = [fhir.patient_resource(p) for p in page.rows]
        return Response(
            searchset(
                request,
                "Patient",
                params=params,
                page=page,
                resources=found,
                total=total_of(patients),
            )
        )


# FHIR's value sets for each status: any of their codes may be asked for; careflow's rows
# hold only some (an episode is active or finished, a task ready, a flag active or inactive).
EPISODE_STATUSES: Final = (
    "planned",
    "waitlist",
    "active",
    "onhold",
    "finished",
    "cancelled",
    "entered-in-error",
)
TASK_STATUSES: Final = (
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
)
FLAG_STATUSES: Final = ("active", "inactive", "entered-in-error")


def _states(statuses: set[str] | None) -> set[str] | None:
    """The pathway states an EpisodeOfCare status list stands for."""
    if statuses is None:
        return None
    states: set[str] = set()
    if "active" in statuses:
        states |= {s.value for s in NON_TERMINAL_STATES}
    if "finished" in statuses:
        states |= {s.value for s in TERMINAL_STATES}
    return states


class EpisodeSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("EpisodeOfCare"))
        episodes = episode_search(
            request.user,
            ids=search.ids(params),
            patient_ids=search.patients(params),
            states=_states(search.codes(params, "status", EPISODE_STATUSES)),
            last_updated=search.last_updated(params, "updated_at"),
        )
        page = keyset_rows(episodes, ("id",), _cursor(params), count_param(params))
        record_shown(request, (e.patient_id for e in page.rows))
        found = [fhir.episode_resource(e) for e in page.rows]
        return Response(
            searchset(
                request,
                "EpisodeOfCare",
                params=params,
                page=page,
                resources=found,
                total=total_of(episodes),
            )
        )


class ConditionSearchApi(FhirSearchApi):
    """One Condition an episode (the radiculopathy it is about), id the episode's."""

    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Condition"))
        episodes = condition_search(
            request.user,
            ids=search.ids(params),
            patient_ids=search.patients(params),
            last_updated=search.last_updated(params, "updated_at"),
        )
        page = keyset_rows(episodes, ("id",), _cursor(params), count_param(params))
        record_shown(request, (e.patient_id for e in page.rows))
        found = [fhir.condition_resource(e, abated=abated_at(e)) for e in page.rows]
        return Response(
            searchset(
                request,
                "Condition",
                params=params,
                page=page,
                resources=found,
                total=total_of(episodes),
            )
        )


class CarePlanSearchApi(FhirSearchApi):
    """One CarePlan an episode, id the episode's."""

    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("CarePlan"))
        episodes = careplan_search(
            request.user, ids=search.ids(params), patient_ids=search.patients(params)
        )
        page = keyset_rows(episodes, ("id",), _cursor(params), count_param(params))
        record_shown(request, (e.patient_id for e in page.rows))
        found = [
            fhir.careplan_resource(e, care_plan_for(e), patient_today(e.patient)) for e in page.rows
        ]
        return Response(
            searchset(
                request,
                "CarePlan",
                params=params,
                page=page,
                resources=found,
                total=total_of(episodes),
            )
        )


def _split_ids(wanted: list[str] | None) -> tuple[list[int], set[str]] | None:
    """``_id`` of a derived resource (``<row id>-<code>``): the rows, and the ids asked."""
    if wanted is None:
        return None
    rows = []
    for item in wanted:
        head, _dash, tail = item.partition("-")
        if tail and head.isascii() and head.isdigit() and 0 < int(head) <= MAX_ID:
            rows.append(int(head))
    return rows, set(wanted)


class ObservationSearchApi(FhirSearchApi):
    """One Observation per fact an assessment recorded, by (assessment, fact)."""

    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Observation"))
        wanted = _split_ids(search.values(params, "_id"))
        assessments = observation_search(
            request.user,
            assessment_ids=None if wanted is None else wanted[0],
            patient_ids=search.patients(params),
        )

        def expand(row: Any) -> list[tuple[str, Resource]]:  # noqa: ANN401 - an Assessment
            return [
                (r["id"], r)
                for r in fhir.observation_resources(row, patient_id=row.episode.patient_id)
                if wanted is None or r["id"] in wanted[1]
            ]

        page = expanded_rows(assessments, expand, _cursor(params, 2), count_param(params))
        record_shown(request, {int(r["subject"]["reference"].split("/")[1]) for r in page.rows})
        whole = CURSOR not in params and page.next_key is None
        return Response(
            searchset(
                request,
                "Observation",
                params=params,
                page=page,
                resources=page.rows,
                total=len(page.rows) if whole else None,
            )
        )


class FlagSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Flag"))
        statuses = search.codes(params, "status", FLAG_STATUSES)
        flags = flag_search(
            request.user,
            ids=search.ids(params),
            patient_ids=search.patients(params),
            statuses=None if statuses is None else statuses & {"active", "inactive"},
        )
        page = keyset_rows(flags, ("id",), _cursor(params), count_param(params))
        record_shown(request, (f.episode.patient_id for f in page.rows))
        found = [fhir.flag_resource(f, patient_id=f.episode.patient_id) for f in page.rows]
        return Response(
            searchset(
                request, "Flag", params=params, page=page, resources=found, total=total_of(flags)
            )
        )


def _communication_ids(wanted: list[str] | None) -> tuple[list[int], list[int]] | None:
    """``_id`` of a Communication: a delivery attempt's row id, or ``outreach-<note id>``."""
    if wanted is None:
        return None
    attempts, notes = [], []
    for item in wanted:
        note = item.removeprefix(fhir.OUTREACH_ID_PREFIX)
        number = note if note != item else item
        if number.isascii() and number.isdigit() and 0 < int(number) <= MAX_ID:
            (notes if note != item else attempts).append(int(number))
    return attempts, notes


class CommunicationSearchApi(FhirSearchApi):
    """Reminders' delivery attempts and coordinators' outreach notes, by time."""

    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Communication"))
        found = communication_search(
            request.user,
            patient_ids=search.patients(params),
            ids=_communication_ids(search.values(params, "_id")),
            cursor=_cursor(params, 3),
            count=count_param(params),
        )
        record_shown(request, set(found.patient_ids))
        return Response(
            searchset(
                request,
                "Communication",
                params=params,
                page=found.page,
                resources=found.resources,
                total=found.total,
            )
        )


class TaskSearchApi(FhirSearchApi):
    """Tasks are computed (careflow's next actions): open episodes' in id order, filtered.

    The order is by episode, then careflow's order of its next actions (the urgent first),
    read episode by episode from the cursor on, so a page costs what its episodes cost.
    ``total`` only when the whole result is this one page: counting every open episode's
    tasks would compute them all.
    """

    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Task"))
        statuses = search.codes(params, "status", TASK_STATUSES)
        period = params.get("period")
        due = None if period is None else search.date_range("period", period)
        cursor = _cursor(params, 2)
        count = count_param(params)
        wanted = _split_ids(search.values(params, "_id"))
        if statuses is not None and "ready" not in statuses:
            page: Page[Any] = Page(rows=[], next_key=None, previous_key=None)
        else:
            page = task_page(
                request.user,
                patient_ids=search.patients(params),
                ids=None
                if wanted is None
                else [_task_key(i) for i in wanted[1] if _task_key(i) is not None],
                keep=lambda action: due is None or due.holds(action.due),
                cursor=cursor,
                count=count,
            )
        record_shown(request, {episode.patient_id for episode, _action, _today in page.rows})
        found = [fhir.task_resource(e, action, today) for e, action, today in page.rows]
        whole = cursor is None and page.next_key is None
        return Response(
            searchset(
                request,
                "Task",
                params=params,
                page=page,
                resources=found,
                total=len(found) if whole else None,
            )
        )


def _task_key(task_id: str) -> Any:  # noqa: ANN401 - (episode id, action) or None
    """``<episode>-<action-with-dashes>`` as (episode id, action code)."""
    head, _dash, tail = task_id.partition("-")
    if not (tail and head.isascii() and head.isdigit() and 0 < int(head) <= MAX_ID):
        return None
    return int(head), tail.replace("-", "_")


# -- write ------------------------------------------------------------------------------------


class TransactionApi(FhirApi):
    """``POST /fhir/`` with a transaction Bundle: enrol a patient (Patient + Condition)."""

    scope = WRITE

    def post(self, request: Request) -> Response:
        try:
            enrolled = enrol(body=request.data, user=request.user)
        except EnrolmentError as exc:
            outcome = operation_outcome([("invalid", what, where) for where, what in exc.issues])
            return Response(outcome, status=status.HTTP_400_BAD_REQUEST)
        if enrolled.episode_created:
            record_created(request, enrolled.patient.pk, enrolled.episode.pk)
        else:  # a retry answered with what the first made: a read of it
            record_shown(request, [enrolled.patient.pk])
        patient = fhir.patient_resource(enrolled.patient)
        condition = fhir.condition_resource(enrolled.episode)
        entries = [
            {
                "fullUrl": _absolute(request, f"{r['resourceType']}/{r['id']}"),
                "resource": r,
                "response": {
                    "status": "201 Created" if created else "200 OK",
                    "location": f"{r['resourceType']}/{r['id']}",
                    "lastModified": r["meta"]["lastUpdated"],
                    "etag": f'W/"{r["meta"]["versionId"]}"',
                },
            }
            for r, created in (
                (fhir.versioned(patient), enrolled.patient_created),
                (fhir.versioned(condition), enrolled.episode_created),
            )
        ]
        body = {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
        return Response(body, status=status.HTTP_200_OK)


class FhirNotFoundApi(FhirApi):
    """Any other URL under /fhir/: an OperationOutcome 404, whatever the method."""

    permission_classes = (AllowAny,)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        self.http_method_names = [*APIView.http_method_names]
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # noqa: ARG002
        raise Http404

    post = put = patch = delete = get
