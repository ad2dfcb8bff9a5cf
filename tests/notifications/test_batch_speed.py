"""Issue 16's dispatch speed: what a batch reads once, and what it gives back when late."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.channels import channel_for
from notifications.delivery.batch import deliver_claimed, drain_due
from notifications.delivery.messages import render_message, rendering_once
from notifications.models import Reminder
from tests.factories import PatientFactory
from tests.notifications.conftest import enroll, local

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)  # every episode's 2-week rows (patient and care team)


def _claimed(team, by, count, **patient):
    for _ in range(count):
        enroll(PatientFactory(care_team=team, **patient), by, onset=ONSET, on=ONSET)
    batches: list[tuple[list[int], str]] = []
    with CaptureQueriesContext(connection) as captured:
        drain_due(enqueue=lambda ids, claim: batches.append((ids, claim)))
    # The claim reads what it needs with its rows: no statement per row (a deferred field).
    sql = [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len([q for q in sql if "WHERE 0" not in q]) <= 10, sql  # SQLite's write lock aside
    return batches


@pytest.mark.parametrize(
    "name", ["Ana", "O'Brien", "Zoë & Li", "<b>x</b>", "Jean-Luc", "Ana\nB", " Ana "]
)
@pytest.mark.parametrize("channel", ["email", "sms"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_a_template_rendered_once_per_batch_gives_each_row_its_own_message(
    team, coordinator, name, channel, language
):
    patient = {"given_name": name, "language": language, "phone": "+15551230000"}
    enroll(PatientFactory(care_team=team, **patient), coordinator, onset=ONSET, on=ONSET)
    enroll(PatientFactory(care_team=team, language=language), coordinator, onset=ONSET, on=ONSET)
    rows = list(Reminder.objects.select_related("episode__patient", "episode__care_team"))
    Reminder.objects.filter(audience="patient").update(channel=channel)
    for row in rows:
        row.refresh_from_db(fields=["channel"])
    with time_machine.travel(DUE, tick=False):  # the check-in link's signature is timed
        alone = [render_message(row) for row in rows]
        with rendering_once():
            once = [render_message(row) for row in rows]
    assert once == alone
    assert channel_for(channel).name == channel


def _statements_for_a_batch_of(team, by, episodes: int) -> int:
    """Statements a batch of ``episodes`` x 2 email rows (one chunk) takes to deliver."""
    with time_machine.travel(DUE, tick=False):
        ((ids, claim),) = _claimed(team, by, episodes)
        Reminder.objects.filter(pk__in=ids).update(channel="email")
        with CaptureQueriesContext(connection) as captured:
            assert deliver_claimed(reminder_ids=ids, claim=claim).sent == len(ids)
    Reminder.objects.filter(pk__in=ids).update(status="cancelled")
    return sum(1 for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE")))


def test_a_batchs_statements_do_not_grow_with_its_rows(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 50
    # One read of the rows, one of the refused addresses, one chunk's begin and finish:
    # 2 and 8 rows (one chunk each) take the same statements.
    few = _statements_for_a_batch_of(team, coordinator, 1)
    assert _statements_for_a_batch_of(team, coordinator, 4) == few


def test_a_batch_out_of_time_gives_back_the_rows_it_has_not_begun(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 50
    settings.CAREFLOW_REMINDER_CHUNK_SMTP = 2
    settings.CAREFLOW_REMINDER_BATCH_SECONDS = -1  # out of time after the first chunk
    with time_machine.travel(DUE, tick=False):
        ((ids, claim),) = _claimed(team, coordinator, 3)  # 6 email rows: 3 chunks
        counts = deliver_claimed(reminder_ids=ids, claim=claim)
    assert (counts.sent, counts.released, counts.lost) == (2, 4, 0)
    statuses = sorted(Reminder.objects.filter(pk__in=ids).values_list("status", "attempts"))
    assert statuses == [("scheduled", 0)] * 4 + [("sent", 1)] * 2
    released = Reminder.objects.filter(pk__in=ids, status="scheduled")
    assert all(row.next_attempt_at == DUE and row.claim_token == "" for row in released)
