"""The Celery application: `celery -A config worker` / `celery -A config beat`.

https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
"""

from __future__ import annotations

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("careflow")
# Every CELERY_* Django setting configures Celery (config/settings/base.py).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def config_loggers(*args: object, **kwargs: object) -> None:  # noqa: ARG001 - signal signature
    """Use Django's LOGGING for the worker and beat too, so every process logs alike."""
    from django.conf import settings  # noqa: PLC0415 - settings are ready only once Celery runs

    logging.config.dictConfig(settings.LOGGING)


@task_prerun.connect
@task_postrun.connect
def close_old_db_connections(sender: object = None, **kwargs: object) -> None:  # noqa: ARG001
    """Around each task, what Django does around each request (close_old_connections).

    A connection past CONN_MAX_AGE, or broken (an error, a failed health check), is
    closed; a sound one is kept. Celery's own close after every task is off
    (``CELERY_DB_REUSE_MAX``); with CONN_MAX_AGE 0 (local and test settings) this still
    closes after every task. Not for a task run eagerly (in the caller's process, maybe
    inside its transaction).
    """
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()
