"""Development settings: `make run`, `python manage.py ...` on a developer machine."""

from __future__ import annotations

import os

from config.settings.base import *
from config.settings.base import REST_FRAMEWORK, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="django-insecure-local-development-key-never-use-in-production",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

if (
    DEBUG
    and "rest_framework.renderers.BrowsableAPIRenderer"
    not in (REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"])
):
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer",
    )

# Mail goes to files in var/mail unless an EMAIL_URL / EMAIL_BACKEND is given.
if "EMAIL_URL" not in os.environ and "EMAIL_BACKEND" not in os.environ:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
