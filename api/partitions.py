"""The access audit's monthly partitions: made ahead of time, aged out whole.

``episodes_accessrecord`` is a PostgreSQL table partitioned by range of ``at``, one
partition a month (UTC) named ``episodes_accessrecord_yYYYYmMM``, and a default partition
that catches a record whose month has no partition yet, so an access is never lost for
want of one. Beat runs ``maintain`` daily (``api.tasks.maintain_audit_partitions``): the
coming months' partitions are made (any rows the default partition holds for such a month
move into it), and a month whose every record is older than the retention
(``CAREFLOW_AUDIT_RETENTION_MONTHS``, six years by default) is dropped as a table: no
DELETE of millions of rows, no bloat, no vacuum.

https://www.postgresql.org/docs/current/ddl-partitioning.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

TABLE: Final = "episodes_accessrecord"
DEFAULT_PARTITION: Final = f"{TABLE}_default"
# Months made ahead of the current one: beat may be down for weeks without a month landing
# in the default partition.
MONTHS_AHEAD: Final = 3
NAME = re.compile(rf"^{TABLE}_y(\d{{4}})m(\d{{2}})$")
# A partition is made or dropped under a lock on the table; waiting longer than this for
# it would hold up every request's access record behind it. Tried again the next day.
LOCK_TIMEOUT: Final = "5s"


def month_of(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).date()
    return moment.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def _bound(month: date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def months_present(cursor: Any) -> list[date]:  # noqa: ANN401 - a DB-API cursor
    """The months that have a partition, oldest first."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass",
        [TABLE],
    )
    months = []
    for (name,) in cursor.fetchall():
        match = NAME.match(name)
        if match:
            months.append(date(int(match[1]), int(match[2]), 1))
    return sorted(months)


def make_month(cursor: Any, month: date) -> None:  # noqa: ANN401 - a DB-API cursor
    """The partition of ``month``, with any rows the default partition holds for it.

    Run inside a transaction: the rows leave the default partition and enter the new one
    in the same commit (PostgreSQL refuses a partition whose rows the default still holds).
    """
    lower, upper = _bound(month), _bound(add_months(month, 1))
    name = partition_name(month)
    _settle(cursor)
    cursor.execute(
        f'CREATE TEMPORARY TABLE careflow_moving (LIKE "{DEFAULT_PARTITION}") ON COMMIT DROP'
    )
    cursor.execute(
        f'WITH moved AS (DELETE FROM "{DEFAULT_PARTITION}" WHERE "at" >= %s AND "at" < %s'  # noqa: S608 - fixed names; values are parameters
        " RETURNING *) INSERT INTO careflow_moving SELECT * FROM moved",
        [lower, upper],
    )
    cursor.execute(
        f'CREATE TABLE "{name}" PARTITION OF "{TABLE}"'
        f" FOR VALUES FROM ('{lower}') TO ('{upper}')"
    )
    cursor.execute(f'INSERT INTO "{TABLE}" SELECT * FROM careflow_moving')  # noqa: S608 - fixed names
    cursor.execute("DROP TABLE careflow_moving")


def _settle(cursor: Any) -> None:  # noqa: ANN401 - a DB-API cursor
    """Before a partition's DDL: a bounded wait for its lock, and no deferred check pending.

    PostgreSQL refuses to create or drop a table with foreign-key checks still queued in the
    transaction (the audit's user key is deferred); they are run now instead.
    """
    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@dataclass(frozen=True)
class Maintained:
    made: list[date]
    dropped: list[date]
    default_rows_deleted: int


def maintain(cursor: Any, *, now: datetime, retention_months: int) -> Maintained:  # noqa: ANN401 - a DB-API cursor
    """Make this month's and the next ``MONTHS_AHEAD`` months' partitions; drop expired ones.

    A month is dropped once its last moment is more than ``retention_months`` ago; records
    of such months left in the default partition are deleted. Run inside a transaction.
    """
    this_month = month_of(now)
    present = set(months_present(cursor))
    made = []
    for ahead in range(MONTHS_AHEAD + 1):
        month = add_months(this_month, ahead)
        if month not in present:
            make_month(cursor, month)
            made.append(month)
    # The first month kept: every record of an earlier month is older than the retention.
    kept_from = add_months(this_month, -retention_months)
    dropped = [month for month in sorted(present) if add_months(month, 1) <= kept_from]
    if dropped:
        _settle(cursor)
    for month in dropped:
        cursor.execute(f'DROP TABLE "{partition_name(month)}"')
    cursor.execute(
        f'DELETE FROM "{DEFAULT_PARTITION}" WHERE "at" < %s',  # noqa: S608 - a fixed name
        [_bound(kept_from)],
    )
    return Maintained(made=made, dropped=dropped, default_rows_deleted=cursor.rowcount)
