"""A queue page costs the same few queries with 10 episodes or 200 (no N+1, no Python loop)."""

from __future__ import annotations

import pytest

from tests.api.helpers import QUEUE_NAMES
from tests.clients import url
from tests.factories import bulk_episodes

# Token lookup (user joined; knox's second query, the user's other tokens, is beat's job:
# api.authentication), the page (patients joined), red flags, imaging,
# and the access records of the patients shown (one multi-row INSERT, api/audit.py);
# and the user's team ids, read as values first so the page is an ordered range
# of a per-team index.
QUERY_BUDGET = 6
# A queue page is one query (red flags and imaging aggregated in it): the
# token, the team ids, the page, the access records; the token check reads the user's team
# ids with the token (api.authentication): three.
QUEUE_QUERY_BUDGET = 3


@pytest.mark.parametrize("n", [10, 200])
def test_every_queue_page_has_a_fixed_query_count(
    as_user, clinician, team, n, django_assert_max_num_queries
):
    bulk_episodes(team, clinician, n)
    client = as_user(clinician)
    sizes = {}
    for name in QUEUE_NAMES:
        with django_assert_max_num_queries(QUEUE_QUERY_BUDGET):
            response = client.get(url(f"queues/{name}/?page_size=100"))
        assert response.status_code == 200
        sizes[name] = len(response.json()["results"])
    with django_assert_max_num_queries(3):  # token (and team ids), team ids, aggregate
        counts = client.get(url("queues/")).json()
    assert {q["name"]: min(q["count"], 100) for q in counts} == sizes
    assert sizes["urgent"] > 0
    assert sizes["delivery_failures"] > 0
    assert sizes["unread_replies"] > 0
    assert sizes["mine"] > 0
    assert sizes["overdue"] > 0


@pytest.mark.parametrize("n", [10, 200])
def test_episode_list_page_has_a_fixed_query_count(
    as_user, coordinator, team, n, django_assert_max_num_queries
):
    bulk_episodes(team, coordinator, n)
    client = as_user(coordinator)
    with django_assert_max_num_queries(QUERY_BUDGET):
        first = client.get(url("episodes/?page_size=100")).json()
    assert len(first["results"]) == min(n, 100)
    if first["next"]:
        with django_assert_max_num_queries(QUERY_BUDGET):
            assert client.get(first["next"]).status_code == 200
