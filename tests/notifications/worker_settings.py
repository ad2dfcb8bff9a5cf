"""Settings of the Celery workers the delivery tests start: the test settings, mail to files.

The worker is another process, so the tests cannot read its locmem outbox; the file
backend writes each message where the test can count them (CAREFLOW_TEST_EMAIL_DIR).
"""

from __future__ import annotations

from config.settings.test import *  # noqa: F403 - a settings layer
from config.settings.test import env

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env("CAREFLOW_TEST_EMAIL_DIR")
