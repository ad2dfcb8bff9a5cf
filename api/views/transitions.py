"""``/api/episodes/{id}/transitions/{name}/``: the pathway's transitions (PATHWAY.md)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.audit import record_patient
from api.serializers.inputs import TRANSITION_INPUT, AnyTransitionInputSerializer
from api.serializers.outputs import EpisodeOutputSerializer
from api.serializers.plain import episode_output
from api.views.episodes import episode_body
from api.views.openapi import EPISODE_ID, errors
from careflow.states import TransitionName
from episodes import services
from episodes.selectors import episode_id_for
from episodes.selectors.prefetch import prefetch_rows


class EpisodeTransitionApi(APIView):
    @extend_schema(
        parameters=[
            EPISODE_ID,
            OpenApiParameter(
                "name",
                str,
                OpenApiParameter.PATH,
                enum=[t.value for t in TransitionName],
                description="The transition (PATHWAY.md); any other name is 404.",
            ),
        ],
        request=AnyTransitionInputSerializer,
        responses={200: EpisodeOutputSerializer, **errors(400, 409, 422)},
        description="Each transition reads its own fields (API.md); a failed one changes nothing.",
    )
    def post(self, request: Request, episode_id: int, name: str) -> Response:
        episode_id = episode_id_for(request.user, episode_id)
        try:
            transition = TransitionName(name)
        except ValueError as exc:
            msg = f"No transition named {name!r}."
            raise services.UnknownTransitionError(msg) from exc
        # The body the schema describes first (every transition's fields, each of its type):
        # a field this transition does not read is ignored, but never malformed. A body of
        # only this transition's own fields that its own input takes is one the union takes
        # too (each of the union's fields takes what the transition's own field of that name
        # takes), so the union is checked only for another body, and its errors come first.
        serializer = TRANSITION_INPUT[transition](data=request.data)
        if not (serializer.is_valid() and request.data.keys() <= serializer.fields.keys()):
            AnyTransitionInputSerializer(data=request.data).is_valid(raise_exception=True)
            serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        episode = services.episode_transition(
            episode_id=episode_id, name=transition, by=request.user, version=version, data=data
        )
        record_patient(request, episode.patient_id)
        prefetch_rows(episode, "care_plan")  # the answer's plan, read as the write's facts were
        # The episode as this write left it (committed): its columns, and the rows of its
        # facts read under the lock; a transition adds no red flag or study, so nothing is
        # read again but the care plan. Plain dicts, not the nested serializer:
        # the same JSON, tests/api/test_episode_output.py compares the two.
        return Response(episode_output(episode_body(episode)))
