"""The FHIR facade's views (``/fhir/``): thin, like the JSON API's, over the same selectors.

Authentication and throttling are the API's (``REST_FRAMEWORK`` settings); access is the
care-team scoping of ``episodes.selectors`` (another team's resource is a 404); every
error is an ``OperationOutcome``. None of these views is in the OpenAPI schema: FHIR's
contract is the CapabilityStatement at ``/fhir/metadata``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Final

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from api.audit import record_created, record_shown
from api.parsers import SafeJSONParser
from careflow.deadlines import Milestone
from episodes.selectors import MAX_ID, episode_get_for, patient_today
from interop import codes
from interop import resources as fhir
from interop.capability import capability_statement, search_names
from interop.enrol import EnrolmentError, enrol
from interop.pathway import plan_definition, published
from interop.selectors import (
    communication_search,
    episode_everything,
    episode_search,
    episode_tasks,
    flag_search,
    locate,
    may_see,
    open_episodes_for,
    patient_search,
)

Resource = dict[str, Any]
MAX_COUNT: Final = 1000
DEFAULT_COUNT: Final = 100


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
    response.data = operation_outcome([(code, str(getattr(exc, "detail", exc)), None)])
    return response


class FhirApi(APIView):
    """Base of every facade view: FHIR JSON in and out, OperationOutcome errors."""

    renderer_classes = (FhirJsonRenderer, JSONRenderer)
    parser_classes = (FhirJsonParser, SafeJSONParser)
    schema = None  # not in /api/schema/: FHIR's contract is /fhir/metadata

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return fhir_exception_handler


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
                "resource": r,
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
        return Response(capability_statement(_absolute(request, "")))


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
        _params(request, search_names("Questionnaire"))
        items = [fhir.questionnaire_resource(m, published=published()) for m in Milestone]
        return Response(bundle(request, "searchset", items, len(items)))


# -- reads ------------------------------------------------------------------------------------


class ResourceReadApi(FhirApi):
    """``GET /fhir/{type}/{id}`` for every type careflow's rows map to."""

    def get(self, request: Request, resource_type: str, resource_id: str) -> Response:
        found = locate(resource_type, resource_id)
        _note_for_audit(request, patient_id=found.patient_id, episode_id=found.episode_id)
        if not may_see(request.user, found.team_id):
            raise Http404
        return Response(found.render())


class EpisodeEverythingApi(FhirApi):
    """``GET /fhir/EpisodeOfCare/{id}/$everything``: the episode and all its resources."""

    def get(self, request: Request, episode_id: str) -> Response:
        _params(request, set())
        if not (episode_id.isascii() and episode_id.isdigit()):
            raise Http404
        episode = episode_get_for(request.user, int(episode_id))
        resources = episode_everything(episode)
        return Response(bundle(request, "searchset", resources, len(resources)))


# -- searches ---------------------------------------------------------------------------------

_PREFIXES: Final = {"eq": "", "lt": "__lt", "le": "__lte", "gt": "__gt", "ge": "__gte"}


def _params(request: Request, allowed: set[str]) -> dict[str, str]:
    """The search's parameters, each once; an unknown one is a 400 (never silently ignored).

    ``GET`` takes them from the query string; ``POST <type>/_search`` from a form body,
    which keeps names and birth dates out of web-server access logs.
    """
    source = request.data if request.method == "POST" else request.query_params
    out: dict[str, str] = {}
    for name in source:
        values = source.getlist(name)
        if name not in {*allowed, "_count", "_format"}:
            msg = f"unsupported search parameter: {name}"
            raise exceptions.ValidationError(msg)
        if len(values) != 1:
            msg = f"give {name} once"
            raise exceptions.ValidationError(msg)
        if "\x00" in values[0]:  # PostgreSQL's text holds no NUL: no value can match it
            msg = f"{name} holds a NUL character"
            raise exceptions.ValidationError(msg)
        out[name] = values[0]
    return out


def _date_filter(field: str, value: str) -> Q:
    """``[eq|lt|le|gt|ge]YYYY-MM-DD`` as a filter on a date column."""
    prefix, day = (value[:2], value[2:]) if value[:2] in _PREFIXES else ("eq", value)
    try:
        parsed = date.fromisoformat(day)
    except ValueError as exc:
        msg = f"{field}: a date YYYY-MM-DD, optionally after eq, lt, le, gt or ge"
        raise exceptions.ValidationError(msg) from exc
    return Q(**{f"{field}{_PREFIXES[prefix]}": parsed})


def _date_matches(due: date, value: str) -> bool:
    prefix, day = (value[:2], value[2:]) if value[:2] in _PREFIXES else ("eq", value)
    try:
        when = date.fromisoformat(day)
    except ValueError as exc:
        msg = "period: a date YYYY-MM-DD, optionally after eq, lt, le, gt or ge"
        raise exceptions.ValidationError(msg) from exc
    return {
        "eq": due == when,
        "lt": due < when,
        "le": due <= when,
        "gt": due > when,
        "ge": due >= when,
    }[prefix]


