"""Who read or changed a patient's record, for a privacy officer: a page and a CSV.

Only users with ``api.view_accessrecord`` (a privacy officer's group, or a superuser) see
them; anyone else gets 403. Looking is itself audited: the URL names the patient, so the
audit middleware records the officer's read like any other.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from api.access_log import (
    FIELDS,
    after_text,
    may_read,
    patient_access,
    patient_access_all,
    patient_named,
    position,
)
from episodes.selectors import MAX_ID
from infra.spreadsheet import cell
from workspace.views.common import signed_in


def _officer(request: HttpRequest) -> None:
    if not may_read(request.user):
        raise PermissionDenied


@require_GET
@signed_in
def access_find(request: HttpRequest) -> HttpResponse:
    """The form: a patient's number, then their access records."""
    _officer(request)
    raw = request.GET.get("patient", "").strip()
    error = ""
    if raw:
        if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
            return redirect("workspace:access-log", patient_id=int(raw))
        error = _("Enter the patient's number, for example 1234.")
    return render(
        request,
        "workspace/access_log.html",
        {"patient": None, "error": error, "value": raw},
        status=400 if error else 200,
    )


@require_GET
@signed_in
def access_log(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's access records, newest first, 50 a page (keyset: no page reads more)."""
    _officer(request)
    patient = patient_named(patient_id)
    raw = request.GET.get("after", "")
    after = position(raw) if raw else None
    note = (
        _("That page link is not valid; showing the newest records.") if raw and not after else ""
    )
    page = patient_access(patient_id, after=after)
    if patient is None and not page.records and after is None:
        raise Http404
    rows = [
        {**record, "at": timezone.localtime(record["at"]).strftime("%Y-%m-%d %H:%M:%S")}
        for record in page.records
    ]
    older = None
    if page.after is not None:
        older = "?" + urlencode({"after": after_text(page.after)})
    return render(
        request,
        "workspace/access_log.html",
        {
            "patient": patient,
            "patient_id": patient_id,
            "rows": rows,
            "older": older,
            "newest": bool(after),
            "note": note,
            "zone": settings.TIME_ZONE,
            "csv_link": reverse("workspace:access-log-csv", args=[patient_id]),
        },
    )


class _Echo:
    """A file-like object whose write returns what it was given (Django's streaming CSV)."""

    def write(self, value: str) -> str:
        return value


@require_GET
@signed_in
def access_log_csv(request: HttpRequest, patient_id: int) -> StreamingHttpResponse:
    """Every access record of the patient as CSV, streamed: memory stays flat at any size.

    https://docs.djangoproject.com/en/5.2/howto/outputting-csv/#streaming-large-csv-files
    """
    _officer(request)
    writer = csv.writer(_Echo(), lineterminator="\n")

    def lines() -> Iterator[str]:
        yield writer.writerow(FIELDS)
        for record in patient_access_all(patient_id):
            yield writer.writerow([_text(record[field]) for field in FIELDS])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="patient-{patient_id}-access.csv"'
    return response


def _text(value: Any) -> str:  # noqa: ANN401 - a column's value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return cell(str(value))
