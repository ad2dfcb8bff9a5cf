"""Find anyone: the header's search over every patient of the user's care teams.

By any part of the name (accents and case ignored) or by date of birth, whatever their
episodes' states, through ``episodes.selectors.patient_search`` (the API's search). The
form POSTs and the results are that POST's answer: a name or a date of birth never goes
into a URL, so never into an access log, a proxy's log or the browser's history; the
answer is not stored by the browser either (``never_cache``). Every patient listed is
recorded as read (``api.audit.record_shown``), as on the queue pages.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from api.audit import record_shown
from api.serializers.inputs import PatientSearchInputSerializer
from episodes.models import Episode
from episodes.selectors import parse_birth_date, patient_search
from workspace import labels
from workspace.views.common import signed_in
from workspace.views.rows import link_format

# A search lists this many patients at most; past it, the page asks for more of the name.
SEARCH_LIMIT = 50
ROWS_TEMPLATE = "workspace/partials/search_rows.html"
# A date as the page prints it ("26 September 1977").
DATE_SHOWN = "j F Y"
# Digits and a date's separators only: meant as a date of birth.
_DATE_LIKE = re.compile(r"^[\d\s/.\-]+$")


def _problem(raw: str) -> tuple[str, str]:
    """What is wrong with a search, in the NHS's words: (error message, its code), or ("", "")."""
    serializer = PatientSearchInputSerializer(data={"q": raw.strip()})
    if not serializer.is_valid():
        codes = {error.code for error in serializer.errors.get("q", ())}
        if codes & {"blank", "required", "null"}:
            return _("Enter a patient's name or date of birth"), "blank"
        if "max_length" in codes:
            return _("Name or date of birth must be 100 characters or fewer"), "max_length"
        return _("Name or date of birth must only include letters, numbers and spaces"), "invalid"
    text = serializer.validated_data["q"]
    if _DATE_LIKE.match(text) and any(c.isdigit() for c in text) and parse_birth_date(text) is None:
        return _("Date of birth must be a real date, for example 26/09/1977 or 1977-09-26"), "date"
    return "", ""


@never_cache
@require_http_methods(["GET", "POST"])
@signed_in
def search(request: HttpRequest) -> HttpResponse:
    """The search page: the form (GET), or a search's results (POST, from any page's header)."""
    if request.method == "GET":
        return render(request, "workspace/search.html", {"searched": False, "q": ""})
    raw = request.POST.get("q", "")
    error, code = _problem(raw)
    context: dict[str, Any] = {"searched": True, "q": raw.strip()[:100], "error": error}
    if error:
        context["error_code"] = code
        return render(request, "workspace/search.html", context, status=400)
    found = list(
        patient_search(request.user, raw.strip()).prefetch_related(
            Prefetch(
                "episodes",
                Episode.objects.only("id", "state", "enrolled_on", "patient_id").order_by("id"),
            )
        )[: SEARCH_LIMIT + 1]
    )
    more = len(found) > SEARCH_LIMIT
    found = found[:SEARCH_LIMIT]
    record_shown(request, (patient.pk for patient in found))
    now = timezone.now()
    episode_link = link_format("workspace:episode")
    patients = [
        {
            "name": patient.display_name,
            "born": dateformat.format(patient.birth_date, DATE_SHOWN),
            "age": labels.age(
                patient.birth_date, now.astimezone(ZoneInfo(patient.timezone)).date()
            ),
            "episodes": [
                {
                    "url": episode_link.format(episode.pk),
                    "state": labels.state(episode.state),
                    "enrolled": _("enrolled %(on)s")
                    % {"on": dateformat.format(episode.enrolled_on, DATE_SHOWN)},
                }
                for episode in patient.episodes.all()
            ],
        }
        for patient in found
    ]
    words = {
        "patient": _("Patient"),
        "born": _("Date of birth"),
        "age": _("Age"),
        "episodes": _("Episodes"),
        "none": _("No episodes"),
    }
    context |= {
        "patients": patients,
        # The rows by Jinja2 (workspace/jinja2/, autoescaped): safe to print as they are.
        "rows_html": mark_safe(  # noqa: S308 - escaped by Jinja2's autoescape
            render_to_string(ROWS_TEMPLATE, {"patients": patients, "words": words}, using="jinja2")
        ),
        "more": more,
        "limit": SEARCH_LIMIT,
    }
    return render(request, "workspace/search.html", context)
