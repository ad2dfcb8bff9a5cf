"""The HTTP API (shared/spec/API.md): thin views that validate, call, and serialise.

Each view validates its input, calls a service (writes) or a selector (reads) and
serialises the result. One class per operation, named ``<Entity><Verb>Api``; where two
operations share a URL (``GET`` and ``POST /api/episodes/``), the URL's class only
combines the two operation classes. Errors are shaped by ``episodes.api.errors``; access
is checked by the selectors (``*_get_for(user, id)`` answer 404 for what the user may not
see).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from careflow.states import State, TransitionName
from episodes import services
from episodes.api import schema  # noqa: F401 - registers an extension
from episodes.api.pagination import KeysetPagination
from episodes.api.serializers import (
    TRANSITION_INPUT,
    AnyTransitionInputSerializer,
    AssessmentInputSerializer,
    AssessmentOutputSerializer,
    CarePlanItemInputSerializer,
    CarePlanItemOutputSerializer,
    CarePlanItemUpdateInputSerializer,
    EpisodeCreateInputSerializer,
    EpisodeOutputSerializer,
    EpisodeSummarySerializer,
    EpisodeUpdateInputSerializer,
    ErrorSerializer,
    GuardFailedSerializer,
    ImagingInputSerializer,
    ImagingOutputSerializer,
    PatientCreateInputSerializer,
    PatientOutputSerializer,
    PatientUpdateInputSerializer,
    QueueCountSerializer,
    RedFlagInputSerializer,
    RedFlagOutputSerializer,
    RedFlagReportOutputSerializer,
    RedFlagReportReviewInputSerializer,
    RedFlagUpdateInputSerializer,
    ReminderOutputSerializer,
    ReplyOutputSerializer,
    TimelineEventSerializer,
    ValidationErrorSerializer,
    episode_output,
    episode_summaries,
    red_flag_report_output,
)
from episodes.audit import record_patient, record_shown
from episodes.models import Episode, Patient
from episodes.selectors import (
    MAX_ID,
    QUEUES,
    care_plan_for,
    care_plan_item_get_for,
    care_team_for_new_patient,
    episode_get_for,
    episode_id_for,
    episode_list_for,
    episode_pathway_view,
    episode_timeline,
    patient_get_for,
    patient_list_for,
    queue_counts,
    queue_episodes,
    queue_get,
    queue_page_rows,
    red_flag_get_for,
    red_flag_report_get_for,
    red_flag_reports_to_review,
)
from notifications.selectors import episode_reminders, reply_get_for
from notifications.services import reply_mark_read

# -- OpenAPI helpers ------------------------------------------------------------------------------

_ERROR_DESCRIPTIONS = {
    400: "Invalid input: `error` is `invalid`; each invalid field maps to its messages.",
    401: "Not authenticated.",
    403: "Authenticated but not permitted.",
    404: "Does not exist, or is not visible to you.",
    409: "`invalid_transition` (not allowed from this state), `conflict` (stale version) or "
    "`episode_closed` (a write to a resolved or closed episode).",
    422: "`guard_failed`: every failing guideline rule, in `reasons`.",
    429: "`throttled`: too many requests; `Retry-After` says when to try again.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses of an operation; 401, 404 and 429 apply to every one."""
    out = {}
    for code in sorted({401, 403, 404, 429, *codes}):
        serializer: Any = ErrorSerializer
        if code == status.HTTP_400_BAD_REQUEST:
            serializer = ValidationErrorSerializer
        elif code == status.HTTP_422_UNPROCESSABLE_ENTITY:
            serializer = GuardFailedSerializer
        out[code] = OpenApiResponse(serializer, description=_ERROR_DESCRIPTIONS[code])
    return out


def id_param(name: str, description: str = "") -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        OpenApiParameter.PATH,
        description=description,
    )


EPISODE_ID = id_param("episode_id")
PATIENT_ID = id_param("patient_id")


# -- patients -------------------------------------------------------------------------------------


