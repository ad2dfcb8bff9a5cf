"""``/api/episodes/``: list, open, read, correct and assign episodes; the episode's body."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import record_created, record_shown
from api.pagination import KeysetPagination
from api.serializers.inputs import EpisodeCreateInputSerializer, EpisodeUpdateInputSerializer
from api.serializers.outputs import EpisodeOutputSerializer, EpisodeSummarySerializer
from api.serializers.plain import episode_output
from api.views.openapi import EPISODE_ID, errors
from careflow.states import State
from episodes import services
from episodes.models import Episode
from episodes.selectors import (
    MAX_ID,
    care_plan_for,
    episode_get_for,
    episode_list_for,
    episode_pathway_view,
    patient_get_for,
    red_flag_reports_to_review,
)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """An id in a query string: a whole number in range, or 400."""

    field_class = forms.IntegerField

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class EpisodeFilter(filters.FilterSet):
    """The list's filters; one named with no value is a 400, not a filter left out."""

    state = filters.ChoiceFilter(choices=[(s.value, s.value) for s in State])
    patient = IdFilter(field_name="patient_id")
    assigned_to = IdFilter(field_name="assigned_to_id")
    care_team = IdFilter(field_name="care_team_id")

    class Meta:
        model = Episode
        fields = ("state", "patient", "assigned_to", "care_team")

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and not self.data[name].strip():
                self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        return valid


def episode_body(episode: Episode) -> dict[str, Any]:
    """The episode representation (API.md): its columns plus what careflow computes."""
    body: dict[str, Any] = {
        name: getattr(episode, name)
        for name in (
            "id",
            "patient_id",
            "care_team_id",
            "assigned_to_id",
            "state",
            "version",
            "symptom_onset",
            "conservative_care_start",
            "enrolled_on",
            "next_deadline",
            "next_deadline_rule",
            "urgent_since",
            "created_at",
            "updated_at",
        )
    }
    body.update(episode_pathway_view(episode))
    body["red_flags"] = list(episode.red_flags.all())
    body["red_flag_reports"] = red_flag_reports_to_review(episode)
    body["care_plan"] = care_plan_for(episode)
    return body


def episode_response(
    user: Any,  # noqa: ANN401 - the auth user model
    episode_id: int,
    code: int = status.HTTP_200_OK,
) -> Response:
    """The episode as the user sees it now (fetched again after a write)."""
    episode = episode_get_for(user, episode_id)
    return Response(episode_output(episode_body(episode)), status=code)


class EpisodeListApi(GenericAPIView):
    pagination_class = KeysetPagination
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = EpisodeFilter

    def get_queryset(self) -> QuerySet[Episode]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Episode.objects.none()
        return episode_list_for(self.request.user).order_by("id")

    @extend_schema(responses={200: EpisodeSummarySerializer(many=True), **errors(400)})
    def get(self, request: Request) -> Response:
        episodes = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(episodes)
        record_shown(request, (episode.patient_id for episode in page))
        return self.get_paginated_response(
            EpisodeSummarySerializer(page, many=True, context={"request": request}).data
        )


class EpisodeCreateApi(APIView):
    @extend_schema(
        request=EpisodeCreateInputSerializer,
        responses={201: EpisodeOutputSerializer, **errors(400)},
    )
    def post(self, request: Request) -> Response:
        serializer = EpisodeCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        try:
            patient = patient_get_for(request.user, fields.pop("patient"))
        except Http404 as exc:
            raise serializers.ValidationError({"patient": ["No such patient."]}) from exc
        assignee = fields.pop("assigned_to", None)
        episode = services.episode_create(
            patient=patient, by=request.user, assigned_to=_user(assignee), **fields
        )
        record_created(request, patient.pk, episode.pk)
        return episode_response(request.user, episode.pk, status.HTTP_201_CREATED)


def _user(user_id: int | None) -> Any:  # noqa: ANN401 - the auth user model
    if user_id is None:
        return None
    from django.contrib.auth import get_user_model  # noqa: PLC0415 - needs the app registry

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise serializers.ValidationError(
            {"assigned_to": ["Not a member of the episode's care team."]}
        )
    return user


class EpisodesApi(EpisodeListApi, EpisodeCreateApi):
    """``/api/episodes/``: list (GET) and create (POST)."""


class EpisodeGetApi(APIView):
    @extend_schema(parameters=[EPISODE_ID], responses={200: EpisodeOutputSerializer, **errors()})
    def get(self, request: Request, episode_id: int) -> Response:
        return episode_response(request.user, episode_id)


class EpisodeUpdateApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        request=EpisodeUpdateInputSerializer,
        responses={200: EpisodeOutputSerializer, **errors(400, 409)},
    )
    def patch(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        serializer = EpisodeUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        reason = fields.pop("reason", "")
        version = fields.pop("version", None)
        if "assigned_to" in fields:
            fields["assigned_to"] = _user(fields["assigned_to"])
        services.episode_update(
            episode_id=episode.pk, by=request.user, fields=fields, reason=reason, version=version
        )
        return episode_response(request.user, episode.pk)


class EpisodeDetailApi(EpisodeGetApi, EpisodeUpdateApi):
    """``/api/episodes/{id}/``: read (GET) and correct or assign (PATCH)."""
