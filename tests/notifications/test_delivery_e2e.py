"""End to end: a real Celery worker, real Redis, the test database; delivered exactly once.

The worker is another process: what it sent is read from the file backends it writes
(SMS: one JSON file per message; email: Django's file backend), and from the rows.
"""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from episodes import services
from notifications import tasks
from notifications.delivery.claims import drain_due
from notifications.models import Reminder
from tests.factories import PatientFactory
from tests.notifications.e2e import (
    daytime_zone,
    drain,
    email_messages,
    enrol_15_days_after_onset,
    file_delivery_worker,
    sms_files,
    wait_until_done,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def delivery(settings, tmp_path, celery_worker_factory):
    """A worker on its own queue, SMS and email to files under tmp_path."""
    return file_delivery_worker(celery_worker_factory, settings, tmp_path)


def _sms_patient(team):
    return PatientFactory(
        care_team=team,
        timezone=daytime_zone(),
        preferred_channel="sms",
        sms_consent=True,
        phone="+15557654321",
    )


def _due(episode) -> list[Reminder]:
    return list(Reminder.objects.filter(episode=episode, milestone="2_weeks").order_by("audience"))


def test_enrolled_15_days_after_onset_the_two_week_reminder_is_sent_once(
    delivery, team, coordinator
):
    worker, queue, sms_dir, mail_dir = delivery
    episode = enrol_15_days_after_onset(_sms_patient(team), coordinator)
    care_team, patient = _due(episode)

    # What beat does every minute, twice: the second run finds nothing left to send.
    tasks.dispatch_due_reminders.apply_async(queue=queue)
    tasks.dispatch_due_reminders.apply_async(queue=queue)
    wait_until_done([patient.pk, care_team.pk])
    drain(worker, queue)
    tasks.dispatch_due_reminders.apply_async(queue=queue)
    drain(worker, queue)

    patient.refresh_from_db()
    assert (patient.status, patient.attempts, patient.channel) == ("sent", 1, "sms")
    assert patient.provider_message_id.startswith("file-")
    assert sms_files(sms_dir) == {f"reminder-{patient.pk}": 1}
    assert email_messages(mail_dir) == {f"reminder-{care_team.pk}": 1}
    assert Reminder.objects.get(pk=care_team.pk).status == "sent"
    assert list(patient.deliveries.values_list("outcome", flat=True)) == ["sent"]
    # The later milestones are not due and stay scheduled.
    assert set(
        Reminder.objects.filter(episode=episode)
        .exclude(milestone="2_weeks")
        .values_list("status", flat=True)
    ) == {"scheduled"}


def test_two_dispatchers_at_once_still_send_each_reminder_once(
    settings, delivery, team, coordinator
):
    worker, queue, sms_dir, mail_dir = delivery
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 3  # many small batches: the two interleave
    episodes = [enrol_15_days_after_onset(_sms_patient(team), coordinator) for _ in range(12)]
    ids = [r.pk for e in episodes for r in _due(e)]
    start = threading.Barrier(2)
    claimed: list[list[int]] = [[], []]

    def dispatcher(n: int) -> None:
        # Each thread is a dispatcher with its own database connection.
        try:
            start.wait()
            for _ in range(3):
                cycle = drain_due(enqueue=tasks._enqueue_delivery)  # noqa: SLF001
                claimed[n].extend(pk for batch, _ in cycle.batches for pk in batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_until_done(ids)
    drain(worker, queue)

    # A worker that finishes a batch claims the next one itself, so the two
    # dispatchers need not claim every row: no row is claimed twice, and each is sent once.
    dispatched = claimed[0] + claimed[1]
    assert dispatched
    assert len(dispatched) == len(set(dispatched))
    assert set(dispatched) <= set(ids)
    assert set(claimed[0]).isdisjoint(claimed[1])
    sms = sms_files(sms_dir)
    mails = email_messages(mail_dir)
    assert set(sms.values()) == set(mails.values()) == {1}
    assert len(sms) + len(mails) == len(ids) == 24
    assert set(Reminder.objects.filter(pk__in=ids).values_list("status", "attempts")) == {
        ("sent", 1)
    }


def test_a_red_flag_alert_is_emailed_to_the_care_team_once(delivery, team, coordinator):
    worker, queue, _, mail_dir = delivery
    patient = PatientFactory(care_team=team, timezone=daytime_zone())
    today = datetime.now(ZoneInfo(patient.timezone)).date()
    episode = services.episode_create(patient=patient, by=coordinator, symptom_onset=today)

    flag = services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=coordinator)

    # No beat here: the alert's own on-commit dispatch is what sends it.
    alert = Reminder.objects.get(milestone=f"red_flag:{flag.pk}")
    wait_until_done([alert.pk])
    drain(worker, queue)
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("sent", 1)
    assert email_messages(mail_dir) == {f"reminder-{alert.pk}": 1}
    (log,) = mail_dir.glob("*.log")
    text = log.read_text()
    assert f"To: {team.email}" in text
    assert patient.family_name not in text
