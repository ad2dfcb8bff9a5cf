"""Helpers for the reminder tests: enrol an episode at a moment, run a cycle, text us."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import time_machine

from notifications.delivery.attempts import DeliveryCounts
from notifications.delivery.batch import deliver_claimed
from notifications.delivery.claims import DispatchCounts, drain_due
from notifications.models import Reminder
from tests.clock import local
from tests.factories import EpisodeFactory

# The address Twilio is given for our webhooks (and signs): the test client's host.
PUBLIC_BASE_URL = "http://testserver"
INBOUND_URL = f"{PUBLIC_BASE_URL}/webhooks/twilio/inbound/"


def enroll(patient, by, *, onset: date, on: date, hour: int = 10, **facts):
    """Create an episode at ``hour`` local time on ``on`` (the enrolment date)."""
    return EpisodeFactory(
        patient=patient,
        by=by,
        symptom_onset=onset,
        conservative_care_start=facts.pop("conservative_care_start", None),
        at=local(on, hour, zone=ZoneInfo(patient.timezone)),
        **facts,
    )


def reminder(episode, milestone="2_weeks", audience="patient") -> Reminder:
    return Reminder.objects.get(episode=episode, milestone=milestone, audience=audience)


def run_cycle(at: datetime) -> tuple[DispatchCounts, DeliveryCounts]:
    """Beat's cycle at ``at`` with the batches delivered in this process (task bodies)."""
    delivered = DeliveryCounts()
    with time_machine.travel(at, tick=False):
        cycle = drain_due(
            enqueue=lambda ids, claim: delivered.add(deliver_claimed(reminder_ids=ids, claim=claim))
        )
    return cycle, delivered


def claim_only(at: datetime) -> list[tuple[list[int], str]]:
    """Beat's cycle at ``at``, claiming but delivering nothing (a worker that never ran)."""
    batches: list[tuple[list[int], str]] = []
    with time_machine.travel(at, tick=False):
        drain_due(enqueue=lambda ids, claim: batches.append((ids, claim)))
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
