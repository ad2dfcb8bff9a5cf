"""Helpers for the reminder tests: enrol an episode at a moment, run a cycle, a fake Twilio."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine

from episodes import services
from notifications.delivery.batch import deliver_batch
from notifications.delivery.dispatch import DeliveryCounts, dispatch_cycle
from notifications.models import Reminder
from tests.notifications.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
)

NY = ZoneInfo("America/New_York")
# The address Twilio is given for our webhooks (and signs): the test client's host.
PUBLIC_BASE_URL = "http://testserver"
INBOUND_URL = f"{PUBLIC_BASE_URL}/webhooks/twilio/inbound/"


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def enroll(patient, by, *, onset: date, on: date, hour: int = 10, **facts):
    """Create an episode at ``hour`` local time on ``on`` (the enrolment date)."""
    zone = ZoneInfo(patient.timezone)
    with time_machine.travel(local(on, hour, zone=zone), tick=False):
        return services.episode_create(patient=patient, by=by, symptom_onset=onset, **facts)


def reminder(episode, milestone="2_weeks", audience="patient") -> Reminder:
    return Reminder.objects.get(episode=episode, milestone=milestone, audience=audience)


def run_cycle(at: datetime) -> tuple[object, DeliveryCounts]:
    """One cycle at ``at`` with the batches delivered in this process (task bodies)."""
    delivered = DeliveryCounts()
    with time_machine.travel(at, tick=False):
        cycle = dispatch_cycle(
            enqueue=lambda ids, claim: delivered.add(deliver_batch(reminder_ids=ids, claim=claim))
        )
    return cycle, delivered


def claim_only(at: datetime) -> list[tuple[list[int], str]]:
    """One cycle at ``at`` that claims but delivers nothing (a worker that never ran)."""
    batches: list[tuple[list[int], str]] = []
    with time_machine.travel(at, tick=False):
        dispatch_cycle(enqueue=lambda ids, claim: batches.append((ids, claim)))
    return batches


def text_us(client, twilio, number: str, body: str, *, again: object = None):
    """The phone at ``number`` texts ``body`` to our number: Twilio's signed webhook, posted.

    ``again``: a callback already posted, posted once more (Twilio retrying it).
    """
    callback = again or twilio.incoming(from_=number, body=body, url=INBOUND_URL)
    response = client.post(
        callback.url.removeprefix(PUBLIC_BASE_URL),
        data=urlencode(callback.params),
        content_type="application/x-www-form-urlencoded",
        headers=callback.headers,
    )
    assert response.status_code == 200, response.content
    return callback


@pytest.fixture
def twilio(settings, fake_twilio):
    """SMS through TwilioSmsBackend to the fake server."""
    settings.CAREFLOW_SMS_BACKEND = "notifications.channels.sms.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_BASE_URL = fake_twilio.url
    settings.TWILIO_STATUS_CALLBACK_URL = f"{PUBLIC_BASE_URL}/webhooks/twilio/status/"
    settings.CAREFLOW_PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.CAREFLOW_SMS_TIMEOUT_SECONDS = 2
    return fake_twilio


@pytest.fixture
def sms_patient(team):
    from tests.factories import PatientFactory  # noqa: PLC0415 - needs the app registry

    return PatientFactory(
        care_team=team, preferred_channel="sms", sms_consent=True, phone="+15557654321"
    )


ONE_DAY = timedelta(days=1)
