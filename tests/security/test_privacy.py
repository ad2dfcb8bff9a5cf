"""Patient data stays out of logs, Celery messages and SMS bodies, for a whole episode.

A full episode's life — enrolment, facts, a red flag, a patient check-in, reminders
dispatched and delivered through the real task bodies, a transition — with every log
record (every logger, DEBUG and up) and every Celery message published to Redis captured,
then searched for the patient's names, birth date, phone number and email address.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from celery.signals import before_task_publish
from django.core import mail

from notifications.checkins.tokens import checkin_token_for
from notifications.models import Reminder
from notifications.tasks import deliver_reminders, dispatch_due_reminders
from tests.clients import client_for

GIVEN, FAMILY = "Zuleika", "Quattlebaum"
BIRTH, PHONE, EMAIL = "1961-03-17", "+15557654321", "zq.private@example.org"
SECRETS = [FAMILY, BIRTH, PHONE, EMAIL, "17/03/1961", "5557654321"]
DIAGNOSIS_WORDS = ["radiculopathy", "sciatica", "herniat", "cauda", "red flag", "disc"]
# 10:00 in New York: outside quiet hours, so SMS reminders go at once.
NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs():
    handler = Capture()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)
    ]
    previous = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler.lines
    for lg, level in previous:
        lg.removeHandler(handler)
        lg.setLevel(level)


@pytest.fixture
def published():
    messages: list[dict] = []

    def record(sender=None, body=None, headers=None, **_kwargs):
        messages.append({"task": sender, "body": body, "headers": headers})

    before_task_publish.connect(record, weak=False)
    yield messages
    before_task_publish.disconnect(record)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("captured_logs", "published")
def test_a_whole_episode_leaks_no_patient_data(request, settings, tmp_path, coordinator, clinician):
    captured_logs = request.getfixturevalue("captured_logs")
    published = request.getfixturevalue("published")
    settings.CAREFLOW_SMS_FILE_PATH = tmp_path / "sms"
    api, clinical = client_for(coordinator), client_for(clinician)
    with time_machine.travel(NOW, tick=True):
        patient = api.post(
            "/api/patients/",
            {
                "given_name": GIVEN,
                "family_name": FAMILY,
                "birth_date": BIRTH,
                "email": EMAIL,
                "phone": PHONE,
                "timezone": "America/New_York",
                "preferred_channel": "sms",
                "sms_consent": True,
            },
            format="json",
        ).json()
        episode = api.post(
            "/api/episodes/",
            {"patient": patient["id"], "symptom_onset": "2026-11-01", "radicular_pain": True},
            format="json",
        ).json()
        eid = episode["id"]
        api.post(f"/api/episodes/{eid}/assessments/", {"disabling_pain": True}, format="json")
        clinical.post(f"/api/episodes/{eid}/red-flags/", {"sign": "fever"}, format="json")
        reminder = Reminder.objects.get(episode_id=eid, milestone="2_weeks", audience="patient")
        page = api.post(  # the patient's own page needs no login: any client will do
            f"/check-in/{checkin_token_for(reminder)}/",
            {"overall": "worse", "disabling": "yes", "symptoms": ["saddle_numbness"]},
        )
        assert page.status_code == 200
        dispatch_due_reminders()  # the beat task's body: claims and publishes batches
        deliveries = [m for m in published if m["task"] == deliver_reminders.name]
        assert deliveries, "the dispatcher published no delivery"
        for message in deliveries:  # what a worker does with each message
            args = message["body"][0]
            deliver_reminders(*args)
        clinical.post(f"/api/episodes/{eid}/transitions/refer_to_specialist/", {}, format="json")
        api.get(f"/api/episodes/{eid}/timeline/")

    reminder.refresh_from_db()
    assert reminder.status == "sent"
    # The file backend writes one JSON envelope per message; what the patient reads is "body".
    envelopes = [
        json.loads(line)
        for path in Path(tmp_path / "sms").rglob("*")
        if path.is_file()
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    assert {e["to"] for e in envelopes} == {PHONE}
    sms_text = "\n".join(e["body"] for e in envelopes)
    assert GIVEN in sms_text
    for secret in SECRETS:
        assert secret not in sms_text
    for word in DIAGNOSIS_WORDS:
        assert word not in sms_text.lower()

    team_mail = [m for m in mail.outbox if EMAIL not in m.to]
    assert any(m.subject.startswith("URGENT: red flag") for m in team_mail)
    for message in team_mail:  # care-team notices name the episode, not the patient
        for secret in [GIVEN, *SECRETS]:
            assert secret not in message.subject + message.body

    log_text = "\n".join(captured_logs)
    assert "episode created" in log_text  # the capture works: our own records are in it
    for secret in [GIVEN, *SECRETS]:
        assert secret not in log_text, f"{secret!r} found in the logs"

    assert published, "no Celery message was captured"
    payloads = json.dumps(published, default=str)
    for secret in [GIVEN, *SECRETS]:
        assert secret not in payloads, f"{secret!r} found in a Celery message"
