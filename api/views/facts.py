"""An episode's clinical facts: assessments, red flags and their reports, imaging, care plan."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers.inputs import (
    AssessmentInputSerializer,
    CarePlanItemInputSerializer,
    CarePlanItemUpdateInputSerializer,
    ImagingInputSerializer,
    RedFlagInputSerializer,
    RedFlagReportReviewInputSerializer,
    RedFlagUpdateInputSerializer,
)
from api.serializers.outputs import (
    AssessmentOutputSerializer,
    CarePlanItemOutputSerializer,
    ImagingRecordedOutputSerializer,
    RedFlagOutputSerializer,
    RedFlagReportOutputSerializer,
)
from api.serializers.plain import red_flag_report_output
from api.views.openapi import EPISODE_ID, errors, id_param
from episodes import services
from episodes.selectors import (
    care_plan_for,
    care_plan_item_get_for,
    episode_get_for,
    red_flag_get_for,
    red_flag_report_get_for,
)

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
        responses={201: ImagingRecordedOutputSerializer, **errors(400, 409)},
        description="Records the study. A study before day 42 of conservative care with no"
        " red flag active that day is recorded too, with an IM-2 entry in `warnings`.",
    )
    def post(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        serializer = ImagingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        study = services.imaging_record(
            episode_id=episode.pk, by=request.user, **serializer.validated_data
        )
        return Response(ImagingRecordedOutputSerializer(study).data, status=status.HTTP_201_CREATED)


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
