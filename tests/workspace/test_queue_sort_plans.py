"""Each order a queue page can be read in is one keyset range of a per-team index.

With sorting and the table's scans forbidden, PostgreSQL still answers a page sorted by
days since onset or of conservative care, first and deep, from ``episode_team_onset`` /
``episode_team_care_start`` read in order from the cursor: no sort of the team's rows, so
page 1,000 costs what page 1 does (docs/decisions/0004).
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from episodes.selectors import SORTS, RowFilters, queue_page_rows
from tests.factories import bulk_episodes

INDEXES = {"onset": "episode_team_onset", "care": "episode_team_care_start"}


def page_statement(user, sort: str, position) -> str:
    with CaptureQueriesContext(connection) as queries:
        rows = queue_page_rows(
            "unassigned",
            position,
            user=user,
            now=timezone.now(),
            before=False,
            limit=25,
            filters=RowFilters(),
            ordering=SORTS[sort],
        )
    assert rows
    [statement] = [q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"]]
    return statement


def plan_of(sql: str) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("sort", list(SORTS))
def test_a_sorted_page_first_and_deep_is_an_ordered_range_of_its_index(
    coordinator, team, other_team, other_coordinator, sort
):
    bulk_episodes(team, coordinator, 120)
    bulk_episodes(other_team, other_coordinator, 40)
    first = page_statement(coordinator, sort, None)
    last = queue_page_rows(
        "unassigned", None, user=coordinator, now=timezone.now(), before=False, limit=40,
        ordering=SORTS[sort],
    )[-1]  # fmt: skip
    deep = page_statement(coordinator, sort, [last[column] for column in SORTS[sort]])
    for sql in (first, deep):
        plan = plan_of(sql)
        assert f"Index Scan using {INDEXES[sort]}" in plan, plan
        assert "Sort" not in plan.split("SubPlan")[0], plan
    columns = ", ".join(f'"episodes_episode"."{column}"' for column in SORTS[sort])
    assert f"({columns}) >" in deep  # the cursor: one row comparison
