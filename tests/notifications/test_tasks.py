"""The tasks are thin and their messages carry reminder IDs and a claim token only."""

from __future__ import annotations

import json
from datetime import date

import time_machine

from notifications import tasks
from tests.clock import local
from tests.notifications.helpers import enroll, reminder

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)


def test_dispatch_enqueues_id_batches_on_the_reminder_queue_and_delivery_sends(
    settings, monkeypatch, patient, coordinator, django_capture_on_commit_callbacks
):
    settings.CAREFLOW_REMINDER_QUEUE = "reminders"
    episode = enroll(patient, coordinator, onset=ONSET, on=ONSET)
    sent: list[dict] = []
    monkeypatch.setattr(
        "notifications.tasks.deliver_reminders.apply_async", lambda **kw: sent.append(kw)
    )

    with (
        time_machine.travel(DUE, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        tasks.dispatch_due_reminders()

    assert len(callbacks) == 1  # published only once the claim committed
    (message,) = sent
    ids, claim = message["args"]
    assert message["queue"] == "reminders"
    assert sorted(ids) == sorted([reminder(episode).pk, reminder(episode, audience="care_team").pk])
    assert isinstance(claim, str)
    assert len(claim) == 32
    wire = json.dumps(message["args"])
    for detail in (patient.given_name, patient.family_name, patient.email, patient.phone):
        assert detail not in wire

    with time_machine.travel(DUE, tick=False):
        tasks.deliver_reminders(ids, claim)
    assert reminder(episode).status == "sent"
