"""Test settings: pytest (see pyproject.toml). DATABASE_URL and REDIS_URL come from the env.

`make test` runs the suite once, on PostgreSQL: the server DATABASE_URL names, or the one on
127.0.0.1:5432, or else an embedded one (scripts/test.sh).
"""

from __future__ import annotations

from config.settings.base import *
from config.settings.base import REST_KNOX, env

DEBUG = False
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="django-insecure-test-key-only-for-the-test-suite-0123456789",
)
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

# https://docs.djangoproject.com/en/5.2/topics/testing/overview/#password-hashing
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# https://docs.djangoproject.com/en/5.2/topics/email/#in-memory-backend
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Celery settings stay as in base: a real Redis broker, no eager mode. Tests that only need
# a task body run it directly; delivery tests use the `celery_worker_process` fixture.

# Redis database 1 by default, so a test worker never shares queues with a `make run`
# worker on database 0 of the same Redis (kombu prefixes broadcasts with the db number).
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/1")
CELERY_BROKER_URL = REDIS_URL

# Each test process gets its own cache: rate-limit counters never leak between test runs.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The suite makes thousands of API requests as a handful of users; tests of the limits set
# lower rates with the `settings` fixture (read per request: api/throttles.py).
CAREFLOW_API_RATES = {"user": "100000/minute", "anon": "100000/minute", "login": "100000/minute"}
# django-axes needs the request in authenticate(); Django's test Client.login() does not
# pass it. Lockout tests switch it back on with the `settings` fixture.
AXES_ENABLED = False

# Tests travel weeks through the pathway with one token; the expiry test sets a TTL back.
REST_KNOX = {**REST_KNOX, "TOKEN_TTL": None}