class PatientListApi(GenericAPIView):
    pagination_class = KeysetPagination

    def get_queryset(self) -> QuerySet[Patient]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Patient.objects.none()
        return patient_list_for(self.request.user).order_by("id")

    @extend_schema(responses={200: PatientOutputSerializer(many=True), **errors(400)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        record_shown(request, (patient.pk for patient in page))
        return self.get_paginated_response(PatientOutputSerializer(page, many=True).data)


class PatientCreateApi(APIView):
    @extend_schema(
        request=PatientCreateInputSerializer,
        responses={201: PatientOutputSerializer, **errors(400)},
    )
    def post(self, request: Request) -> Response:
        serializer = PatientCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        care_team = care_team_for_new_patient(request.user, fields.pop("care_team", None))
        fields.setdefault("timezone", settings.TIME_ZONE)
        patient = services.patient_create(care_team=care_team, **fields)
        return Response(PatientOutputSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientsApi(PatientListApi, PatientCreateApi):
    """``/api/patients/``: list (GET) and create (POST)."""


class PatientGetApi(APIView):
    @extend_schema(parameters=[PATIENT_ID], responses={200: PatientOutputSerializer, **errors()})
    def get(self, request: Request, patient_id: int) -> Response:
        patient = patient_get_for(request.user, patient_id)
        return Response(PatientOutputSerializer(patient).data)


class PatientUpdateApi(APIView):
    @extend_schema(
        parameters=[PATIENT_ID],
        request=PatientUpdateInputSerializer,
        responses={200: PatientOutputSerializer, **errors(400)},
    )
    def patch(self, request: Request, patient_id: int) -> Response:
        patient = patient_get_for(request.user, patient_id)
        serializer = PatientUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        patient = services.patient_update(
            patient_id=patient.pk,
            by=request.user,
            reason=fields.pop("reason", ""),
            fields=fields,
        )
        return Response(PatientOutputSerializer(patient).data)


class PatientDetailApi(PatientGetApi, PatientUpdateApi):
    """``/api/patients/{id}/``: read (GET) and correct (PATCH)."""


# -- episodes -------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """An id in a query string: a whole number in range, or 400."""

    field_class = forms.IntegerField

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class EpisodeFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=[(s.value, s.value) for s in State])
    patient = IdFilter(field_name="patient_id")
    assigned_to = IdFilter(field_name="assigned_to_id")
    care_team = IdFilter(field_name="care_team_id")

    class Meta:
        model = Episode
        fields = ("state", "patient", "assigned_to", "care_team")


def episode_body(episode: Episode) -> dict[str, Any]:
    """The episode representation (API.md): its columns plus what careflow computes."""
    body: dict[str, Any] = {
        name: getattr(episode, name)
        for name in (
            "id",
            "patient_id",
            "care_team_id",
            "assigned_to_id",
            "state",
            "version",
            "symptom_onset",
            "conservative_care_start",
            "enrolled_on",
            "next_deadline",
            "next_deadline_rule",
            "urgent_since",
            "created_at",
            "updated_at",
        )
    }
    body.update(episode_pathway_view(episode))
    body["red_flags"] = list(episode.red_flags.all())
    body["red_flag_reports"] = red_flag_reports_to_review(episode)
    body["care_plan"] = care_plan_for(episode)
    return body


def episode_response(
    user: Any,  # noqa: ANN401 - the auth user model
    episode_id: int,
    code: int = status.HTTP_200_OK,
) -> Response:
    """The episode as the user sees it now (fetched again after a write)."""
    episode = episode_get_for(user, episode_id)
    return Response(episode_output(episode_body(episode)), status=code)


class EpisodeListApi(GenericAPIView):
    pagination_class = KeysetPagination
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = EpisodeFilter

    def get_queryset(self) -> QuerySet[Episode]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Episode.objects.none()
        return episode_list_for(self.request.user).order_by("id")

    @extend_schema(responses={200: EpisodeSummarySerializer(many=True), **errors(400)})
    def get(self, request: Request) -> Response:
        episodes = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(episodes)
        record_shown(request, (episode.patient_id for episode in page))
        return self.get_paginated_response(
            EpisodeSummarySerializer(page, many=True, context={"request": request}).data
        )


class EpisodeCreateApi(APIView):
    @extend_schema(
        request=EpisodeCreateInputSerializer,
        responses={201: EpisodeOutputSerializer, **errors(400)},
    )
    def post(self, request: Request) -> Response:
        serializer = EpisodeCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        try:
            patient = patient_get_for(request.user, fields.pop("patient"))
        except Http404 as exc:
            raise serializers.ValidationError({"patient": ["No such patient."]}) from exc
        assignee = fields.pop("assigned_to", None)
        episode = services.episode_create(
            patient=patient, by=request.user, assigned_to=_user(assignee), **fields
        )
        return episode_response(request.user, episode.pk, status.HTTP_201_CREATED)


def _user(user_id: int | None) -> Any:  # noqa: ANN401 - the auth user model
    if user_id is None:
        return None
    from django.contrib.auth import get_user_model  # noqa: PLC0415 - needs the app registry

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise serializers.ValidationError(
            {"assigned_to": ["Not a member of the episode's care team."]}
        )
    return user


class EpisodesApi(EpisodeListApi, EpisodeCreateApi):
    """``/api/episodes/``: list (GET) and create (POST)."""


class EpisodeGetApi(APIView):
    @extend_schema(parameters=[EPISODE_ID], responses={200: EpisodeOutputSerializer, **errors()})
    def get(self, request: Request, episode_id: int) -> Response:
        return episode_response(request.user, episode_id)


class EpisodeUpdateApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        request=EpisodeUpdateInputSerializer,
        responses={200: EpisodeOutputSerializer, **errors(400, 409)},
    )
    def patch(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        serializer = EpisodeUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        reason = fields.pop("reason", "")
        version = fields.pop("version", None)
        if "assigned_to" in fields:
            fields["assigned_to"] = _user(fields["assigned_to"])
        services.episode_update(
            episode_id=episode.pk, by=request.user, fields=fields, reason=reason, version=version
        )
        return episode_response(request.user, episode.pk)


class EpisodeDetailApi(EpisodeGetApi, EpisodeUpdateApi):
    """``/api/episodes/{id}/``: read (GET) and correct or assign (PATCH)."""


# -- clinical facts -------------------------------------------------------------------------------


class AssessmentCreateApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        request=AssessmentInputSerializer,
        responses={201: AssessmentOutputSerializer, **errors(400, 409)},
    )
    def post(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        serializer = AssessmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        note = values.pop("note", "")
        assessment = services.assessment_record(
            episode_id=episode.pk, by=request.user, values=values, note=note
        )
        return Response(AssessmentOutputSerializer(assessment).data, status=status.HTTP_201_CREATED)


class RedFlagRaiseApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        request=RedFlagInputSerializer,
        responses={201: RedFlagOutputSerializer, **errors(400, 409)},
    )
    def post(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        serializer = RedFlagInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        flag = services.red_flag_raise(
            episode_id=episode.pk, by=request.user, **serializer.validated_data
        )
        return Response(RedFlagOutputSerializer(flag).data, status=status.HTTP_201_CREATED)


class RedFlagRuleOutApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID, id_param("flag_id")],
        request=RedFlagUpdateInputSerializer,
        responses={200: RedFlagOutputSerializer, **errors(400, 409)},
    )
    def patch(self, request: Request, episode_id: int, flag_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        flag = red_flag_get_for(episode, flag_id)
        serializer = RedFlagUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        flag = services.red_flag_rule_out(
            flag_id=flag.pk,
            episode_id=episode.pk,
            by=request.user,
            note=serializer.validated_data.get("note", ""),
        )
        return Response(RedFlagOutputSerializer(flag).data)


class RedFlagReportReviewApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID, id_param("report_id")],
        request=RedFlagReportReviewInputSerializer,
        responses={200: RedFlagReportOutputSerializer, **errors(400, 403)},
        description="A clinician reviews a patient's red-flag report (review_patient_report), "
        "with a note; on a resolved or closed episode too. On an open episode an assessment "
        "a clinician records after the report also meets it.",
    )
    def post(self, request: Request, episode_id: int, report_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        report = red_flag_report_get_for(episode, report_id)
        serializer = RedFlagReportReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.red_flag_report_review(
            episode_id=episode.pk,
            report_id=report.pk,
            by=request.user,
            note=serializer.validated_data["note"],
        )
        return Response(red_flag_report_output(report))


class ImagingRecordApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        request=ImagingInputSerializer,
        responses={201: ImagingOutputSerializer, **errors(400, 409)},
    )
    def post(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        serializer = ImagingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        study = services.imaging_record(
            episode_id=episode.pk, by=request.user, **serializer.validated_data
        )
        return Response(ImagingOutputSerializer(study).data, status=status.HTTP_201_CREATED)


# -- care plan ------------------------------------------------------------------------------------


class CarePlanListApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        responses={200: CarePlanItemOutputSerializer(many=True), **errors()},
    )
    def get(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        return Response(CarePlanItemOutputSerializer(care_plan_for(episode), many=True).data)


class CarePlanItemAddApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        request=CarePlanItemInputSerializer,
        responses={201: CarePlanItemOutputSerializer, **errors(400, 409)},
    )
    def post(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        serializer = CarePlanItemInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.care_plan_item_add(
            episode_id=episode.pk, by=request.user, **serializer.validated_data
        )
        return Response(CarePlanItemOutputSerializer(item).data, status=status.HTTP_201_CREATED)


class CarePlanApi(CarePlanListApi, CarePlanItemAddApi):
    """``/api/episodes/{id}/care-plan/``: list (GET) and add an item (POST)."""


class CarePlanItemUpdateApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID, id_param("item_id")],
        request=CarePlanItemUpdateInputSerializer,
        responses={200: CarePlanItemOutputSerializer, **errors(400, 409)},
    )
    def patch(self, request: Request, episode_id: int, item_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        item = care_plan_item_get_for(episode, item_id)
        serializer = CarePlanItemUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        item = services.care_plan_item_update(
            item_id=item.pk,
            episode_id=episode.pk,
            by=request.user,
            fields=serializer.validated_data,
        )
        return Response(CarePlanItemOutputSerializer(item).data)


# -- transitions ----------------------------------------------------------------------------------


class EpisodeTransitionApi(APIView):
    @extend_schema(
        parameters=[
            EPISODE_ID,
            OpenApiParameter(
                "name",
                str,
                OpenApiParameter.PATH,
                enum=[t.value for t in TransitionName],
                description="The transition (PATHWAY.md); any other name is 404.",
            ),
        ],
        request=AnyTransitionInputSerializer,
        responses={200: EpisodeOutputSerializer, **errors(400, 409, 422)},
        description="Each transition reads its own fields (API.md); a failed one changes nothing.",
    )
    def post(self, request: Request, episode_id: int, name: str) -> Response:
        episode_id = episode_id_for(request.user, episode_id)
        try:
            transition = TransitionName(name)
        except ValueError as exc:
            msg = f"No transition named {name!r}."
            raise services.UnknownTransitionError(msg) from exc
        serializer = TRANSITION_INPUT[transition](data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        episode = services.episode_transition(
            episode_id=episode_id, name=transition, by=request.user, version=version, data=data
        )
        record_patient(request, episode.patient_id)
        # The episode as this write left it (committed): its columns, and the rows of its
        # facts read under the lock; a transition adds no red flag or study, so nothing is
        # read again but the care plan. Plain dicts, not the nested serializer (issue 16):
        # the same JSON, tests/api/test_episode_output.py compares the two.
        return Response(episode_output(episode_body(episode)))


# -- timeline and reminders -----------------------------------------------------------------------


class EpisodeTimelineApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        responses={200: TimelineEventSerializer(many=True), **errors()},
    )
    def get(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        return Response(TimelineEventSerializer(episode_timeline(episode), many=True).data)


class EpisodeReminderListApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        responses={200: ReminderOutputSerializer(many=True), **errors()},
    )
    def get(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        return Response(ReminderOutputSerializer(episode_reminders(episode), many=True).data)


class ReplyReadApi(APIView):
    @extend_schema(
        operation_id="episodes_replies_read",
        parameters=[EPISODE_ID, id_param("reply_id")],
        request=None,
        responses={200: ReplyOutputSerializer, **errors()},
        description="Mark the patient's SMS reply read (who and when are kept); one already"
        " read is answered as it is. Another care team's episode or reply is 404.",
    )
    def post(self, request: Request, episode_id: int, reply_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        reply = reply_get_for(episode, reply_id)
        record_patient(request, episode.patient_id)
        reply = reply_mark_read(episode_id=episode.pk, reply_id=reply.pk, by=request.user)
        return Response(ReplyOutputSerializer(reply).data)


# -- queues ---------------------------------------------------------------------------------------


class QueueListApi(APIView):
    @extend_schema(responses={200: QueueCountSerializer(many=True), **errors()})
    def get(self, request: Request) -> Response:
        return Response(QueueCountSerializer(queue_counts(user=request.user), many=True).data)


class QueueEpisodeListApi(GenericAPIView):
    pagination_class = KeysetPagination

    def get_queryset(self) -> QuerySet[Episode]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Episode.objects.none()
        return queue_episodes(self.kwargs["name"], user=self.request.user)

    @extend_schema(
        operation_id="queues_episodes_list",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(QUEUES))],
        responses={200: EpisodeSummarySerializer(many=True), **errors(400)},
    )
    def get(self, request: Request, name: str) -> Response:
        # One statement for the page (queue_page_rows) and one pass over its rows: plain
        # dicts with the summary serializer's output, which the schema above describes.
        now = timezone.now()
        queue = queue_get(name)  # 404 for an unknown queue, before the cursor is read
        page = self.paginator.paginate_rows(
            partial(queue_page_rows, name, user=request.user, now=now),
            ordering=queue.ordering,
            model=Episode,
            request=request,
        )
        record_shown(request, (row["patient_id"] for row in page))
        return self.get_paginated_response(episode_summaries(page, now))


# -- anything else under /api/ ----------------------------------------------------------------


@extend_schema(exclude=True)
class ApiNotFoundApi(APIView):
    """Unknown URLs under ``/api/`` (``/api/episodes/abc/``): the JSON 404, not a web page."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    def http_method_not_allowed(self, *_args: Any, **_kwargs: Any) -> Response:
        raise Http404

    options = http_method_not_allowed
