"""The episode as plain dicts (``episode_output``) renders byte for byte as the serializer does.

A transition's response (and every episode response) is built without the nested
``EpisodeOutputSerializer``; the OpenAPI schema still names it. Every episode here is
compared, rendered by the API's JSON renderer, against the serializer's output of the same
body: states along the pathway, red flags active and ruled out, imaging, care plan items
with and without flags, an assignee, an urgent episode, a terminal one.
"""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.renderers import JSONRenderer

from api.serializers.outputs import EpisodeOutputSerializer
from api.serializers.plain import episode_output
from api.views.episodes import episode_body
from episodes import services
from episodes.selectors import episode_get_for
from tests.clients import url
from tests.clock import at_day
from tests.factories import new_episode

RENDER = JSONRenderer().render


def assert_same(user, episode_id) -> bytes:
    body = episode_body(episode_get_for(user, episode_id))
    expected = RENDER(EpisodeOutputSerializer(body).data)
    assert RENDER(episode_output(body)) == expected
    return expected


def test_a_new_episode(coordinator, patient):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    with at_day(3):
        assert_same(coordinator, episode.pk)


def test_flags_imaging_and_a_care_plan(clinician, coordinator, patient):
    episode = new_episode(
        patient, coordinator, radicular_pain=True, disabling_pain=True, candidate_for_esi=True
    )
    with at_day(2):
        flag = services.red_flag_raise(episode_id=episode.pk, sign="fever", by=coordinator)
        services.red_flag_rule_out(
            flag_id=flag.pk, episode_id=episode.pk, by=clinician, note="afebrile"
        )
        services.red_flag_raise(episode_id=episode.pk, sign="urinary_retention", by=coordinator)
    with at_day(4):
        for item, extra in [
            ("nsaid", {"started_on": date(2026, 10, 2)}),
            ("pregabalin", {}),
            ("opioid_short_term", {"ended_on": date(2026, 10, 9)}),
            ("radiofrequency_ablation", {}),
            ("radiofrequency_ablation", {"positive_medial_branch_block": True}),
            ("mckenzie", {"note": "twice a day"}),
        ]:
            services.care_plan_item_add(episode_id=episode.pk, by=clinician, item=item, **extra)
    for day in (4, 20, 45):
        with at_day(day):
            assert_same(clinician, episode.pk)


@pytest.mark.parametrize(
    "case",
    [
        ("refer_to_specialist", {"radicular_pain": True, "disabling_pain": True}, 20),
        ("close", {"radicular_pain": True}, 10),
    ],
)
def test_a_transition_answers_what_the_serializer_would(as_user, coordinator, patient, case):
    name, facts, day = case
    episode = new_episode(patient, coordinator, **facts)
    body = {"version": episode.version}
    if name == "close":
        body["reason"] = "transferred"
    with at_day(day):
        response = as_user(coordinator).post(
            url(f"episodes/{episode.pk}/transitions/{name}/"), body, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.content == assert_same(coordinator, episode.pk)


def test_assigned_and_urgent(as_user, coordinator, clinician, patient):
    episode = new_episode(patient, coordinator, radicular_pain=True)
    client = as_user(coordinator)
    with at_day(1):
        assert (
            client.patch(
                url(f"episodes/{episode.pk}/"), {"assigned_to": clinician.pk}, format="json"
            ).status_code
            == 200
        )
        services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)
        response = client.get(url(f"episodes/{episode.pk}/"))
        assert response.json()["urgent_since"] is not None
        assert response.content == assert_same(coordinator, episode.pk)
