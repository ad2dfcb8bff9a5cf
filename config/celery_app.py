"""The Celery application: `celery -A config worker` / `celery -A config beat`.

https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
"""

from __future__ import annotations

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

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
