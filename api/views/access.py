"""``/api/patients/{id}/access-records/``: who read or changed a patient's record.

For a privacy officer (``api.view_accessrecord``); 403 for anyone else. Newest first, 50 a
page; ``next`` is the link to the older records (``api.access_log``).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from api.access_log import after_text, may_read, patient_access, patient_named, position
from api.views.openapi import PATIENT_ID, errors

RECORD_FIELDS = {
    "id": serializers.IntegerField(),
    "at": serializers.DateTimeField(),
    "username": serializers.CharField(),
    "user_id": serializers.IntegerField(allow_null=True),
    "action": serializers.ChoiceField(choices=["read", "write"]),
    "method": serializers.CharField(),
    "path": serializers.CharField(),
    "status_code": serializers.IntegerField(),
    "address": serializers.IPAddressField(allow_null=True),
    "episode_id": serializers.IntegerField(allow_null=True),
}


class PatientAccessApi(APIView):
    @extend_schema(
        operation_id="patients_access_records",
        parameters=[
            PATIENT_ID,
            OpenApiParameter(
                "after",
                {"type": "string", "pattern": r"^\S+~[0-9]+$"},
                description="the `next` link's position (opaque); leave out for the newest"
                " records. Any other value is a 400.",
            ),
        ],
        responses={
            200: inline_serializer(
                "AccessRecordPage",
                {
                    "next": serializers.URLField(allow_null=True),
                    "results": inline_serializer("AccessRecord", RECORD_FIELDS, many=True),
                },
            ),
            **errors(400),
        },
    )
    def get(self, request: Request, patient_id: int) -> Response:
        if not may_read(request.user):
            raise PermissionDenied
        raw = request.query_params.get("after")
        after = None
        if raw is not None:
            after = position(raw)
            if after is None:
                raise ValidationError({"after": ["Not a page position; use a `next` link."]})
        page = patient_access(patient_id, after=after)
        if not page.records and after is None and patient_named(patient_id) is None:
            raise NotFound
        link = None
        if page.after is not None:
            link = replace_query_param(
                request.build_absolute_uri(), "after", after_text(page.after)
            )
        return Response({"next": link, "results": page.records})
