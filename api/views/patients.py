"""``/api/patients/``: list, create, read and correct patients."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import record_shown
from api.pagination import KeysetPagination
from api.serializers.inputs import PatientCreateInputSerializer, PatientUpdateInputSerializer
from api.serializers.outputs import PatientOutputSerializer
from api.views.openapi import PATIENT_ID, errors
from episodes import services
from episodes.models import Patient
from episodes.selectors import care_team_for_new_patient, patient_get_for, patient_list_for


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
