"""What operations learns from Celery's signals, in every process that runs Celery.

- beat stamps the ``beat`` heartbeat when it sends a task (``before_task_publish`` in the
  process ``beat_init`` marked; at most every 10 s), so its age says how long beat has been
  silent; the
  ``heartbeat`` entry (every 30 s) makes sure it always has something to send;
- each beat job's success stamps its schedule entry's name (``task_success``): the
  ``careflow_job_last_success_timestamp_seconds`` gauge;
- every finished task counts in ``careflow_celery_tasks_total`` by name and state;
- a prefork child that exits gives back its live-gauge files (multiprocess mode).

A stamp that fails (database down) is logged and dropped: a heartbeat never stops beat.
"""

from __future__ import annotations

import logging
import math
import os
import time

from celery.signals import (
    beat_init,
    before_task_publish,
    task_failure,
    task_retry,
    task_success,
    worker_process_shutdown,
)
from django.db import DatabaseError, connection
from prometheus_client import multiprocess

from infra.metrics import CELERY_TASKS
from ops.heartbeats import BEAT, job_of_task
from ops.services import heartbeat_stamp

logger = logging.getLogger(__name__)

_in_beat = False


# Beat sends a few tasks a minute; one stamp per 10 s says as much, and with the database
# down costs beat at most one connect timeout (5 s) per 10 s instead of one per send.
BEAT_STAMP_EVERY_SECONDS = 10
_last_beat_stamp = -math.inf


def _stamp(name: str) -> None:
    try:
        heartbeat_stamp(name=name)
    except DatabaseError as exc:
        logger.warning("heartbeat %s not recorded (%s)", name, type(exc).__name__)
        # A broken connection is replaced on its next use, as after a request; never
        # inside someone's transaction.
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def _on_beat_init(**_: object) -> None:
    global _in_beat  # noqa: PLW0603 - one flag per process: is this process beat?
    _in_beat = True


def _on_publish(**_: object) -> None:
    global _last_beat_stamp  # noqa: PLW0603 - per process, as _in_beat
    if _in_beat and time.monotonic() - _last_beat_stamp >= BEAT_STAMP_EVERY_SECONDS:
        _last_beat_stamp = time.monotonic()
        _stamp(BEAT)


def _task_name(sender: object) -> str:
    return str(getattr(sender, "name", "") or "unknown")


def _on_success(sender: object = None, **_: object) -> None:
    name = _task_name(sender)
    CELERY_TASKS.labels(name, "success").inc()
    job = job_of_task(name)
    if job is not None:
        _stamp(job)


def _on_failure(sender: object = None, **_: object) -> None:
    CELERY_TASKS.labels(_task_name(sender), "failure").inc()


def _on_retry(sender: object = None, **_: object) -> None:
    CELERY_TASKS.labels(_task_name(sender), "retry").inc()


def _on_child_exit(pid: int | None = None, **_: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())


def connect() -> None:
    beat_init.connect(_on_beat_init, dispatch_uid="ops.beat_init")
    before_task_publish.connect(_on_publish, dispatch_uid="ops.before_task_publish")
    task_success.connect(_on_success, dispatch_uid="ops.task_success")
    task_failure.connect(_on_failure, dispatch_uid="ops.task_failure")
    task_retry.connect(_on_retry, dispatch_uid="ops.task_retry")
    worker_process_shutdown.connect(_on_child_exit, dispatch_uid="ops.worker_process_shutdown")
