"""Celery tasks of the API: housekeeping on beat, carrying no patient data.

``delete_expired_tokens`` deletes the API tokens whose expiry has passed. They are refused
already (``api.authentication``); this keeps the table small, work knox would otherwise
do inside every request. ``maintain_audit_partitions`` makes the access audit's coming
months' partitions and drops those past the retention (api/partitions.py).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from api import partitions
from api.authentication import delete_expired_tokens as _delete_expired_tokens

logger = logging.getLogger(__name__)


@shared_task(name="api.tasks.delete_expired_tokens", ignore_result=True)
def delete_expired_tokens() -> None:
    deleted = _delete_expired_tokens()
    logger.info("expired API tokens deleted count=%d", deleted)


@shared_task(name="api.tasks.maintain_audit_partitions", ignore_result=True)
def maintain_audit_partitions() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        done = partitions.maintain(
            cursor,
            now=timezone.now(),
            retention_months=settings.CAREFLOW_AUDIT_RETENTION_MONTHS,
        )
    logger.info(
        "audit partitions made=%s dropped=%s default_rows_deleted=%d",
        [m.isoformat()[:7] for m in done.made],
        [m.isoformat()[:7] for m in done.dropped],
        done.default_rows_deleted,
    )
