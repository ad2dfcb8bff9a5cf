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
from django.db.models import Q, QuerySet
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
from careflow.states import NON_TERMINAL_STATES, TERMINAL_STATES, State
from episodes.selectors import MAX_ID, care_plan_for, episode_get_for, patient_today
from interop import codes, history, results, search
from interop import resources as fhir
from interop.capability import (
    capability_statement,
    result_options,
    search_names,
    smart_configuration,
)
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
    Entry,
    abated_at,
    attempt_category_q,
    attempt_updated_q,
    careplan_search,
    communication_search,
    condition_code_q,
    condition_search,
    episode_everything,
    episode_search,
    everything_resources,
    flag_search,
    flag_updated_q,
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
    412: "conflict",
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


def _full_urls(request: Request) -> str:
    """What each entry's fullUrl starts with: ``_absolute``'s, built once for a page.

    A resource's type and id are letters, digits, ``-`` and ``.``: appended as they are,
    they make the URL ``_absolute`` makes (100 of those were 0.4 ms of a page).
    """
    return _absolute(request, "")


def bundle(request: Request, kind: str, resources: list[Resource], total: int | None) -> Resource:
    history.stamp(resources)
    base = _full_urls(request)
    out: Resource = {
        "resourceType": "Bundle",
        "type": kind,
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [
            {
                "fullUrl": f"{base}{r['resourceType']}/{r['id']}",
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


def listed_searchset(
    request: Request,
    path: str,
    *,
    params: dict[str, str],
    items: list[Resource],
    total: int | None,
    asked: search.Result | None = None,
) -> Response:
    """A search over a short list held in memory (definitions, code systems, topics).

    A page of it in id order, paged by the id as the database's searches page by their keys.
    """
    page = page_of(
        items,
        lambda r: (natural_key(r["id"]),),
        decode_memory(params.get(CURSOR), length=1),
        count_param(params),
    )
    return Response(
        searchset(
            request, path, params=params, page=page, resources=page.rows, total=total, asked=asked
        )
    )


def searchset(
    request: Request,
    path: str,
    *,
    params: dict[str, str],
    page: Page[Any],
    resources: list[Resource],
    total: int | None,
    asked: search.Result | None = None,
) -> Resource:
    """A page of a search as a searchset Bundle, with its self / next / previous links.

    With ``asked`` (the result parameters): what ``_include`` / ``_revinclude`` add (mode
    ``include``, audited as shown), and every resource cut to ``_elements``.
    """
    out = bundle(request, "searchset", resources, total)
    if asked is not None:
        extra = history.stamp(results.included(request.user, asked, resources))
        record_shown(request, {p for p in map(results.patient_of, extra) if p is not None})
        base = _full_urls(request)
        out.setdefault("entry", []).extend(
            {
                "fullUrl": f"{base}{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "include"},
            }
            for r in extra
        )
        if not out["entry"]:
            del out["entry"]
        for entry in out.get("entry", []):
            entry["resource"] = results.subset(entry["resource"], asked.elements)
    out["link"] = links(request, path, params, count_param(params), page)
    return out


def count_only(request: Request, total: int | None) -> Response:
    """``_summary=count``: the number of matches, no entries."""
    out = bundle(request, "searchset", [], total)
    return Response(out)


def _ordering(asked: search.Result, fields: dict[str, str]) -> tuple[str, ...]:
    """The keyset order ``_sort`` asks for: (column, id), either way; else by id."""
    if asked.sort is None:
        return ("id",)
    name, descending = asked.sort
    sign = "-" if descending else ""
    return (f"{sign}{fields[name]}", f"{sign}id")


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
        params = search.params(request, search_names("Questionnaire") | search.RESULT)
        asked = search.result(params, **result_options("Questionnaire"))
        wanted = search.values(params, "_id")
        updated = params.get("_lastUpdated")
        since = (
            None if updated is None else search.date_range("_lastUpdated", updated, instants=True)
        )
        items = [
            resource
            for resource in (
                fhir.questionnaire_resource(m, published=published()) for m in Milestone
            )
            if (wanted is None or resource["id"] in wanted)
            and (since is None or since.holds(published()))
        ]
        total = None if asked.total == "none" else len(items)
        if asked.count_only:
            return count_only(request, total)
        return listed_searchset(
            request, "Questionnaire", params=params, items=items, total=total, asked=asked
        )


# -- reads ------------------------------------------------------------------------------------


class ResourceReadApi(FhirApi):
    """``GET /fhir/{type}/{id}`` for every type careflow's rows map to."""

    def get(self, request: Request, resource_type: str, resource_id: str) -> Response:
        found = locate(resource_type, resource_id)
        _note_for_audit(request, patient_id=found.patient_id, episode_id=found.episode_id)
        if not may_see(request.user, found.team_id):
            raise Http404
        resource = history.stamp([found.render()])[0]
        headers = version_headers(resource)
        # A client that has this version already is told so, without the body again.
        if headers["ETag"] in entity_tags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(resource, headers=headers)


def version_headers(resource: Resource) -> dict[str, str]:
    """ETag (the versionId) and Last-Modified (meta.lastUpdated) of a resource."""
    return {
        "ETag": f'W/"{resource["meta"]["versionId"]}"',
        "Last-Modified": http_date(
            datetime.fromisoformat(resource["meta"]["lastUpdated"]).timestamp()
        ),
    }


def _kept(request: Request, resource_type: str, resource_id: str) -> tuple[int, Resource]:
    """A Patient or EpisodeOfCare of the user's teams (else 404), its current version kept."""
    found = locate(resource_type, resource_id)
    _note_for_audit(request, patient_id=found.patient_id, episode_id=found.episode_id)
    if not may_see(request.user, found.team_id):
        raise Http404
    if resource_type not in history.KEPT:
        kept = " and ".join(sorted(history.KEPT))
        msg = f"Careflow keeps the versions of {kept} only; read {resource_type}/{resource_id}."
        raise exceptions.NotFound(msg)
    return int(resource_id), history.stamp([found.render()])[0]


class ResourceVersionApi(FhirApi):
    """``GET /fhir/{type}/{id}/_history/{vid}`` (vread): the resource as version vid said."""

    def get(
        self, request: Request, resource_type: str, resource_id: str, version_id: str
    ) -> Response:
        search.params(request, set())
        row_id, current = _kept(request, resource_type, resource_id)
        kept = None
        if version_id.isascii() and version_id.isdigit() and len(version_id) <= 9:  # noqa: PLR2004
            kept = history.version(resource_type, row_id, int(version_id))
        if kept is None:
            msg = (
                f"{resource_type}/{resource_id} has no version {version_id}; its latest is "
                f"{current['meta']['versionId']}."
            )
            raise exceptions.NotFound(msg)
        return Response(kept.resource, headers=version_headers(kept.resource))


class ResourceHistoryApi(FhirApi):
    """``GET /fhir/{type}/{id}/_history``: every version kept, newest first, paged."""

    def get(self, request: Request, resource_type: str, resource_id: str) -> Response:
        params = search.params(request, {"_since", *search.RESULT})
        asked = search.result(params, counts=False)
        row_id, _current = _kept(request, resource_type, resource_id)
        rows = history.versions(resource_type, row_id)
        since = params.get("_since")
        if since is not None:
            rows = rows.filter(
                recorded_at__gte=search.date_range("_since", since, instants=True).start
            )
        page = keyset_rows(rows, ("-number",), _cursor(params), count_param(params))
        path = f"{resource_type}/{resource_id}"
        entries = []
        for row in page.rows:
            first = row.number == 1
            entries.append(
                {
                    "fullUrl": _absolute(request, path),
                    "resource": results.subset(row.resource, asked.elements),
                    "request": {
                        "method": "POST" if first else "PUT",
                        "url": resource_type if first else path,
                    },
                    "response": {
                        "status": "201 Created" if first else "200 OK",
                        "etag": f'W/"{row.number}"',
                        "lastModified": row.resource["meta"]["lastUpdated"],
                    },
                }
            )
        out: Resource = {"resourceType": "Bundle", "type": "history"}
        out["link"] = links(request, f"{path}/_history", params, count_param(params), page)
        if entries:
            out["entry"] = entries
        return Response(out)


def entity_tags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header, each as ``W/"..."``."""
    tags = {tag.strip() for tag in header.split(",") if tag.strip()}
    return {tag if tag.startswith("W/") else f"W/{tag}" for tag in tags}


class EpisodeEverythingApi(FhirApi):
    """``GET /fhir/EpisodeOfCare/{id}/$everything``: the episode and all its resources."""

    def get(self, request: Request, episode_id: str) -> Response:
        params = search.params(request, set(search.RESULT))
        asked = search.result(params, counts=False)
        if not (episode_id.isascii() and episode_id.isdigit()):
            raise Http404
        episode = episode_get_for(request.user, int(episode_id))
        entries, today = episode_everything(episode)
        page = page_of(
            entries,
            _everything_key(entries),
            decode_memory(params.get(CURSOR), length=2),
            count_param(params),
        )
        path = f"EpisodeOfCare/{episode.pk}/$everything"
        return Response(
            searchset(
                request,
                path,
                params=params,
                page=page,
                resources=everything_resources(episode, page.rows, today),
                total=None if asked.total == "none" else len(entries),
                asked=asked,
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


def _everything_key(entries: list[Entry]) -> Callable[[Entry], tuple[Any, ...]]:
    tasks = [entry.id for entry in entries if entry.resource_type == "Task"]
    task_order = {task_id: n for n, task_id in enumerate(tasks)}

    def key(entry: Entry) -> tuple[Any, ...]:
        rank = EVERYTHING_ORDER.index(entry.resource_type)
        if entry.resource_type == "Task":
            return (rank, ((1, task_order[entry.id], ""),))
        return (rank, natural_key(entry.id))

    return key


# -- searches ---------------------------------------------------------------------------------


def _cursor(params: dict[str, str], length: int = 1) -> Any:  # noqa: ANN401 - a Cursor or None
    return decode(params.get(CURSOR), length=length)


def _rows_searchset(
    request: Request,
    path: str,
    *,
    params: dict[str, str],
    asked: search.Result,
    rows: QuerySet[Any],
    sorts: dict[str, str],
    patient_of: Callable[[Any], int],
    render: Callable[[Any], Resource],
) -> Response:
    """A search of rows: the total alone (``_summary=count``), or a page of them.

    The page is one keyset range in the ``_sort`` asked for (``sorts``: each sort's field),
    its patients recorded as shown, each row rendered as its resource.
    """
    if asked.count_only:
        return count_only(request, results.total(asked, rows, lambda: None))
    ordering = _ordering(asked, sorts)
    page = keyset_rows(rows, ordering, _cursor(params, len(ordering)), count_param(params))
    record_shown(request, (patient_of(row) for row in page.rows))
    found = [render(row) for row in page.rows]
    return Response(
        searchset(
            request,
            path,
            params=params,
            page=page,
            resources=found,
            total=results.total(asked, rows, lambda: total_of(rows)),
            asked=asked,
        )
    )


class PatientSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Patient") | search.RESULT)
        asked = search.result(params, **result_options("Patient"))
        patients = patient_search(
            request.user,
            ids=search.ids(params),
            birthdate=search.date_q(params, "birthdate", "birth_date"),
            name=params.get("name"),
            last_updated=search.last_updated(params, "updated_at"),
        )
        return _rows_searchset(
            request,
            "Patient",
            params=params,
            asked=asked,
            rows=patients,
            sorts={"_lastUpdated": "updated_at", "birthdate": "birth_date"},
            patient_of=lambda p: p.pk,
            render=fhir.patient_resource,
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
        params = search.params(request, search_names("EpisodeOfCare") | search.RESULT)
        asked = search.result(params, **result_options("EpisodeOfCare"))
        episodes = episode_search(
            request.user,
            ids=search.ids(params),
            patient_ids=search.patients(params),
            states=_states(search.codes(params, "status", EPISODE_STATUSES)),
            last_updated=search.last_updated(params, "updated_at"),
            where=_where(search.date_q(params, "date", "enrolled_on")),
        )
        return _rows_searchset(
            request,
            "EpisodeOfCare",
            params=params,
            asked=asked,
            rows=episodes,
            sorts={"_lastUpdated": "updated_at", "date": "enrolled_on"},
            patient_of=lambda e: e.patient_id,
            render=fhir.episode_resource,
        )


def _where(*filters: Q | None) -> Q | None:
    """The filters given, all of them; None when none was."""
    given = [f for f in filters if f is not None]
    if not given:
        return None
    out = given[0]
    for f in given[1:]:
        out &= f
    return out


def _in(field: str, ids: list[int] | None) -> Q | None:
    return None if ids is None else Q(**{f"{field}__in": ids})


CAREPLAN_STATUSES: Final = (
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
)


def _careplan_states(statuses: set[str]) -> set[str]:
    """The pathway states a CarePlan status list stands for (``fhir.careplan_status``)."""
    return {s.value for s in State if fhir.careplan_status(s.value) in statuses}


class ConditionSearchApi(FhirSearchApi):
    """One Condition an episode (the radiculopathy it is about), id the episode's."""

    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Condition") | search.RESULT)
        asked = search.result(params, **result_options("Condition"))
        wanted_codes = search.tokens(params, "code", codes.ICD10CM, codes.SNOMED)
        episodes = condition_search(
            request.user,
            ids=search.ids(params),
            patient_ids=search.patients(params),
            last_updated=search.last_updated(params, "updated_at"),
            where=_where(
                _in("pk", search.references(params, "episode", "EpisodeOfCare")),
                None if wanted_codes is None else condition_code_q(wanted_codes),
                search.date_q(params, "onset-date", "symptom_onset"),
                search.date_q(params, "recorded-date", "enrolled_on"),
            ),
        )
        return _rows_searchset(
            request,
            "Condition",
            params=params,
            asked=asked,
            rows=episodes,
            sorts={
                "_lastUpdated": "updated_at",
                "onset-date": "symptom_onset",
                "recorded-date": "enrolled_on",
            },
            patient_of=lambda e: e.patient_id,
            render=lambda e: fhir.condition_resource(e, abated=abated_at(e)),
        )


class CarePlanSearchApi(FhirSearchApi):
    """One CarePlan an episode, id the episode's."""

    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("CarePlan") | search.RESULT)
        asked = search.result(params, **result_options("CarePlan"))
        statuses = search.codes(params, "status", CAREPLAN_STATUSES)
        episodes = careplan_search(
            request.user,
            ids=search.ids(params),
            patient_ids=search.patients(params),
            last_updated=search.last_updated(params, "updated_at"),
            where=_where(
                _in("pk", search.references(params, "episode", "EpisodeOfCare")),
                search.date_q(params, "date", "conservative_care_start"),
                None if statuses is None else Q(state__in=_careplan_states(statuses)),
            ),
            activity_codes=search.tokens(params, "activity-code", codes.PLAN_ITEMS),
        )
        return _rows_searchset(
            request,
            "CarePlan",
            params=params,
            asked=asked,
            rows=episodes,
            sorts={"_lastUpdated": "updated_at", "date": "conservative_care_start"},
            patient_of=lambda e: e.patient_id,
            render=lambda e: fhir.careplan_resource(e, care_plan_for(e), patient_today(e.patient)),
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
        params = search.params(request, search_names("Observation") | search.RESULT)
        asked = search.result(params, **result_options("Observation"))
        wanted = _split_ids(search.values(params, "_id"))
        facts = search.tokens(params, "code", codes.FACTS)
        assessments = observation_search(
            request.user,
            assessment_ids=None if wanted is None else wanted[0],
            patient_ids=search.patients(params),
            where=_where(
                _in("episode_id", search.references(params, "episode", "EpisodeOfCare")),
                search.date_q(params, "date", "recorded_at", instants=True),
                search.last_updated(params, "recorded_at"),
            ),
            facts=facts,
        )

        def expand(row: Any) -> list[tuple[str, Resource]]:  # noqa: ANN401 - an Assessment
            return [
                (r["id"], r)
                for r in fhir.observation_resources(
                    row, patient_id=row.episode.patient_id, facts=facts
                )
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
                total=len(page.rows) if whole and asked.total != "none" else None,
                asked=asked,
            )
        )


class FlagSearchApi(FhirSearchApi):
    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("Flag") | search.RESULT)
        asked = search.result(params, **result_options("Flag"))
        statuses = search.codes(params, "status", FLAG_STATUSES)
        updated = params.get("_lastUpdated")
        flags = flag_search(
            request.user,
            ids=search.ids(params),
            patient_ids=search.patients(params),
            statuses=None if statuses is None else statuses & {"active", "inactive"},
            where=_where(
                _in("episode_id", search.references(params, "episode", "EpisodeOfCare")),
                search.date_q(params, "date", "raised_at", instants=True),
                None
                if updated is None
                else flag_updated_q(search.date_range("_lastUpdated", updated, instants=True)),
            ),
        )
        return _rows_searchset(
            request,
            "Flag",
            params=params,
            asked=asked,
            rows=flags,
            sorts={"date": "raised_at"},
            patient_of=lambda f: f.episode.patient_id,
            render=lambda f: fhir.flag_resource(f, patient_id=f.episode.patient_id),
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
        params = search.params(request, search_names("Communication") | search.RESULT)
        asked = search.result(params, **result_options("Communication"))
        episodes = search.references(params, "episode", "EpisodeOfCare")
        sent, updated = params.get("sent"), params.get("_lastUpdated")
        sent_range = None if sent is None else search.date_range("sent", sent, instants=True)
        updated_range = (
            None if updated is None else search.date_range("_lastUpdated", updated, instants=True)
        )
        categories = search.tokens(params, "category", codes.COMMUNICATION_CATEGORY, codes.OUTREACH)
        found = communication_search(
            request.user,
            patient_ids=search.patients(params),
            ids=_communication_ids(search.values(params, "_id")),
            cursor=_cursor(params, 3),
            count=count_param(params),
            attempts_where=_where(
                None if categories is None else attempt_category_q(categories),
                _in("reminder__episode_id", episodes),
                None if sent_range is None else sent_range.q("at"),
                None if updated_range is None else attempt_updated_q(updated_range),
            ),
            notes_where=_where(
                _in("kind", None if categories is None else sorted(categories)),
                _in("episode_id", episodes),
                None if sent_range is None else sent_range.q("at"),
                None if updated_range is None else updated_range.q("at"),
            ),
            exact_total=None
            if asked.total == "none"
            else asked.count_only or asked.total in ("accurate", "estimate"),
        )
        if asked.count_only:
            return count_only(request, found.total)
        record_shown(request, set(found.patient_ids))
        return Response(
            searchset(
                request,
                "Communication",
                params=params,
                page=found.page,
                resources=found.resources,
                total=found.total,
                asked=asked,
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
        params = search.params(request, search_names("Task") | search.RESULT)
        asked = search.result(params, **result_options("Task"))
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
                where=_where(
                    _in("pk", search.references(params, "focus", "EpisodeOfCare")),
                    search.last_updated(params, "updated_at"),
                ),
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
                total=len(found) if whole and asked.total != "none" else None,
                asked=asked,
            )
        )


def _task_key(task_id: str) -> Any:  # noqa: ANN401 - (episode id, action) or None
    """``<episode>-<action-with-dashes>`` as (episode id, action code)."""
    head, _dash, tail = task_id.partition("-")
    if not (tail and head.isascii() and head.isdigit() and 0 < int(head) <= MAX_ID):
        return None
    return int(head), tail.replace("-", "_")


# -- write ------------------------------------------------------------------------------------


def _if_match_refused(request: Request) -> Response | None:
    """If-Match on the transaction (the header, or an entry's ``request.ifMatch``): a 412.

    The transaction creates (a patient and an episode, or finds them by ``ifNoneExist``);
    nothing is updated in place, so no version it names can be the one written. Answering
    the write as if the precondition held would break the promise a client asked for.
    """
    issues: list[tuple[str, str, str | None]] = []
    if request.headers.get("If-Match") is not None:
        issues.append(
            (
                "conflict",
                (
                    "If-Match: a transaction creates and updates nothing in place, so no version "
                    "can match; send it without If-Match (ifNoneExist on the Patient entry finds "
                    "a patient already enrolled)"
                ),
                None,
            )
        )
    entries = request.data.get("entry") if isinstance(request.data, dict) else None
    for n, entry in enumerate(entries if isinstance(entries, list) else []):
        asked = entry.get("request") if isinstance(entry, dict) else None
        if isinstance(asked, dict) and asked.get("ifMatch") is not None:
            issues.append(
                (
                    "conflict",
                    (
                        "ifMatch: this entry creates and updates nothing in place, so no version "
                        "can match; send it without ifMatch"
                    ),
                    f"Bundle.entry[{n}].request.ifMatch",
                )
            )
    if not issues:
        return None
    return Response(operation_outcome(issues), status=status.HTTP_412_PRECONDITION_FAILED)


class TransactionApi(FhirApi):
    """``POST /fhir/`` with a transaction Bundle: enrol a patient (Patient + Condition)."""

    scope = WRITE

    def post(self, request: Request) -> Response:
        refused = _if_match_refused(request)
        if refused is not None:
            return refused
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
            for r, created in zip(
                history.stamp([patient, condition]),
                (enrolled.patient_created, enrolled.episode_created),
                strict=True,
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
