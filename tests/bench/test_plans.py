"""``bench.plans`` reads a queue page's real plan: its statement as the API sends it, summarised."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from knox.models import AuthToken

from bench.plans import page_sql, summary
from episodes.selectors import queue_episodes
from tests.factories import bulk_episodes


def test_a_queue_pages_plan_is_summarised(clinician, team):
    bulk_episodes(team, clinician, 60)
    token = AuthToken.objects.create(user=clinician)[1]
    sql = page_sql(Client(), "/api/queues/delivery_failures/?page_size=25", token)
    assert 'FROM "episodes_episode"' in sql
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0][0]
    found = summary(plan)
    expected = queue_episodes("delivery_failures", user=clinician).count()
    assert 0 < expected <= 25
    assert found["returned"] == expected
    assert found["read"] >= expected
    assert any("episodes_episode" in node or "episode_" in node for node in found["nodes"])
    assert found["ms"] >= 0
    assert found["planning_ms"] >= 0
