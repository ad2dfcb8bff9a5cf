"""Care-team alerts are claimed before any routine reminder, in batches of their own.

An alert is a reminder whose milestone starts with ``RED_FLAG_MILESTONE_PREFIX``
(``Reminder.alert``, computed by the database). Every claim path takes the due alerts
first: a cycle, beat's drain (even with no room left under the in-flight ceiling) and a
worker's top-up.
"""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from django.db import connection, transaction

from episodes import services
from notifications.delivery.claims import (
    DispatchCounts,
    claim_and_enqueue,
    drain_due,
    due_picks,
    top_up,
)
from notifications.models import Reminder, is_alert
from tests.clock import local
from tests.factories import PatientFactory
from tests.notifications.helpers import enroll

ONSET = date(2026, 3, 2)
DUE = local(date(2026, 3, 16), 9)  # the routine rows: every episode's 2-week reminders
RAISED = DUE + timedelta(minutes=2)  # the alert: two minutes after them (within a lease)


def _routine(team, by, episodes: int) -> list[int]:
    """The due rows' IDs, oldest first (the care team's 09:00 UTC, then the patients')."""
    for _ in range(episodes):
        enroll(PatientFactory(care_team=team), by, onset=ONSET, on=ONSET)
    rows = Reminder.objects.filter(milestone="2_weeks").order_by("next_attempt_at", "id")
    return list(rows.values_list("pk", flat=True))


def _alert(team, by) -> Reminder:
    # An episode of its own, whose reminders are not due: only its alert is.
    on = date(2026, 3, 14)
    episode = enroll(PatientFactory(care_team=team), by, onset=on, on=on)
    with time_machine.travel(RAISED, tick=False):
        flag = services.red_flag_raise(episode_id=episode.pk, sign="saddle_anesthesia", by=by)
    return Reminder.objects.get(milestone=f"red_flag:{flag.pk}")


class Handed:
    """What a claim path handed on: the routine batches and the alert batches apart."""

    def __init__(self) -> None:
        self.routine: list[list[int]] = []
        self.alerts: list[list[int]] = []

    def enqueue(self, ids: list[int], _claim: str) -> None:
        self.routine.append(ids)

    def enqueue_alerts(self, ids: list[int], _claim: str) -> None:
        self.alerts.append(ids)


def test_a_due_alert_is_claimed_before_older_routine_rows_in_a_batch_of_its_own(
    settings, team, coordinator
):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 4
    routine = _routine(team, coordinator, 5)  # 10 rows, due before the alert
    alert = _alert(team, coordinator)
    handed, counts = Handed(), DispatchCounts()

    with time_machine.travel(RAISED + timedelta(minutes=1), tick=False):
        for _ in range(2):
            claim_and_enqueue(
                enqueue=handed.enqueue,
                enqueue_alerts=handed.enqueue_alerts,
                now=None,
                counts=counts,
            )

    assert handed.alerts == [[alert.pk]]
    assert handed.routine == [sorted(routine[:4])]  # then the oldest routine rows, as before
    assert counts.alerts == 1


def test_without_an_alert_due_the_routine_rows_go_oldest_first(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 4
    routine = _routine(team, coordinator, 5)
    alert = _alert(team, coordinator)
    handed = Handed()

    # Before the alert is due: nothing of it is claimed.
    with time_machine.travel(RAISED - timedelta(minutes=1), tick=False):
        claim_and_enqueue(
            enqueue=handed.enqueue,
            enqueue_alerts=handed.enqueue_alerts,
            now=None,
            counts=DispatchCounts(),
        )

    assert (handed.alerts, handed.routine) == ([], [sorted(routine[:4])])
    assert Reminder.objects.get(pk=alert.pk).status == "scheduled"


def test_an_alert_is_any_milestone_with_the_prefix_whoever_writes_the_row(
    settings, team, coordinator
):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 4
    routine = _routine(team, coordinator, 2)
    episode = Reminder.objects.get(pk=routine[0]).episode
    report = Reminder.objects.create(
        episode=episode,
        milestone="red_flag:report:7",  # another kind of alert, written its own way
        audience="care_team",
        channel="email",
        milestone_date=DUE.date(),
        due_at=RAISED,
        next_attempt_at=RAISED,
    )
    handed = Handed()

    rows = Reminder.objects.filter(pk__in=[report.pk, *routine]).order_by("pk")
    assert list(rows.values_list("pk", "alert")) == [
        (pk, pk == report.pk) for pk in sorted([report.pk, *routine])
    ]
    assert all(
        is_alert(milestone) == alert for milestone, alert in rows.values_list("milestone", "alert")
    )
    with time_machine.travel(RAISED, tick=False):
        claim_and_enqueue(
            enqueue=handed.enqueue,
            enqueue_alerts=handed.enqueue_alerts,
            now=None,
            counts=DispatchCounts(),
        )
    assert (handed.alerts, handed.routine) == ([[report.pk]], [])


def test_beat_claims_an_alert_with_no_room_left_and_no_routine_row(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 2
    settings.CAREFLOW_DISPATCH_MAX_IN_FLIGHT = 4
    _routine(team, coordinator, 5)
    handed = Handed()
    with time_machine.travel(DUE, tick=False):
        drain_due(enqueue=handed.enqueue, enqueue_alerts=handed.enqueue_alerts)
    assert Reminder.objects.filter(status="sending").count() == 4  # the ceiling
    alert = _alert(team, coordinator)

    with time_machine.travel(RAISED, tick=False):
        drain_due(enqueue=handed.enqueue, enqueue_alerts=handed.enqueue_alerts)

    assert handed.alerts == [[alert.pk]]
    assert len(handed.routine) == 2  # the first tick's; none more: the workers hold enough
    assert Reminder.objects.filter(status="sending").count() == 5


def test_a_top_up_claims_the_alert_first_then_its_one_routine_batch(settings, team, coordinator):
    settings.CAREFLOW_REMINDER_BATCH_SIZE = 2
    routine = _routine(team, coordinator, 5)
    alert = _alert(team, coordinator)
    handed = Handed()

    with time_machine.travel(RAISED, tick=False):
        top_up(enqueue=handed.enqueue, enqueue_alerts=handed.enqueue_alerts)

    assert handed.alerts == [[alert.pk]]
    assert handed.routine == [sorted(routine[:2])]  # the batch in the finished one's place


def test_the_alerts_are_read_through_their_own_partial_index(team, coordinator):
    _alert(team, coordinator)
    alerts, routine = due_picks(RAISED)
    with transaction.atomic(), connection.cursor() as cursor:
        # Tiny tables would be scanned whole; forbid that to see the indexes are usable.
        cursor.execute("SET LOCAL enable_seqscan = off")
        alerts_plan, routine_plan = alerts.explain(), routine.explain()
    assert "reminder_alert_due" in alerts_plan
    assert "reminder_due_scheduled" in routine_plan
