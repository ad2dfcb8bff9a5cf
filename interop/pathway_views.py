"""The pathway's operation and vocabularies: ``PlanDefinition/{id}/$apply`` and ``CodeSystem``.

Thin, as the other facade views (``interop/views.py``, whose base classes these are): the
answer of ``$apply`` is careflow's (interop/apply.py), the CodeSystems are
interop/terminology.py's. Every refusal is an OperationOutcome in words. And the answer
to a type-level interaction careflow does not serve (``POST /fhir/DiagnosticReport``):
a 405, as for the searchable types' create.
"""

from __future__ import annotations

from typing import Any, Final

from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from careflow.states import NON_TERMINAL_STATES
from episodes.selectors import (
    MAX_ID,
    episode_facts,
    episode_list_for,
    patient_get_for,
    patient_today,
)
from interop import resources as fhir
from interop import search
from interop.apply import apply_plan
from interop.capability import search_names, served_types
from interop.terminology import codesystem_by_id, codesystem_resource, systems
from interop.views import (
    FhirApi,
    FhirSearchApi,
    _note_for_audit,
    listed_searchset,
    operation_outcome,
)

PLAN_DEFINITIONS: Final = frozenset({"radiculopathy"})
# $apply's parameters careflow serves (R4B's PlanDefinition-apply: subject, a string that
# names the patient); _format is every request's.
APPLY_PARAMS: Final = frozenset({"subject"})
SUBJECT_EXPRESSION: Final = "Parameters.parameter.where(name = 'subject')"


