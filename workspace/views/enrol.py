"""Enrolment: a new patient and their episode in one form."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from api.serializers.inputs import EpisodeCreateInputSerializer, PatientCreateInputSerializer
from episodes import services
from episodes.selectors import care_teams_for
from workspace import labels
from workspace.forms import build_fields, submitted, validate
from workspace.views.common import signed_in

ENROL_EXCLUDE = ("patient", "care_team", "assigned_to")


@require_http_methods(["GET", "POST"])
@signed_in
def enrol(request: HttpRequest) -> HttpResponse:
    """A patient and their episode in one form, validated as the API validates both."""
    teams = list(care_teams_for(request.user))
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    summary: list[str] = []
    if request.method == "POST":
        patient_raw = submitted(PatientCreateInputSerializer, request.POST, exclude=("care_team",))
        episode_raw = submitted(EpisodeCreateInputSerializer, request.POST, exclude=ENROL_EXCLUDE)
        # At enrolment an unticked fact is not known yet: only ticked ones are recorded.
        episode_raw = {k: v for k, v in episode_raw.items() if v is not False}
        values = {**patient_raw, **episode_raw}
        patient_data, patient_errors = validate(PatientCreateInputSerializer, patient_raw)
        episode_data, episode_errors = validate(
            EpisodeCreateInputSerializer, {**episode_raw, "patient": 1}
        )
        errors = {**patient_errors, **episode_errors}
        team = next((t for t in teams if str(t.pk) == request.POST.get("care_team")), None)
        if team is None and len(teams) == 1:
            team = teams[0]
        if team is None:
            errors["care_team"] = [_("Choose one of your care teams.")]
        if not errors and patient_data is not None and episode_data is not None:
            episode_data.pop("patient")
            patient_data.setdefault("timezone", settings.TIME_ZONE)
            try:
                with transaction.atomic():
                    patient = services.patient_create(care_team=team, **patient_data)
                    created = services.episode_create(
                        patient=patient, by=request.user, **episode_data
                    )
            except ValidationError as exc:
                errors = dict(getattr(exc, "message_dict", {"__all__": exc.messages}))
            else:
                url = reverse("workspace:episode", args=[created.pk])
                return redirect(f"{url}?done=enrolled#top")
        summary = [f"{labels.label_for(k)}: {' '.join(v)}" for k, v in errors.items()]
    context = {
        "teams": teams,
        "team_value": request.POST.get("care_team", ""),
        "team_errors": errors.get("care_team", []),
        "patient_fields": build_fields(
            PatientCreateInputSerializer,
            prefix="enrol",
            values=values or {"timezone": settings.TIME_ZONE},
            errors=errors,
            exclude=("care_team",),
        ),
        "episode_fields": build_fields(
            EpisodeCreateInputSerializer,
            prefix="enrol",
            values=values,
            errors=errors,
            exclude=ENROL_EXCLUDE,
        ),
        "summary": summary,
        "error_ids": [f"enrol-{k}" for k in errors],
    }
    return render(request, "workspace/enrol.html", context, status=400 if summary else 200)
