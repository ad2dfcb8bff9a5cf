"""The access audit is partitioned by month (api/partitions.py).

Partitions are made ahead, a record is never lost for want of one, and months past the
retention are dropped whole.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction

from api import partitions
from api.models import AccessRecord
from api.tasks import maintain_audit_partitions


def _months() -> list[date]:
    with connection.cursor() as cursor:
        return partitions.months_present(cursor)


def _maintain(now: datetime, retention_months: int) -> partitions.Maintained:
    with transaction.atomic(), connection.cursor() as cursor:
        return partitions.maintain(cursor, now=now, retention_months=retention_months)


def _record(at: datetime, patient_id: int = 7) -> AccessRecord:
    record = AccessRecord.objects.create(
        username="u", action="read", method="GET", path="/x", status_code=200, patient_id=patient_id
    )
    AccessRecord.objects.filter(pk=record.pk).update(at=at)
    return record


def _where(record_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT tableoid::regclass::text FROM "{partitions.TABLE}" WHERE id = %s',  # noqa: S608 - a constant
            [record_id],
        )
        return cursor.fetchone()[0]


def test_the_migration_made_this_month_and_the_next_three(db):
    this_month = partitions.month_of(datetime.now(UTC))
    assert _months()[-4:] == [partitions.add_months(this_month, n) for n in range(4)]


def test_maintenance_makes_the_coming_months_and_nothing_twice(db):
    later = datetime.now(UTC) + timedelta(days=200)
    done = _maintain(later, retention_months=72)
    month = partitions.month_of(later)
    assert [partitions.add_months(month, n) for n in range(4)] == _months()[-4:]
    assert done.made  # at least the months beyond today's three ahead
    assert _maintain(later, retention_months=72).made == []


def test_a_record_of_a_month_without_partition_is_kept_and_moves_into_its_month(db):
    far = datetime.now(UTC) + timedelta(days=400)
    record = _record(far)
    assert _where(record.pk) == partitions.DEFAULT_PARTITION
    _maintain(far, retention_months=72)
    assert _where(record.pk) == partitions.partition_name(partitions.month_of(far))
    assert AccessRecord.objects.filter(pk=record.pk).exists()


def test_months_past_the_retention_are_dropped_whole_and_later_ones_kept(db):
    now = datetime.now(UTC)
    old_month = partitions.add_months(partitions.month_of(now), -14)
    with transaction.atomic(), connection.cursor() as cursor:
        partitions.make_month(cursor, old_month)
    old = _record(datetime(old_month.year, old_month.month, 10, tzinfo=UTC))
    in_default = _record(now - timedelta(days=800))  # no partition: in the default one
    recent = _record(now - timedelta(days=1))
    assert _where(old.pk) == partitions.partition_name(old_month)

    kept_all = _maintain(now, retention_months=72)
    assert kept_all.dropped == []
    assert AccessRecord.objects.filter(pk__in=[old.pk, in_default.pk, recent.pk]).count() == 3

    done = _maintain(now, retention_months=12)
    assert done.dropped == [old_month]
    assert done.default_rows_deleted == 1
    assert old_month not in _months()
    assert list(AccessRecord.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_beat_task_maintains_the_partitions(db, settings):
    settings.CAREFLOW_AUDIT_RETENTION_MONTHS = 1
    now = datetime.now(UTC)
    old_month = partitions.add_months(partitions.month_of(now), -3)
    with transaction.atomic(), connection.cursor() as cursor:
        partitions.make_month(cursor, old_month)
    maintain_audit_partitions()
    assert old_month not in _months()


@pytest.mark.parametrize(
    ("month", "count", "expected"),
    [(date(2026, 12, 1), 1, date(2027, 1, 1)), (date(2026, 1, 1), -1, date(2025, 12, 1))],
)
def test_months_are_added_across_years(month, count, expected):
    assert partitions.add_months(month, count) == expected
