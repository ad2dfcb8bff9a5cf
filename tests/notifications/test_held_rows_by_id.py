"""A batch finds its rows by id, whatever PostgreSQL's statistics say (at 1M).

"Still held by this batch" (``sending``, its claim, its lease) written as separate
conditions beside ``id IN (…)`` let PostgreSQL read the rows through the partial index
``reminder_sending_lease``: its statistics, taken when nothing was ``sending``, made that
index look empty, and during a burst it holds an entry for every row claimed since the
last vacuum. At 1M a chunk's begin read all 944 pages of it, 3.6 ms a chunk against 0.8 ms
by the primary key. ``attempts.held_by`` and ``batch.HOLD`` write the test as one CASE,
which implies no index's predicate. These tests show the hazard with the separate
conditions, and its absence with the CASE, on the same table and statistics.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from episodes.selectors import patient_today
from notifications.delivery.attempts import held_by
from notifications.delivery.batch import HOLD, hold_params
from notifications.delivery.rows import delivery_rows
from notifications.models import Reminder
from tests.factories import PatientFactory
from tests.notifications.helpers import enroll

ROWS = 20_000
CLAIM = "c" * 32


def _table_as_between_bursts(team, by) -> list[int]:
    """ROWS reminders, statistics taken with none ``sending``; then a batch claims 20."""
    patient = PatientFactory(care_team=team)
    episode = enroll(patient, by, onset=patient_today(patient), on=patient_today(patient))
    table = Reminder._meta.db_table  # noqa: SLF001
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (episode_id, milestone, audience, channel, milestone_date,"  # noqa: S608
            " due_at, next_attempt_at, status, attempts, claim_token, last_error,"
            " status_reason, provider_message_id, created_at, updated_at)"
            " SELECT %s, 'load-' || n, 'patient', 'sms', now()::date, now() + interval '30 days',"
            " now() + interval '30 days', 'sent', 1, '', '', '', '', now(), now()"
            " FROM generate_series(1, %s) AS n",
            [episode.pk, ROWS],
        )
        cursor.execute(f"ANALYZE {table}")
    ids = list(
        Reminder.objects.filter(milestone__startswith="load-")
        .order_by("pk")[:20]
        .values_list("pk", flat=True)
    )
    Reminder.objects.filter(pk__in=ids).update(
        status="sending", claim_token=CLAIM, lease_expires_at=timezone.now() + timedelta(minutes=5)
    )
    return ids


def _plan(sql: str, params: list[object]) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_chunks_begin_reads_its_rows_by_primary_key(team, coordinator):
    ids = _table_as_between_bursts(team, coordinator)
    sendable = list(delivery_rows(ids).values())
    sql, params = HOLD, hold_params(sendable, CLAIM, timezone.now())

    plan = _plan(sql, params)
    assert "notifications_reminder_pkey" in plan, plan
    assert "reminder_sending_lease" not in plan, plan

    # The same statement with the test as separate conditions: the partial index.
    separate = sql.replace("AND CASE WHEN status", "AND status").replace(
        " THEN TRUE ELSE FALSE END", ""
    )
    assert separate != sql
    assert "reminder_sending_lease" in _plan(separate, params)


def test_a_rows_held_filter_reads_by_primary_key(team, coordinator):
    ids = _table_as_between_bursts(team, coordinator)
    now = timezone.now()

    held = Reminder.objects.filter(held_by(CLAIM, now=now), pk__in=ids).values("pk")
    plan = _plan(*held.query.sql_with_params())
    assert "notifications_reminder_pkey" in plan, plan
    assert "reminder_sending_lease" not in plan, plan
    assert held.count() == 20
    # A row of another claim, or past its lease, is not held.
    Reminder.objects.filter(pk=ids[0]).update(claim_token="other")
    Reminder.objects.filter(pk=ids[1]).update(lease_expires_at=now - timedelta(seconds=1))
    assert held.count() == 18
    assert Reminder.objects.filter(held_by(CLAIM), pk__in=ids).count() == 19  # lease unchecked

    separate = Reminder.objects.filter(
        pk__in=ids, status="sending", claim_token=CLAIM, lease_expires_at__gt=now
    ).values("pk")
    assert "reminder_sending_lease" in _plan(*separate.query.sql_with_params())
