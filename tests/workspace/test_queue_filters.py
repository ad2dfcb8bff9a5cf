"""The workspace's queue filters (mine, unassigned, state) read the rows the ORM's filters do.

On PostgreSQL, without a text search, the workspace reads its page through the API's
hand-written statement with the filters added (``queue_page_rows``, issue 16); elsewhere,
and with a search, through ``queue_rows`` filtered by the ORM. The two must show the same
episodes in the same order.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from episodes.selectors import queue_page_rows, queue_rows
from tests.api.test_queue_query_count import build
from tests.api.test_queues_api import QUEUE_NAMES

FILTERS = [
    ({}, {}),
    ({"assigned_to": "me"}, {"assigned_to_id": "me"}),
    ({"unassigned": True}, {"assigned_to__isnull": True}),
    ({"state": "conservative_care"}, {"state": "conservative_care"}),
    ({"assigned_to": "me", "state": "esi"}, {"assigned_to_id": "me", "state": "esi"}),
    ({"unassigned": True, "state": "imaging_eligible"},
     {"assigned_to__isnull": True, "state": "imaging_eligible"}),
]  # fmt: skip


def _with_me(filters: dict, me: int) -> dict:
    return {k: me if v == "me" else v for k, v in filters.items()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the hand-written page is PG's")
@pytest.mark.parametrize("name", QUEUE_NAMES)
def test_the_page_statement_with_filters_is_the_orms_rows(clinician, team, name):
    build(team, clinician, 60)
    now = timezone.now()
    for sql_filters, orm_filters in FILTERS:
        expected = list(
            queue_rows(name, user=clinician, now=now).filter(**_with_me(orm_filters, clinician.pk))
        )
        got = queue_page_rows(
            name,
            None,
            user=clinician,
            now=now,
            before=False,
            limit=1000,
            **_with_me(sql_filters, clinician.pk),
        )
        assert got == expected, (name, sql_filters)


def _shown(html: str) -> list[int]:
    """The episodes a queue page lists, in order (each row links its episode more than once)."""
    return list(dict.fromkeys(int(i) for i in re.findall(r'href="/episodes/(\d+)/"', html)))


@pytest.mark.parametrize(
    ("query", "orm_filters"),
    [
        ("show=mine", {"assigned_to_id": "me"}),
        ("show=unassigned", {"assigned_to__isnull": True}),
        ("state=esi", {"state": "esi"}),
        ("show=mine&state=esi", {"assigned_to_id": "me", "state": "esi"}),
        ("show=all", {}),
    ],
)
def test_a_filtered_workspace_page_lists_the_orms_first_rows(clinician, team, query, orm_filters):
    build(team, clinician, 60)
    browser = Client()
    browser.force_login(clinician)
    html = browser.get(f"/queues/due_soon/?{query}").content.decode()
    expected = list(
        queue_rows("due_soon", user=clinician)
        .filter(**_with_me(orm_filters, clinician.pk))
        .values_list("id", flat=True)[:25]
    )
    assert expected  # the filter leaves rows to show
    assert _shown(html) == expected
