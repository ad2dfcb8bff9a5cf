"""Beat's dispatch costs what the due rows cost, not what the episodes cost."""

from __future__ import annotations

from datetime import date

import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications.delivery.claims import DispatchCounts, claim_and_enqueue, drain_due, due_rows
from notifications.models import Reminder
from tests.clock import local
from tests.factories import PatientFactory
from tests.notifications.helpers import enroll, run_cycle

ONSET = date(2026, 3, 2)
QUIET_MOMENT = local(date(2026, 3, 5), 12)  # nothing due yet


def _episodes(team, by, count):
    for _ in range(count):
        enroll(PatientFactory(care_team=team), by, onset=ONSET, on=ONSET)


def _queries_of_a_cycle(at) -> int:
    with CaptureQueriesContext(connection) as queries:
        run_cycle(at)
    return len(queries)


def test_an_idle_cycle_costs_the_same_with_five_or_forty_episodes(team, coordinator):
    _episodes(team, coordinator, 5)
    few = _queries_of_a_cycle(QUIET_MOMENT)
    _episodes(team, coordinator, 35)

    assert _queries_of_a_cycle(QUIET_MOMENT) == few
    assert few <= 8  # the reclaim's scan, the count of rows in flight, the claim


def test_a_busy_cycle_grows_with_the_due_rows_not_with_the_other_episodes(
    settings, team, coordinator
):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 50
    _episodes(team, coordinator, 3)  # 6 rows due on 16 March
    due_moment = local(date(2026, 3, 16), 9)
    with time_machine.travel(due_moment, tick=False), CaptureQueriesContext(connection) as queries:
        drain_due(enqueue=lambda *_: None)
    claim_queries = len(queries)
    assert Reminder.objects.filter(status="sending").count() == 6
    # Forty more episodes whose reminders are months away change nothing.
    for _ in range(40):
        enroll(
            PatientFactory(care_team=team),
            coordinator,
            onset=date(2026, 3, 10),
            on=date(2026, 3, 10),
        )
    Reminder.objects.filter(status="sending").update(status="scheduled", claim_token="")
    with time_machine.travel(due_moment, tick=False), CaptureQueriesContext(connection) as queries:
        drain_due(enqueue=lambda *_: None)
    assert len(queries) == claim_queries


def test_the_scan_reads_the_partial_index_of_due_scheduled_rows(team, coordinator):
    _episodes(team, coordinator, 3)
    query = due_rows(QUIET_MOMENT)
    with transaction.atomic(), connection.cursor() as cursor:
        # Tiny tables would be scanned whole; forbid that to see the index is usable.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert "reminder_due_scheduled" in plan


def test_a_claim_is_one_statement_and_takes_at_most_a_batch(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 4
    _episodes(team, coordinator, 5)  # 10 rows due on 16 March
    batches: list[list[int]] = []
    due_moment = local(date(2026, 3, 16), 9)
    with time_machine.travel(due_moment, tick=False), CaptureQueriesContext(connection) as queries:
        claim_and_enqueue(
            enqueue=lambda ids, _: batches.append(ids), now=None, counts=DispatchCounts()
        )
    claims = [q["sql"] for q in queries if "UPDATE" in q["sql"]]
    assert len(claims) == 1
    assert "FOR UPDATE SKIP LOCKED" in claims[0]
    # The limit holds (the pick runs once, not again per row of the update).
    assert [len(ids) for ids in batches] == [4]
    assert Reminder.objects.filter(status="sending").count() == 4
    assert set(Reminder.objects.filter(status="sending").values_list("pk", flat=True)) == set(
        batches[0]
    )


def test_the_reminder_table_is_vacuumed_after_a_mornings_churn(db):
    """Migration 0006: autovacuum after 1 % of the rows are dead, not PostgreSQL's 20 %."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE oid = %s::regclass",
            [Reminder._meta.db_table],  # noqa: SLF001
        )
        (options,) = cursor.fetchone()
    assert "autovacuum_vacuum_scale_factor=0.01" in (options or [])
    assert "autovacuum_vacuum_threshold=1000" in (options or [])
