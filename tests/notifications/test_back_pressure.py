"""No fixed cap per cycle: claims follow the workers, set-based delivery's writes."""

from __future__ import annotations

from datetime import date

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.delivery.batch import deliver_claimed
from notifications.delivery.claims import drain_due, top_up
from notifications.models import DeliveryAttempt, Reminder
from tests.clock import local
from tests.factories import PatientFactory
from tests.notifications.helpers import enroll

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)  # every episode's 2-week rows (patient and care team)


def _episodes(team, by, count):
    for _ in range(count):
        enroll(PatientFactory(care_team=team), by, onset=ONSET, on=ONSET)


def test_beat_claims_up_to_the_in_flight_ceiling_and_each_finished_batch_claims_more(
    settings, team, coordinator
):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 2
    settings.CAREFLOW_DISPATCH_MAX_IN_FLIGHT = 4
    _episodes(team, coordinator, 5)  # 10 rows due
    batches: list[tuple[list[int], str]] = []
    with time_machine.travel(DUE, tick=False):
        drain_due(enqueue=lambda ids, claim: batches.append((ids, claim)))
        assert Reminder.objects.filter(status="sending").count() == 4  # the ceiling
        assert len(batches) == 2
        drain_due(enqueue=lambda ids, claim: batches.append((ids, claim)))
        assert len(batches) == 2  # the next tick: no room, the workers hold enough
        # A worker finishes a batch and claims one in its place; until nothing is due.
        in_flight = []
        while batches:
            ids, claim = batches.pop(0)
            deliver_claimed(reminder_ids=ids, claim=claim)
            top_up(enqueue=lambda ids, claim: batches.append((ids, claim)))
            in_flight.append(Reminder.objects.filter(status="sending").count())
    assert in_flight == [4, 4, 4, 2, 0]  # never above the ceiling; the burst's tail
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent", "scheduled"}
    assert Reminder.objects.filter(status="sent").count() == 10


def test_a_finished_batch_claims_one_batch_in_its_place_without_counting(
    settings, team, coordinator
):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 2
    settings.CAREFLOW_DISPATCH_MAX_IN_FLIGHT = 4
    _episodes(team, coordinator, 5)
    batches: list[tuple[list[int], str]] = []
    with time_machine.travel(DUE, tick=False):
        with CaptureQueriesContext(connection) as queries:
            top_up(enqueue=lambda ids, claim: batches.append((ids, claim)))
        assert len(batches) == 1  # one batch, whatever is due
        assert len(batches[0][0]) == 2
        # The rows `sending` are not counted (a scan of a partial index full of the
        # burst's dead entries); beat's tick counts, once a minute.
        assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
        assert Reminder.objects.filter(status="sending").count() == 2


def test_a_chunk_is_begun_and_finished_in_a_fixed_number_of_statements(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 50
    settings.CAREFLOW_REMINDER_CHUNK_EMAIL = 50
    settings.CAREFLOW_REMINDER_CHUNK_SMTP = 50

    def statements(episodes: int) -> int:
        _episodes(team, coordinator, episodes)
        batches: list[tuple[list[int], str]] = []
        with time_machine.travel(DUE, tick=False):
            drain_due(enqueue=lambda ids, claim: batches.append((ids, claim)))
            ((ids, claim),) = batches
            Reminder.objects.filter(pk__in=ids, audience="patient").update(channel="email")
            with CaptureQueriesContext(connection) as queries:
                counts = deliver_claimed(reminder_ids=ids, claim=claim)
        assert counts.sent == len(ids)
        Reminder.objects.filter(status="sent").update(status="cancelled")
        return len([q for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))])

    # Rendering reads per row (check-in links, unusable addresses) aside, the begin and
    # finish writes do not grow with the chunk: compare 2 and 8 rows' statements.
    few, many = statements(1), statements(4)
    per_row_reads = (many - few) / 6
    assert per_row_reads <= 2, (few, many)
    assert DeliveryAttempt.objects.filter(outcome="sent").count() == 10