def _patient_param(value: str | None) -> int | None:
    if value is None:
        return None
    number = value.removeprefix("Patient/")
    if not (number.isascii() and number.isdigit()) or not 0 < int(number) <= MAX_ID:
        msg = "patient: a Patient id (12 or Patient/12)"
        raise exceptions.ValidationError(msg)
    return int(number)


def _count(params: dict[str, str]) -> int:
    value = params.get("_count", str(DEFAULT_COUNT))
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_COUNT:
        msg = f"_count: a whole number from 1 to {MAX_COUNT}"
        raise exceptions.ValidationError(msg)
    return int(value)


class PatientSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = _params(request, search_names("Patient"))
        birthdate = params.get("birthdate")
        patients = patient_search(
            request.user,
            birthdate=None if birthdate is None else _date_filter("birth_date", birthdate),
            name=params.get("name"),
        )
        count = _count(params)
        shown = list(patients[:count])
        record_shown(request, (p.pk for p in shown))
        page = [fhir.patient_resource(p) for p in shown]
        return Response(bundle(request, "searchset", page, patients.count()))


EPISODE_STATUSES: Final = ("active", "finished")


class EpisodeSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = _params(request, search_names("EpisodeOfCare"))
        wanted = params.get("status")
        if wanted is not None and wanted not in EPISODE_STATUSES:
            msg = f"status: one of {', '.join(EPISODE_STATUSES)} (careflow uses no other)"
            raise exceptions.ValidationError(msg)
        episodes = episode_search(
            request.user, patient_id=_patient_param(params.get("patient")), status=wanted
        )
        count = _count(params)
        shown = list(episodes[:count])
        record_shown(request, (e.patient_id for e in shown))
        page = [fhir.episode_resource(e) for e in shown]
        return Response(bundle(request, "searchset", page, episodes.count()))


class FlagSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = _params(request, search_names("Flag"))
        flags = flag_search(request.user, patient_id=_patient_param(params.get("patient")))
        count = _count(params)
        shown = list(flags[:count])
        record_shown(request, (f.episode.patient_id for f in shown))
        page = [fhir.flag_resource(f, patient_id=f.episode.patient_id) for f in shown]
        return Response(bundle(request, "searchset", page, flags.count()))


class CommunicationSearchApi(FhirSearchApi):
    """Reminders' delivery attempts and coordinators' outreach notes, by time."""

    def get(self, request: Request) -> Response:
        params = _params(request, search_names("Communication"))
        found = communication_search(
            request.user, patient_id=_patient_param(params.get("patient")), count=_count(params)
        )
        record_shown(request, set(found.patient_ids))
        return Response(bundle(request, "searchset", found.resources, found.total))


class TaskSearchApi(FhirSearchApi):
    """Tasks are computed (careflow's next actions): every open episode's, filtered."""

    def get(self, request: Request) -> Response:
        params = _params(request, search_names("Task"))
        wanted = params.get("status")
        period = params.get("period")
        if period is not None:
            _date_matches(date.min, period)  # a malformed period is a 400 even with no tasks
        matches: list[Resource] = []
        patients: list[int] = []
        episodes = open_episodes_for(request.user, patient_id=_patient_param(params.get("patient")))
        if wanted in (None, "ready"):
            for episode in episodes:
                today = patient_today(episode.patient)
                tasks = [
                    fhir.task_resource(episode, action, today)
                    for action in episode_tasks(episode, today)
                    if period is None or _date_matches(action.due, period)
                ]
                matches.extend(tasks)
                patients.extend(episode.patient_id for _ in tasks)
        count = _count(params)
        record_shown(request, set(patients[:count]))
        return Response(bundle(request, "searchset", matches[:count], len(matches)))


# -- write ------------------------------------------------------------------------------------


class TransactionApi(FhirApi):
    """``POST /fhir/`` with a transaction Bundle: enrol a patient (Patient + Condition)."""

    def post(self, request: Request) -> Response:
        try:
            enrolled = enrol(body=request.data, user=request.user)
        except EnrolmentError as exc:
            outcome = operation_outcome([("invalid", what, where) for where, what in exc.issues])
            return Response(outcome, status=status.HTTP_400_BAD_REQUEST)
        record_created(request, enrolled.patient.pk, enrolled.episode.pk)
        patient = fhir.patient_resource(enrolled.patient)
        condition = fhir.condition_resource(enrolled.episode)
        entries = [
            {
                "fullUrl": _absolute(request, f"{r['resourceType']}/{r['id']}"),
                "resource": r,
                "response": {
                    "status": "201 Created",
                    "location": f"{r['resourceType']}/{r['id']}",
                    "lastModified": r["meta"]["lastUpdated"],
                },
            }
            for r in (patient, condition)
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
