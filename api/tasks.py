"""Celery tasks of the API: housekeeping on beat, carrying no patient data.

``delete_expired_tokens`` deletes the API tokens whose expiry has passed. They are refused
already (``api.authentication``); this keeps the table small, work knox would otherwise
do inside every request.
"""

from __future__ import annotations

import logging

from celery import shared_task

from api.authentication import delete_expired_tokens as _delete_expired_tokens

logger = logging.getLogger(__name__)


@shared_task(name="api.tasks.delete_expired_tokens", ignore_result=True)
def delete_expired_tokens() -> None:
    deleted = _delete_expired_tokens()
    logger.info("expired API tokens deleted count=%d", deleted)
