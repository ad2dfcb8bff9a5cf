"""A batch's rows as plain values: what delivery reads, without ORM objects."""

from __future__ import annotations

from datetime import date

import time_machine
from django.db.models.signals import pre_init

from episodes.models import CareTeam, Episode, Patient
from notifications.channels import channel_for
from notifications.delivery.batch import deliver_claimed
from notifications.delivery.claims import drain_due
from notifications.delivery.messages import recipient_of, render_message
from notifications.delivery.rows import COLUMNS, delivery_rows, read_columns
from notifications.models import DeliveryAttempt, Reminder
from notifications.services import reminder_why_not
from tests.clock import local
from tests.factories import PatientFactory
from tests.notifications.helpers import enroll

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)


def test_a_plain_row_reads_as_its_reminder_does(team, coordinator):
    enroll(PatientFactory(care_team=team, language="es"), coordinator, onset=ONSET, on=ONSET)
    sms = PatientFactory(care_team=team, phone="+15551230000", sms_consent=True)
    enroll(sms, coordinator, onset=ONSET, on=ONSET)
    Reminder.objects.filter(episode__patient=sms, audience="patient").update(channel="sms")
    models = list(Reminder.objects.select_related("episode__patient", "episode__care_team"))
    plain = delivery_rows([row.pk for row in models])
    assert sorted(plain) == sorted(row.pk for row in models)
    with time_machine.travel(DUE, tick=False):  # the check-in link's signature is timed
        for row in models:
            values = plain[row.pk]
            for name in ("pk", "episode_id", "milestone", "audience", "channel", "attempts"):
                assert getattr(values, name) == getattr(row, name)
            assert values.episode.state == row.episode.state
            channel = channel_for(row.channel)
            assert recipient_of(values, channel) == recipient_of(row, channel)
            assert channel.why_not(values.episode.patient) == channel.why_not(row.episode.patient)
            assert reminder_why_not(values) == reminder_why_not(row)
            assert render_message(values) == render_message(row)


def test_a_batch_builds_no_reminder_episode_patient_or_team(team, coordinator):
    """Nor an attempt object: one statement begins a chunk."""
    models = [Reminder, Episode, Patient, CareTeam, DeliveryAttempt]
    for _ in range(3):
        enroll(PatientFactory(care_team=team), coordinator, onset=ONSET, on=ONSET)
    built: list[type] = []

    def count(sender, **kwargs):
        built.append(sender)

    with time_machine.travel(DUE, tick=False):
        batches: list[tuple[list[int], str]] = []
        drain_due(enqueue=lambda ids, claim: batches.append((ids, claim)))
        for model in models:
            pre_init.connect(count, sender=model)
        try:
            sent = sum(deliver_claimed(reminder_ids=ids, claim=c).sent for ids, c in batches)
        finally:
            for model in models:
                pre_init.disconnect(count, sender=model)
    assert sent == Reminder.objects.filter(status="sent").count() > 0
    assert built == []


def test_the_batch_read_gives_what_values_list_gives(team, coordinator):
    """The read is the ORM's statement compiled once, ids as one array."""
    enroll(PatientFactory(care_team=team, language="es"), coordinator, onset=ONSET, on=ONSET)
    sms = PatientFactory(care_team=team, phone="+15551230000", sms_consent=True)
    enroll(sms, coordinator, onset=ONSET, on=ONSET)
    ids = list(Reminder.objects.values_list("pk", flat=True))
    expected = sorted(Reminder.objects.filter(pk__in=ids).values_list(*COLUMNS))
    got = sorted(tuple(row) for row in read_columns(ids))
    assert got == expected
    assert [[type(value) for value in row] for row in got] == [
        [type(value) for value in row] for row in expected
    ]
    assert list(read_columns(ids[:1])) == [row for row in expected if row[0] == ids[0]]
    assert list(read_columns([])) == []
