"""End to end: a red flag raised while a burst drains is sent before the burst's backlog.

A real Celery worker (solo pool) against real Redis and the test database drains routine
reminders due in bulk, through beat's path (the drain, then each finished batch topping
up). A red flag is raised once the first batches are sent; its alert to the care team is
claimed by the next top-up, ahead of every routine row, and sent by that worker at once.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from episodes import services
from notifications import tasks
from notifications.models import Reminder
from tests.factories import PatientFactory
from tests.notifications.e2e import (
    daytime_zone,
    drain,
    enrol_15_days_after_onset,
    new_queue,
    wait_until_done,
)

pytestmark = pytest.mark.django_db(transaction=True)

BATCH = 4
EPISODES = 75  # 150 routine rows due: 38 batches


@pytest.fixture
def burst_worker(settings, tmp_path, celery_worker_factory):
    queue = new_queue()
    settings.CAREFLOW_REMINDER_QUEUE = queue  # where the alert's dispatch request goes
    worker = celery_worker_factory(
        queue=queue,
        extra_env={
            "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
            "CAREFLOW_REMINDER_QUEUE": queue,
            "CAREFLOW_TEST_EMAIL_DIR": str(tmp_path / "mail"),
            "CAREFLOW_REMINDER_BATCH_SIZE": str(BATCH),
            "CAREFLOW_DISPATCH_MAX_IN_FLIGHT": str(4 * BATCH),
        },
    )
    return worker, queue


def _wait_until_sent(ids: list[int], count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while Reminder.objects.filter(pk__in=ids, status="sent").count() < count:
        if time.monotonic() > deadline:
            pytest.fail(f"fewer than {count} reminders sent within {timeout} s")
        time.sleep(0.02)


def test_an_alert_raised_mid_burst_goes_within_a_batch_not_after_the_backlog(
    burst_worker, team, coordinator
):
    worker, queue = burst_worker
    episodes = [
        enrol_15_days_after_onset(
            PatientFactory(care_team=team, timezone=daytime_zone()), coordinator
        )
        for _ in range(EPISODES)
    ]
    routine = list(
        Reminder.objects.filter(episode__in=episodes, milestone="2_weeks").values_list(
            "pk", flat=True
        )
    )
    assert len(routine) == 2 * EPISODES
    patient = PatientFactory(care_team=team, timezone=daytime_zone())
    today = datetime.now(ZoneInfo(patient.timezone)).date()
    flagged = services.episode_create(patient=patient, by=coordinator, symptom_onset=today)

    tasks.dispatch_due_reminders.apply_async(queue=queue)  # beat's tick starts the drain
    _wait_until_sent(routine, 2 * BATCH)
    flag = services.red_flag_raise(episode_id=flagged.pk, sign="saddle_anesthesia", by=coordinator)
    alert = Reminder.objects.get(milestone=f"red_flag:{flag.pk}")
    wait_until_done([*routine, alert.pk], timeout=120)
    drain(worker, queue)

    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("sent", 1)
    sent = Reminder.objects.filter(pk__in=routine)
    assert set(sent.values_list("status", flat=True)) == {"sent"}
    left = sent.filter(sent_at__gt=alert.created_at).count()
    assert left > 4 * BATCH, f"only {left} rows were left when the alert was written"
    # The alert went before the backlog was finished: routine rows were sent after it.
    assert sent.filter(sent_at__gt=alert.sent_at).exists()
    # Sent after the alert was written and before it: what was left of the batch under way,
    # and at most one more, whose claim began before the alert's transaction committed.
    between = sent.filter(sent_at__gt=alert.created_at, sent_at__lt=alert.sent_at).count()
    assert between <= 2 * BATCH, (between, left)
