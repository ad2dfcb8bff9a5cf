"""Who read or changed a patient's record, when and from where: for a privacy officer.

Read from the access audit (``api.audit`` writes it; partitioned by month, api/partitions.py)
newest first, by its ``(patient_id, at)`` index, a page at a time by keyset (``at``, ``id``):
no page reads more than its own rows, however many records the patient has. Its own
position (``after``), not ``api.pagination.KeysetPagination``: that pager walks ascending
orderings only, and this list is read newest first. Only users with
the ``api.view_accessrecord`` permission (a privacy officer's group, or a superuser) read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from api.models import AccessRecord
from episodes.models import Patient
from episodes.selectors import MAX_ID

PERMISSION: Final = "api.view_accessrecord"
PAGE_SIZE: Final = 50
# The CSV is read in batches of this many, each its own indexed query: memory stays flat
# with any number of records, and no server-side cursor is held (PgBouncer's transaction
# pooling cannot carry one across statements).
EXPORT_BATCH: Final = 2000
FIELDS: Final = ("id", "at", "username", "user_id", "action", "method", "path", "status_code",
                 "address", "episode_id")  # fmt: skip


def may_read(user: Any) -> bool:  # noqa: ANN401 - the auth user
    return bool(user.is_active and user.has_perm(PERMISSION))


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    # The keyset of the next (older) page, or None: this is the last.
    after: tuple[datetime, int] | None


def position(raw: str) -> tuple[datetime, int] | None:
    """A page link's ``after`` ("<at in ISO 8601>~<id>"), or None if it is not one."""
    at_text, _sep, id_text = raw.rpartition("~")
    if not (id_text.isascii() and id_text.isdigit() and 0 < int(id_text) <= MAX_ID):
        return None
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        return None
    return (at, int(id_text)) if at.tzinfo is not None else None


def after_text(after: tuple[datetime, int]) -> str:
    return f"{after[0].isoformat()}~{after[1]}"


def patient_named(patient_id: int) -> Patient | None:
    """The patient the records are about, whatever their team (the officer reads across teams)."""
    return Patient.objects.filter(pk=patient_id).first()


def patient_access(
    patient_id: int, *, after: tuple[datetime, int] | None = None, limit: int = PAGE_SIZE
) -> Page:
    """Up to ``limit`` records about the patient, newest first, older than ``after``."""
    records = AccessRecord.objects.filter(patient_id=patient_id)
    if after is not None:
        at, record_id = after
        # The row comparison (at, id) < (…), with at's plain bound for the index.
        records = records.filter(at__lte=at).exclude(at=at, id__gte=record_id)
    rows = list(records.order_by("-at", "-id").values(*FIELDS)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(records=rows, after=(rows[-1]["at"], rows[-1]["id"]) if more else None)


def patient_access_all(patient_id: int) -> Iterator[dict[str, Any]]:
    """Every record about the patient, newest first, read ``EXPORT_BATCH`` at a time."""
    after = None
    while True:
        page = patient_access(patient_id, after=after, limit=EXPORT_BATCH)
        yield from page.records
        if page.after is None:
            return
        after = page.after
