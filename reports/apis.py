"""``GET /api/reports/adherence/``: the adherence report as JSON, or CSV with ?format=csv."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.views.openapi import errors
from reports.figures import ReportRequestError, adherence_report, flatten, parse_request


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
        writer.writerows((figure, _cell(value)) for figure, value in flatten(data))
        return out.getvalue().encode()


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV
# Injection"): https://owasp.org/www-community/attacks/CSV_Injection
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cell(value: str) -> str:
    """``value`` as text no spreadsheet runs: a leading ' before a formula's first character.

    A number (a negative one included) is left as it is, so it still reads as a number.
    """
    if value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


class AdherenceReportApi(APIView):
    renderer_classes = (JSONRenderer, CsvRenderer)

    @extend_schema(
        operation_id="reports_adherence",
        parameters=[
            OpenApiParameter("care_team", int, description="one team; default: all yours"),
            OpenApiParameter("from", OpenApiTypes.DATE, description="default: to - 364 days"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="default: today"),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={200: OpenApiTypes.OBJECT, **errors(400)},
    )
    def get(self, request: Request) -> Response:
        try:
            report_request = parse_request(request.user, request.query_params)
        except ReportRequestError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        return Response(adherence_report(report_request))