def _invalid(message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError(message)


def _patient_id(subjects: list[str]) -> int:
    """The patient ``subject`` names: ``Patient/{id}``, exactly one."""
    if not subjects:
        msg = "subject is required: the patient to apply the pathway to, as Patient/{id}"
        raise _invalid(msg)
    if len(subjects) > 1:
        msg = "give one subject: the pathway is applied to one patient at a time"
        raise _invalid(msg)
    kind, _slash, value = subjects[0].strip().rpartition("/")
    kind = kind.rsplit("/", 1)[-1]  # an absolute URL ends in Patient/{id} too
    if kind != "Patient" or not (value.isascii() and value.isdigit()):
        shown = subjects[0][:60]
        msg = f"subject must be a Patient reference, Patient/{{id}}; {shown!s} is not one"
        raise _invalid(msg)
    if not 0 < int(value) <= MAX_ID:
        msg = f"subject: Patient/{value[:25]} is not a patient id (a whole number from 1)"
        raise _invalid(msg)
    return int(value)


def _query_subjects(request: Request) -> list[str]:
    unknown = sorted(set(request.query_params) - APPLY_PARAMS - {"_format"})
    if unknown:
        msg = f"unsupported parameter{'s' if len(unknown) > 1 else ''} of $apply: " + ", ".join(
            unknown
        )
        raise _invalid(msg)
    return request.query_params.getlist("subject")


def _body_subjects(body: Any) -> list[str]:  # noqa: ANN401 - any JSON a client sends
    """The subjects of a Parameters resource (R4B: valueString; a valueReference too)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        msg = "the body must be a Parameters resource naming the subject"
        raise _invalid(msg)
    parameters = body.get("parameter", [])
    if not isinstance(parameters, list) or not all(isinstance(p, dict) for p in parameters):
        msg = "Parameters.parameter must be a list of parameters"
        raise _invalid(msg)
    names = sorted({str(p.get("name"))[:40] for p in parameters} - APPLY_PARAMS)
    if names:
        msg = f"unsupported parameter{'s' if len(names) > 1 else ''} of $apply: " + ", ".join(names)
        raise _invalid(msg)
    subjects = []
    for parameter in parameters:
        value = parameter.get("valueString")
        reference = parameter.get("valueReference")
        if value is None and isinstance(reference, dict):
            value = reference.get("reference")
        if not isinstance(value, str):
            msg = "subject: a valueString (or valueReference) naming the patient, Patient/{id}"
            raise _invalid(msg)
        subjects.append(value)
    return subjects


class PlanDefinitionApplyApi(FhirApi):
    """``PlanDefinition/radiculopathy/$apply?subject=Patient/{id}``, or POST with Parameters.

    What the pathway asks now of the patient's open episode, in the caller's care teams
    (another team's patient is a 404): a CarePlan with a contained RequestGroup of the next
    actions, the transitions allowed now and those blocked, each with its rules. Nothing is
    written; the read is audited as any read of the patient's record.
    """

    def get(self, request: Request, resource_id: str) -> Response:
        if resource_id not in PLAN_DEFINITIONS:
            raise Http404
        return self._apply(request, _query_subjects(request))

    def post(self, request: Request, resource_id: str) -> Response:
        if resource_id not in PLAN_DEFINITIONS:
            raise Http404
        query = _query_subjects(request)
        if query:
            msg = "give the subject in the Parameters body or the query string, not both"
            raise _invalid(msg)
        try:
            return self._apply(request, _body_subjects(request.data))
        except exceptions.ValidationError as exc:
            # Where in the body: the Parameters' subject (FHIRPath), beside the words.
            text = " ".join(str(d) for d in exc.detail) if isinstance(exc.detail, list) else ""
            outcome = operation_outcome([("invalid", text or str(exc), SUBJECT_EXPRESSION)])
            return Response(outcome, status=status.HTTP_400_BAD_REQUEST)

    def _apply(self, request: Request, subjects: list[str]) -> Response:
        patient_id = _patient_id(subjects)
        _note_for_audit(request, patient_id=patient_id, episode_id=None)
        episode = (
            episode_list_for(request.user)
            .filter(patient_id=patient_id, state__in=[s.value for s in NON_TERMINAL_STATES])
            .order_by("-pk")
            .first()
        )
        if episode is None:
            patient_get_for(request.user, patient_id)  # another team's (or none): a 404
            msg = (
                f"Patient/{patient_id} has no open episode: the pathway asks nothing of a "
                "patient whose episodes are resolved or closed"
            )
            outcome = operation_outcome([("not-found", msg, None)])
            return Response(outcome, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        _note_for_audit(request, patient_id=patient_id, episode_id=episode.pk)
        facts = episode_facts(episode)
        today = patient_today(episode.patient)
        return Response(apply_plan(episode, facts, today, timezone.now()))


class CodeSystemApi(FhirApi):
    """``CodeSystem/{id}``: one of careflow's own code systems, every code with its words."""

    def get(self, request: Request, resource_id: str) -> Response:  # noqa: ARG002
        resource = codesystem_by_id(resource_id)
        if resource is None:
            raise Http404
        return Response(fhir.versioned(resource))


class CodeSystemSearchApi(FhirSearchApi):
    """``CodeSystem?url=...`` (or ``_id``): careflow's code systems, by canonical URL."""

    def get(self, request: Request) -> Response:
        params = search.params(request, search_names("CodeSystem"))
        ids = search.values(params, "_id")
        urls = search.values(params, "url")
        items = [
            codesystem_resource(url)
            for url in systems()
            if (urls is None or url in urls) and (ids is None or url.rsplit("/", 1)[-1] in ids)
        ]
        return listed_searchset(request, "CodeSystem", params=params, items=items, total=len(items))


class TypeNotServedApi(FhirApi):
    """``<type>`` of a type careflow serves by id only: search and create are a 405.

    Any other name is a 404, as any other URL under ``/fhir/``.
    """

    permission_classes = (AllowAny,)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        self.http_method_names = [*APIView.http_method_names]
        return super().dispatch(request, *args, **kwargs)

    @property
    def allowed_methods(self) -> list[str]:
        """The ``Allow`` header: no method is served at ``<type>`` for these types."""
        return ["OPTIONS"]

    def get(self, request: Request, resource_type: str) -> Response:
        if resource_type not in served_types():
            raise Http404
        msg = (
            f"{resource_type} is read by id only (GET {resource_type}/{{id}}); "
            f"{request.method} {resource_type} is not served"
        )
        raise exceptions.MethodNotAllowed(request.method, detail=msg)

    post = put = patch = delete = get
