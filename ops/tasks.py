"""Beat's operations jobs: thin, no arguments, each calls one service."""

from __future__ import annotations

import logging

from celery import shared_task

from ops.heartbeats import WORKER
from ops.services import heartbeat_stamp, idempotency_keys_prune

logger = logging.getLogger(__name__)


@shared_task(name="ops.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """A worker took a task from the broker and reached the database: it is alive."""
    heartbeat_stamp(name=WORKER)


@shared_task(name="ops.tasks.prune_idempotency_keys", ignore_result=True)
def prune_idempotency_keys() -> None:
    deleted = idempotency_keys_prune()
    logger.info("idempotency keys pruned count=%d", deleted)
