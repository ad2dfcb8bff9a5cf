"""Production settings: gunicorn, Celery worker and beat behind a TLS-terminating proxy.

Checked by `DJANGO_SETTINGS_MODULE=config.settings.production manage.py check --deploy`.
"""

from __future__ import annotations

from config.settings.base import *
from config.settings.base import env

DEBUG = False
# No default: a missing secret stops start-up with ImproperlyConfigured naming the variable.
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

# DATABASES
# ------------------------------------------------------------------------------
# Reuse connections for a minute instead of one per request.
# https://docs.djangoproject.com/en/5.2/ref/settings/#conn-max-age
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# https://docs.djangoproject.com/en/5.2/ref/settings/#conn-health-checks
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# SECURITY
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
# The proxy in front terminates TLS and sets X-Forwarded-Proto; only trust it behind one.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-ssl-redirect
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# /healthz is probed over plain HTTP by load balancers inside the network.
# So is /metrics, by Prometheus inside the network (it sends its bearer token).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
# https://docs.djangoproject.com/en/5.2/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# EMAIL
# ------------------------------------------------------------------------------
# SMTP by default: base.py reads EMAIL_URL (default smtp://localhost:25) or the EMAIL_*
# variables; nothing to override here.
