"""The three statements of every queue page are prepared on PostgreSQL (infra/db.py).

The token check, the page and the read records' ``INSERT`` are sent bound server-side and
prepared once per connection, as are the fixed reads of ``rows_of`` (an episode's detail);
every other statement stays Django's (values spelled into the text, never prepared).
``CAREFLOW_DB_PREPARED_STATEMENTS=false`` (a pooler that cannot keep prepared statements)
sends them as Django's too. Both ways give the same page.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import AccessRecord
from episodes.models import Episode
from tests.clients import url
from tests.factories import bulk_episodes

TOKEN = 'SELECT t."digest"'  # noqa: S105 - the token check's statement, not a token
PAGE = 'SELECT "episodes_episode"."id" AS "id"'
INSERT = 'INSERT INTO "episodes_accessrecord"'


def prepared() -> dict[str, int]:
    """The prepared statements of the test's connection: their text's start, and times executed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        rows = cursor.fetchall()
    out: dict[str, int] = {}
    for statement, runs in rows:
        key = next((k for k in (TOKEN, PAGE, INSERT) if statement.startswith(k)), statement)
        out[key] = out.get(key, 0) + runs
    return out


def forget_prepared() -> None:
    """``DEALLOCATE ALL``: psycopg forgets its own record of them too (it reads the command)."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")


# `make chaos` runs these tests behind PgBouncer with the setting off from the start
# (tests/pooler/pgbouncer.py): then nothing is prepared, which the third test shows.
needs_prepared = pytest.mark.skipif(
    not settings.CAREFLOW_DB_PREPARED_STATEMENTS,
    reason="prepared statements are off for this run (CAREFLOW_DB_PREPARED_STATEMENTS=false)",
)


@pytest.fixture
def queue_client(as_user, clinician, team):
    bulk_episodes(team, clinician, 8)
    forget_prepared()
    return as_user(clinician)


@needs_prepared
def test_a_queue_page_prepares_its_three_statements_and_reuses_them(queue_client):
    for _ in range(3):
        assert queue_client.get(url("queues/overdue/?page_size=2")).status_code == 200
    runs = prepared()
    # Each prepared once on this connection, then executed again: three requests, three runs.
    assert runs == {TOKEN: 3, PAGE: 3, INSERT: 3}
    assert AccessRecord.objects.filter(action="read").count() == 3 * 2


@needs_prepared
def test_an_episode_read_prepares_its_fixed_reads_only(queue_client):
    for _ in range(6):  # past psycopg's default threshold of 5, were it counting
        first = Episode.objects.order_by("id").values_list("id", flat=True)[0]
        assert queue_client.get(url(f"episodes/{first}/")).status_code == 200
    runs = prepared()
    # The token check, and the episode with its flags, imaging and plan by their fixed
    # statements (episodes.selectors.prefetch.rows_of), each prepared once and run six
    # times; the rest of the page's statements are the ORM's, never prepared.
    fixed = {
        table: [n for statement, n in runs.items() if f'FROM "{table}" t' in statement]
        for table in (
            "episodes_episode",
            "episodes_redflag",
            "episodes_imagingstudy",
            "episodes_careplanitem",
        )
    }
    assert fixed == {table: [6] for table in fixed}
    assert runs[TOKEN] == 6
    assert len(runs) == 1 + len(fixed)


def test_with_the_setting_off_nothing_is_prepared_and_the_page_is_the_same(queue_client, settings):
    path = url("queues/overdue/?page_size=3")
    on = [queue_client.get(path).json() for _ in range(2)]
    settings.CAREFLOW_DB_PREPARED_STATEMENTS = False
    forget_prepared()
    off = [queue_client.get(path).json() for _ in range(2)]
    assert prepared() == {}
    assert [page["results"] for page in off] == [page["results"] for page in on]
    assert on[0]["results"]  # a page with rows, not two empty ones
    assert AccessRecord.objects.filter(action="read").count() == 4 * 3


def test_while_queries_are_logged_they_show_their_values(queue_client):
    with CaptureQueriesContext(connection) as ctx:
        assert queue_client.get(url("queues/overdue/?page_size=2")).status_code == 200
    statements = [q["sql"] for q in ctx.captured_queries]
    assert [s for s in statements if s.startswith((TOKEN, PAGE, INSERT))] == statements
    assert len(statements) == 3
    assert not any("$1" in s or "%s" in s for s in statements)
    assert "LIMIT 3" in next(s for s in statements if s.startswith(PAGE))
