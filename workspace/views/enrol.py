"""Enrolment: a new patient and their episode in one form."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from api.audit import record_created
from api.serializers.inputs import EpisodeCreateInputSerializer, PatientCreateInputSerializer
from episodes import services
from episodes.models import CareTeam
from episodes.selectors import care_teams_for
from workspace import labels
from workspace.forms import (
    Field,
    build_fields,
    error_summary,
    label_for,
    message,
    service_errors,
    submitted,
    validate,
)
from workspace.views.common import signed_in

PREFIX = "enrol"
ENROL_EXCLUDE = ("patient", "care_team", "assigned_to")
CHOICE_LABELS = {"preferred_channel": labels.CHANNEL_OPTIONS}


def _team_fields(teams: list[CareTeam], value: str, errors: list[str]) -> list[Field]:
    """The care team to enrol into: asked only of a member of several."""
    if len(teams) < 2:  # noqa: PLR2004
        return []
    return [
        Field(
            name="care_team",
            label=label_for("care_team"),
            kind="select",
            required=True,
            id=f"{PREFIX}-care_team",
            value=value,
            choices=[(str(t.pk), t.name) for t in teams],
            errors=errors,
        )
    ]


def _default_zone(teams: list[CareTeam], team: CareTeam | None) -> str:
    """The care team's time zone; with several teams and none chosen, theirs if they agree."""
    if team is not None:
        return team.timezone
    zones = {t.timezone for t in teams}
    return zones.pop() if len(zones) == 1 else ""


@require_http_methods(["GET", "POST"])
@signed_in
def enrol(request: HttpRequest) -> HttpResponse:
    """A patient and their episode in one form, validated as the API validates both."""
    teams = list(care_teams_for(request.user))
    chosen = request.POST.get("care_team", "")
    team = next((t for t in teams if str(t.pk) == chosen), None)
    if team is None and len(teams) == 1:
        team = teams[0]
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
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
        if team is None:
            errors["care_team"] = [message("care_team", "required", "")]
        if not errors and patient_data is not None and episode_data is not None:
            episode_data.pop("patient")
            patient_data.setdefault("timezone", team.timezone)
            try:
                with transaction.atomic():
                    patient = services.patient_create(care_team=team, **patient_data)
                    created = services.episode_create(
                        patient=patient, by=request.user, **episode_data
                    )
            except ValidationError as exc:
                errors = service_errors(exc)
            else:
                record_created(request, patient.pk, created.pk)
                url = reverse("workspace:episode", args=[created.pk])
                return redirect(f"{url}?done=enrolled#top")
    values.setdefault("timezone", _default_zone(teams, team))
    team_fields = _team_fields(teams, chosen, errors.get("care_team", []))
    patient_fields = build_fields(
        PatientCreateInputSerializer,
        prefix=PREFIX,
        values=values,
        errors=errors,
        exclude=("care_team",),
        choice_labels=CHOICE_LABELS,
    )
    episode_fields = build_fields(
        EpisodeCreateInputSerializer,
        prefix=PREFIX,
        values=values,
        errors=errors,
        exclude=ENROL_EXCLUDE,
    )
    summary = error_summary([*team_fields, *patient_fields, *episode_fields], errors)
    context = {
        "teams": teams,
        "team_fields": team_fields,
        "patient_fields": patient_fields,
        "episode_fields": episode_fields,
        "summary": summary,
    }
    return render(request, "workspace/enrol.html", context, status=400 if summary else 200)
