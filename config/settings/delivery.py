"""Careflow's reminders: quiet hours, channels, dispatch, and their providers (Twilio, email).

Read into every environment's settings through ``config.settings.base``; each value comes
from the environment (README.md, "Configuration").
"""

from __future__ import annotations

from config.settings.environment import VAR_DIR, env

# Reminders due in quiet hours (patient's local time, [start, end)) wait until the end.
CAREFLOW_QUIET_HOURS_START = env.int("CAREFLOW_QUIET_HOURS_START", default=20)
CAREFLOW_QUIET_HOURS_END = env.int("CAREFLOW_QUIET_HOURS_END", default=8)
CAREFLOW_CHECKIN_TOKEN_MAX_AGE_DAYS = env.int("CAREFLOW_CHECKIN_TOKEN_MAX_AGE_DAYS", default=14)
# The delivery channels (notifications/channels/), by dotted path; the first is the default
# (the care team's, and a patient's whose preferred channel cannot reach them).
CAREFLOW_CHANNELS = env.list(
    "CAREFLOW_CHANNELS",
    default=[
        "notifications.channels.email.EmailChannel",
        "notifications.channels.sms.SmsChannel",
    ],
)
CAREFLOW_SMS_BACKEND = env(
    "CAREFLOW_SMS_BACKEND",
    default="notifications.channels.sms.FileSmsBackend",
)
CAREFLOW_SMS_FILE_PATH = env.path("CAREFLOW_SMS_FILE_PATH", default=VAR_DIR / "sms")
# Bounded so one slow provider call cannot outlive the reminder's lease (below).
CAREFLOW_SMS_TIMEOUT_SECONDS = env.int("CAREFLOW_SMS_TIMEOUT_SECONDS", default=10)
# Reminder dispatch (notifications/delivery/claims.py, docs/REMINDERS.md). A claimed row is
# `sending` under a lease; a row still `sending` after its lease (worker killed, Redis
# restarted) is reclaimed; the provider is asked whether it took it before any re-send
# (reconciliation: the lease is also how long Twilio's list has had to show it). A chunk's
# begin renews the lease when less than 3/4 of it is left, so every chunk starts with at
# least 3/4 of it (225 s), which must exceed a chunk's sends (20 x EMAIL_TIMEOUT or
# CAREFLOW_SMS_TIMEOUT_SECONDS = 200 s).
CAREFLOW_REMINDER_LEASE_SECONDS = env.int("CAREFLOW_REMINDER_LEASE_SECONDS", default=300)
# Rows per claim and per worker task: 100, so a claim, a task message, a connection and the
# batch's reads serve 100 reminders rather than 20. A batch at the
# SMS/email timeouts still ends inside CELERY_TASK_SOFT_TIME_LIMIT: it begins no chunk
# after CAREFLOW_REMINDER_BATCH_SECONDS (below).
CAREFLOW_REMINDER_BATCH_SIZE = env.int("CAREFLOW_REMINDER_BATCH_SIZE", default=100)
# A batch begins no chunk after this many seconds: the rows it has not begun are scheduled
# again at once (no attempt was made), so a batch ends inside the soft time limit (240 s)
# whatever its size: the last chunk's sends (20 x 10 s) fit in what is left.
CAREFLOW_REMINDER_BATCH_SECONDS = env.int("CAREFLOW_REMINDER_BATCH_SECONDS", default=30)
# Set-based delivery (notifications/delivery/batch.py): a worker begins, sends and finishes
# a batch in chunks of one channel; a crash leaves the chunk being sent in doubt (each row
# reconciled with the provider before any re-send). SMS: Twilio's list is asked per row, so
# a chunk costs nothing at the phone but list calls. Email over SMTP cannot be asked: a
# crash re-sends the email in doubt, so SMTP sends one email a chunk, at most one in doubt
# at a time (docs/decisions/0006-duplicate-sends-after-a-crash.md); raising it trades
# that many possible duplicates per crash for throughput.
CAREFLOW_REMINDER_CHUNK_SMS = env.int("CAREFLOW_REMINDER_CHUNK_SMS", default=20)
CAREFLOW_REMINDER_CHUNK_EMAIL = env.int("CAREFLOW_REMINDER_CHUNK_EMAIL", default=20)  # Postmark
CAREFLOW_REMINDER_CHUNK_SMTP = env.int("CAREFLOW_REMINDER_CHUNK_SMTP", default=1)
# Back-pressure (notifications/delivery/claims.py): beat's cycle claims while fewer rows than
# this are claimed and unfinished; each finished batch claims the next, so a burst drains at
# the workers' speed.
CAREFLOW_DISPATCH_MAX_IN_FLIGHT = env.int("CAREFLOW_DISPATCH_MAX_IN_FLIGHT", default=1000)
# Transient errors retry by rescheduling the row: base x 2^(n-1), capped, with jitter.
CAREFLOW_REMINDER_MAX_ATTEMPTS = env.int("CAREFLOW_REMINDER_MAX_ATTEMPTS", default=5)
CAREFLOW_REMINDER_RETRY_BASE_SECONDS = env.int("CAREFLOW_REMINDER_RETRY_BASE_SECONDS", default=60)
CAREFLOW_REMINDER_RETRY_MAX_SECONDS = env.int("CAREFLOW_REMINDER_RETRY_MAX_SECONDS", default=3600)
# The Celery queue reminder tasks are sent to ("celery" is Celery's default queue, which
# `celery -A config worker` consumes); a site may give reminders their own workers.
CAREFLOW_REMINDER_QUEUE = env("CAREFLOW_REMINDER_QUEUE", default="celery")
# Base of the links sent to patients (check-in); no trailing slash.
CAREFLOW_PUBLIC_BASE_URL = env("CAREFLOW_PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_BASE_URL = env("TWILIO_BASE_URL", default="https://api.twilio.com")
# Connections the twilio library retries when it could not open one (nothing was sent).
TWILIO_HTTP_RETRIES = env.int("TWILIO_HTTP_RETRIES", default=2)
# Where Twilio posts status callbacks (and, set on the number, inbound messages): the
# public URL Twilio signs. Empty: no status callback is asked for.
TWILIO_STATUS_CALLBACK_URL = env(
    "TWILIO_STATUS_CALLBACK_URL",
    default=f"{CAREFLOW_PUBLIC_BASE_URL.rstrip('/')}/webhooks/twilio/status/",
)
