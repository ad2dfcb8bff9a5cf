"""An episode's history: its timeline, its reminders, and its patient's SMS replies read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import record_patient
from api.serializers.outputs import (
    ReminderOutputSerializer,
    ReplyOutputSerializer,
    TimelineEventSerializer,
)
from api.views.openapi import EPISODE_ID, errors, id_param
from episodes.selectors import episode_get_for, episode_timeline
from notifications.selectors import episode_reminders, reply_get_for
from notifications.services import reply_mark_read


class EpisodeTimelineApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        responses={200: TimelineEventSerializer(many=True), **errors()},
    )
    def get(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        return Response(TimelineEventSerializer(episode_timeline(episode), many=True).data)


class EpisodeReminderListApi(APIView):
    @extend_schema(
        parameters=[EPISODE_ID],
        responses={200: ReminderOutputSerializer(many=True), **errors()},
    )
    def get(self, request: Request, episode_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        return Response(ReminderOutputSerializer(episode_reminders(episode), many=True).data)


class ReplyReadApi(APIView):
    @extend_schema(
        operation_id="episodes_replies_read",
        parameters=[EPISODE_ID, id_param("reply_id")],
        request=None,
        responses={200: ReplyOutputSerializer, **errors()},
        description="Mark the patient's SMS reply read (who and when are kept); one already"
        " read is answered as it is. Another care team's episode or reply is 404.",
    )
    def post(self, request: Request, episode_id: int, reply_id: int) -> Response:
        episode = episode_get_for(request.user, episode_id)
        reply = reply_get_for(episode, reply_id)
        record_patient(request, episode.patient_id)
        reply = reply_mark_read(episode_id=episode.pk, reply_id=reply.pk, by=request.user)
        return Response(ReplyOutputSerializer(reply).data)
