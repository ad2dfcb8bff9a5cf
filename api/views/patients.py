"""``/api/patients/``: list, create, read and correct patients."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import record_created, record_shown
from api.pagination import KeysetPagination
from api.serializers.inputs import (
    PatientCreateInputSerializer,
    PatientSearchInputSerializer,
    PatientUpdateInputSerializer,
)
from api.serializers.outputs import PatientOutputSerializer, PatientRowSerializer
from api.views.openapi import PATIENT_ID, errors
from episodes import services
from episodes.models import Episode, Patient
from episodes.selectors import (
    care_team_for_new_patient,
    patient_get_for,
    patient_list_for,
    patient_search,
)


def _with_episodes(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Each patient's episodes (id and state), in one more query a page."""
    return patients.prefetch_related(
        Prefetch("episodes", Episode.objects.only("id", "state", "patient_id").order_by("id"))
    )


class _PatientPages(GenericAPIView):
    pagination_class = KeysetPagination
    queryset = Patient.objects.none()  # the schema's model; each view reads its own

    def page_of(self, request: Request, patients: QuerySet[Patient]) -> Response:
        page = self.paginate_queryset(_with_episodes(patients))
        record_shown(request, (patient.pk for patient in page))
        return self.get_paginated_response(PatientRowSerializer(page, many=True).data)


class PatientListApi(_PatientPages):
    def get_queryset(self) -> QuerySet[Patient]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Patient.objects.none()
        return patient_list_for(self.request.user).order_by("id")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description="Find patients by any part of the name (accents and case ignored)"
                " or by date of birth, whatever their episodes' states. POST "
                "/api/patients/_search keeps the search out of the URL.",
            )
        ],
        responses={200: PatientRowSerializer(many=True), **errors(400)},
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("q", "").strip()
        if text:
            return self.page_of(request, _search(request, text))
        return self.page_of(request, self.get_queryset())


def _search(request: Request, text: str) -> QuerySet[Patient]:
    serializer = PatientSearchInputSerializer(data={"q": text})
    serializer.is_valid(raise_exception=True)
    return patient_search(request.user, serializer.validated_data["q"])


class PatientSearchApi(_PatientPages):
    """``POST /api/patients/_search``: the same search with its words in the body."""

    @extend_schema(
        operation_id="patients_search",
        request=PatientSearchInputSerializer,
        responses={200: PatientRowSerializer(many=True), **errors(400)},
    )
    def post(self, request: Request) -> Response:
        serializer = PatientSearchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.page_of(request, _search(request, serializer.validated_data["q"]))


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
        record_created(request, patient.pk)
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
