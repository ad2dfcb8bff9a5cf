"""A queue page through its one query answers what the summary serializer does."""

from __future__ import annotations

import json

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from api.serializers.outputs import EpisodeSummarySerializer
from episodes.models import Episode, ImagingStudy, RedFlag
from episodes.selectors import queue_episodes
from notifications.selectors import unread_replies
from tests.api.helpers import QUEUE_NAMES
from tests.clients import url
from tests.factories import bulk_episodes


@pytest.mark.parametrize("name", QUEUE_NAMES)
def test_a_queue_page_is_the_summary_serializers_output(as_user, clinician, team, name):
    bulk_episodes(team, clinician, 60)
    # Some flags ruled out, some episodes with two flags and two studies (order matters).
    RedFlag.objects.filter(episode__in=Episode.objects.all()[::5]).update(status="ruled_out")
    for episode in Episode.objects.all()[::3]:
        RedFlag.objects.create(
            episode=episode, sign="saddle_anesthesia", raised_on=episode.enrolled_on
        )
        ImagingStudy.objects.create(
            episode=episode, performed_on=episode.enrolled_on, level="L5-S1", modality="ct"
        )
    client = as_user(clinician)
    pages, path = [], url(f"queues/{name}/?page_size=7")
    while path:
        body = client.get(path).json()
        pages.extend(body["results"])
        path = body["next"]
    expected = EpisodeSummarySerializer(queue_episodes(name, user=clinician), many=True).data
    # A row's own ``reply`` (unread_replies) is the queue's column, not the episode's: the
    # summary fields are the serializer's, and the reply is the episode's oldest unread one.
    replies = {row["id"]: row.pop("reply") for row in pages if "reply" in row}
    assert pages == json.loads(JSONRenderer().render(expected))
    assert len(pages) > 0
    assert bool(replies) == (name == "unread_replies")
    for episode_id, reply in replies.items():
        oldest = unread_replies(episode_id).first()
        assert reply == {
            "id": oldest.pk,
            "text": oldest.body,
            "received_at": serializers.DateTimeField().to_representation(oldest.received_at),
        }


def test_a_queue_page_walks_back_as_it_walked_forward(as_user, clinician, team):
    bulk_episodes(team, clinician, 60)
    client = as_user(clinician)
    first = client.get(url("queues/overdue/?page_size=5")).json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert back["results"] == first["results"]
