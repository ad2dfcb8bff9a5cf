"""Operations' writes: heartbeats and the idempotency keys' housekeeping, each one transaction.

Expired API tokens are deleted by the API's own beat job (``api.tasks.delete_expired_tokens``);
its last success is recorded here like every beat job's (``ops.celery_hooks``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.models import IdempotentRequest
from ops.models import Heartbeat


@transaction.atomic
def heartbeat_stamp(*, name: str, at: datetime | None = None) -> None:
    """Record that ``name`` was alive at ``at`` (now): one upsert."""
    at = at or timezone.now()
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=at)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["at"],
    )


@transaction.atomic
def idempotency_keys_prune(*, now: datetime | None = None) -> int:
    """Delete the stored answers of ``Idempotency-Key`` requests older than the retention.

    A retry comes within minutes; a key older than ``CAREFLOW_IDEMPOTENCY_RETENTION_HOURS``
    (24 by default, as Stripe keeps keys) runs again as a new request. A row still running
    (no answer) older than that died long ago (it frees its key after five minutes anyway).
    The table has no index on ``created_at``: it holds about a day's keyed POSTs, and one
    sequential read an hour costs less than an index written on every keyed POST.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.CAREFLOW_IDEMPOTENCY_RETENTION_HOURS)
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
