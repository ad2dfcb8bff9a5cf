"""Keyset pages as one row comparison, ``(a, id) > (x, y)`` (fast at 1M): the same pages.

The cursor's condition is the row comparison PostgreSQL reads as one index range, not
``a > x OR (a = x AND id > y)``. Walking forward and back must give every queue's
rows once, in order, across ties on the ordering column (dates shared by many episodes).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes.selectors import queue_episodes
from tests.clients import url, walk_pages
from tests.factories import bulk_episodes


@pytest.mark.parametrize("name", ["urgent", "overdue", "due_soon", "reassessment_due", "esi"])
def test_pages_forward_and_back_are_the_queue_in_order(as_user, clinician, team, name):
    bulk_episodes(team, clinician, 60)  # next_deadline and reassessment_due_on repeat: ties
    expected = list(queue_episodes(name, user=clinician).values_list("id", flat=True))
    assert len(expected) > 6
    client = as_user(clinician)
    forward = walk_pages(client, url(f"queues/{name}/?page_size=3"), "next")
    assert [i for page in forward for i in page] == expected
    last = client.get(url(f"queues/{name}/?page_size=3")).json()
    while last["next"]:
        last = client.get(last["next"]).json()
    backward = walk_pages(client, last["previous"], "previous")
    assert [i for page in reversed(backward) for i in page] == expected[: -len(forward[-1])]
    assert all(len(page) == 3 for page in backward)


def test_a_cursor_on_two_columns_is_one_row_comparison(as_user, clinician, team):
    bulk_episodes(team, clinician, 20)
    client = as_user(clinician)
    second = client.get(url("queues/overdue/?page_size=2")).json()["next"]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(second).status_code == 200
    # The page's statement: the token check orders its team ids too, so not just "ORDER BY".
    page = next(q["sql"] for q in ctx.captured_queries if 'FROM "episodes_episode"' in q["sql"])
    assert '("episodes_episode"."next_deadline", "episodes_episode"."id") > (' in page
