"""``/api/queues/``: the work queues, their counts and their pages of episodes."""

from __future__ import annotations

from functools import partial

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import record_shown
from api.pagination import KeysetPagination
from api.serializers.outputs import EpisodeSummarySerializer, QueueCountSerializer
from api.serializers.plain import episode_summaries
from api.views.openapi import errors
from episodes.models import Episode
from episodes.selectors import (
    QUEUES,
    queue_counts,
    queue_episodes,
    queue_get,
    queue_page_rows,
)


class QueueListApi(APIView):
    @extend_schema(responses={200: QueueCountSerializer(many=True), **errors()})
    def get(self, request: Request) -> Response:
        return Response(QueueCountSerializer(queue_counts(user=request.user), many=True).data)


class QueueEpisodeListApi(GenericAPIView):
    pagination_class = KeysetPagination

    def get_queryset(self) -> QuerySet[Episode]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Episode.objects.none()
        return queue_episodes(self.kwargs["name"], user=self.request.user)

    @extend_schema(
        operation_id="queues_episodes_list",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(QUEUES))],
        responses={200: EpisodeSummarySerializer(many=True), **errors(400)},
    )
    def get(self, request: Request, name: str) -> Response:
        # One statement for the page (queue_page_rows) and one pass over its rows: plain
        # dicts with the summary serializer's output, which the schema above describes.
        now = timezone.now()
        queue = queue_get(name)  # 404 for an unknown queue, before the cursor is read
        page = self.paginator.paginate_rows(
            partial(queue_page_rows, name, user=request.user, now=now),
            ordering=queue.ordering,
            model=Episode,
            request=request,
        )
        record_shown(request, (row["patient_id"] for row in page))
        return self.get_paginated_response(episode_summaries(page, now))
