"""Settings of the worker, beat and dispatcher processes the fault tests start.

The test settings with mail to files (tests/notifications/worker_settings.py), and three
changes so a fault plays out in seconds and the processes behave like production's:

- beat's tick is ``CAREFLOW_CHAOS_BEAT_SECONDS`` (the real one is 60 s), still an interval
  on the DatabaseScheduler;
- ``CAREFLOW_CHAOS_BROKER_MAX_RETRIES`` bounds the worker's reconnect attempts, so a test can
  make it exit on broker loss and see its supervisor bring it back;
- database connections persist with health checks, as in config/settings/production.py,
  so a connection dropped under an idle process is met the way production meets it.
"""

from __future__ import annotations

from datetime import timedelta

from tests.notifications.worker_settings import *  # noqa: F403 - a settings layer
from tests.notifications.worker_settings import CAREFLOW_REMINDER_QUEUE, DATABASES, env

CELERY_BEAT_SCHEDULE = {
    "dispatch-reminders": {
        "task": "notifications.tasks.dispatch_due_reminders",
        "schedule": timedelta(seconds=env.float("CAREFLOW_CHAOS_BEAT_SECONDS", default=60)),
        "options": {"queue": CAREFLOW_REMINDER_QUEUE},
    },
}
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-connection-max-retries
CELERY_BROKER_CONNECTION_MAX_RETRIES = env.int("CAREFLOW_CHAOS_BROKER_MAX_RETRIES", default=100)
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# The web process of the Redis-down fault uses production's cache (infra/cache.py, on
# this Redis), so its limits meet the outage the way production's do.
if env.bool("CAREFLOW_CHAOS_REDIS_CACHE", default=False):
    from config.settings.base import CACHES as _PRODUCTION_CACHES
    from config.settings.base import REDIS_URL

    CACHES = {"default": {**_PRODUCTION_CACHES["default"], "LOCATION": REDIS_URL}}

# The email fault: the worker's Nth email written to the inbox, then its send hangs
# (tests/chaos/hanging_mail.py).
if env("CAREFLOW_CHAOS_EMAIL_HANG_ON", default=""):
    EMAIL_BACKEND = "tests.chaos.hanging_mail.EmailBackend"
# The email fault over Postmark: anymail's backend to the fake (ANYMAIL's token and API URL
# come from the environment, config/settings/base.py).
if env.bool("CAREFLOW_CHAOS_POSTMARK", default=False):
    EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
