"""``GET /api/reports/adherence/``: the adherence report as JSON, or CSV with ?format=csv."""

from __future__ import annotations

import csv
import io
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.views.openapi import errors
from infra.spreadsheet import cell
from reports.figures import (
    MAX_ID,
    MAX_RANGE_DAYS,
    ReportRequestError,
    adherence_report,
    flatten,
    parse_request,
)


class CsvRenderer(BaseRenderer):
    """Two columns, ``figure`` and ``value``: one row per number of the report."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,  # noqa: ANN401 - what the view returned
        accepted_media_type: str | None = None,  # noqa: ARG002 - DRF's signature
        renderer_context: dict[str, Any] | None = None,  # noqa: ARG002 - DRF's signature
    ) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["figure", "value"])
        writer.writerows((figure, cell(value)) for figure, value in flatten(data))
        return out.getvalue().encode()


# Each named with no value is a 400, not its default: the schema's types have no empty value.
QUERY_PARAMETERS = ("care_team", "from", "to", "format")


def _responses() -> dict[Any, Any]:
    """Each response as JSON, or with ?format=csv as CSV text (errors included)."""
    out: dict[Any, Any] = {}
    for code, response in {200: OpenApiResponse(OpenApiTypes.OBJECT), **errors(400)}.items():
        out[code, "application/json"] = response
        out[code, "text/csv"] = OpenApiResponse(
            OpenApiTypes.STR,
            description=response.description
            or "Two columns, figure and value: a header row, then one row per figure.",
        )
    return out


class AdherenceReportApi(APIView):
    renderer_classes = (JSONRenderer, CsvRenderer)

    @extend_schema(
        operation_id="reports_adherence",
        parameters=[
            OpenApiParameter(
                "care_team",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="one team; default: all yours",
            ),
            OpenApiParameter("from", OpenApiTypes.DATE, description="default: to - 364 days"),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                description=f"default: today; from is on or before to, at most {MAX_RANGE_DAYS} "
                "days apart",
            ),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses=_responses(),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        blank = [n for n in QUERY_PARAMETERS if n in params and not params[n].strip()]
        if blank:
            raise ValidationError({n: ["Give a value, or leave the parameter out."] for n in blank})
        try:
            report_request = parse_request(request.user, request.query_params)
        except ReportRequestError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        return Response(adherence_report(report_request))
