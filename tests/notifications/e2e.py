"""Helpers for the end-to-end delivery tests: real worker, real Redis, the test database."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings

from config.celery_app import app as celery_app
from episodes import services
from notifications.models import Reminder

MESSAGE_ID = re.compile(r"^Message-ID: <(reminder-\d+)@", re.MULTILINE)
DONE = ("sent", "failed", "cancelled", "skipped")


def daytime_zone() -> str:
    """A fixed-offset zone where it is about 13:00 now: far from quiet hours either side."""
    hour = datetime.now(UTC).hour
    offset = 13 - hour
    if offset < -12:  # Etc/GMT zones run from UTC-12 to UTC+14
        offset += 24
    # Etc/GMT signs are inverted (POSIX): Etc/GMT-3 is UTC+3.
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def enrol_15_days_after_onset(patient, by):
    today = datetime.now(ZoneInfo(patient.timezone)).date()
    return services.episode_create(patient=patient, by=by, symptom_onset=today - timedelta(days=15))


def wait_until_done(ids: list[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while Reminder.objects.filter(pk__in=ids).exclude(status__in=DONE).exists():
        if time.monotonic() > deadline:
            rows = list(Reminder.objects.filter(pk__in=ids).values_list("pk", "status"))
            pytest.fail(f"reminders not delivered within {timeout} s: {rows}")
        time.sleep(0.1)


def drain(worker, queue: str, timeout: float = 30) -> None:
    """Wait until the queue is empty and the worker runs nothing.

    A solo-pool worker answers control messages only between tasks, so its answer that
    nothing is active means the task before it has finished.
    """
    client = redis.Redis.from_url(settings.REDIS_URL)
    deadline = time.monotonic() + timeout
    while True:
        active = celery_app.control.inspect([worker.hostname], timeout=2).active() or {}
        if client.llen(queue) == 0 and not any(active.values()) and active:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"worker still busy after {timeout} s")
        time.sleep(0.1)


def sms_files(path: Path) -> Counter:
    return Counter(
        json.loads(f.read_text())["idempotency_key"] for f in path.glob("reminder-*.json")
    )


def email_messages(path: Path) -> Counter:
    found: Counter = Counter()
    for f in path.glob("*.log"):
        found.update(MESSAGE_ID.findall(f.read_text()))
    return found


def new_queue() -> str:
    return f"pytest-reminders-{uuid.uuid4().hex[:8]}"


def file_delivery_worker(celery_worker_factory, settings, tmp_path: Path, **extra_env: str):
    """A worker on a queue of its own, SMS and email to files under ``tmp_path``.

    Returns (worker, queue, sms_dir, mail_dir); ``extra_env`` adds to or overrides the
    worker's environment (another DATABASE_URL, say).
    """
    queue = new_queue()
    settings.CAREFLOW_REMINDER_QUEUE = queue
    sms_dir, mail_dir = tmp_path / "sms", tmp_path / "mail"
    worker = celery_worker_factory(
        queue=queue,
        extra_env={
            "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
            "CAREFLOW_REMINDER_QUEUE": queue,
            "CAREFLOW_SMS_BACKEND": "notifications.channels.sms.FileSmsBackend",
            "CAREFLOW_SMS_FILE_PATH": str(sms_dir),
            "CAREFLOW_TEST_EMAIL_DIR": str(mail_dir),
            **extra_env,
        },
    )
    return worker, queue, sms_dir, mail_dir
