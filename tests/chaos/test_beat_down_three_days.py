"""Fault: beat stopped for three days, then started again.

A real beat (1 s tick, DatabaseScheduler) and worker run with nothing due, then beat is
stopped. The three days are simulated by moving the reminders' times into the past, as
they would stand when beat returns: rows that fell due during the outage (2 hours to 3
days late), one that was already waiting before it (6 days 20 hours late) and two whose
lateness passed the 7-day rule meanwhile (7 days 4 hours, 10 days). A new beat starts; its
first cycles find every due row. Counted afterwards: each row at most 7 days late
delivered once, the others skipped with the reason, never sent, and listed in the care
team's ``delivery_failures`` queue.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Reminder
from notifications.selectors import queue_delivery_failures
from tests.chaos.harness import (
    check_and_record,
    due_rows,
    sms_patient_episodes,
    wait_for,
    wait_until_done,
)

pytestmark = pytest.mark.chaos
# How late each episode's two reminders are when beat comes back.
LATENESS = [
    timedelta(hours=2),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=3),
    timedelta(days=6, hours=20),  # due before the outage, waiting on a retry: still sent
    timedelta(days=7, hours=4),  # past the 7-day rule: skipped
    timedelta(days=10),  # skipped
]
OUTAGE = timedelta(days=3)
STALE_AFTER = timedelta(days=7)


def test_beat_down_three_days_sends_what_is_due_and_skips_what_is_stale(rig, team, coordinator):
    episodes = sms_patient_episodes(team, coordinator, len(LATENESS))
    rows = due_rows(episodes)
    tomorrow = timezone.now() + timedelta(days=1)
    Reminder.objects.filter(pk__in=[r.pk for r in rows]).update(
        due_at=tomorrow, next_attempt_at=tomorrow
    )
    rig.worker("worker")
    first_beat = rig.beat("beat-before")
    wait_for(
        lambda: first_beat.log().count("Sending due task dispatch-reminders") >= 2,
        timeout=60,
        what="beat's first ticks",
    )
    first_beat.stop()
    assert rig.provider.calls == []  # nothing was due while beat ran

    # Three days pass with beat stopped.
    now = timezone.now()
    for episode, late in zip(episodes, LATENESS, strict=True):
        due = now - late
        # A row due before the outage was waiting for a retry that fell inside it.
        waiting_until = max(due, now - OUTAGE + timedelta(days=1))
        Reminder.objects.filter(episode=episode, milestone="2_weeks").update(
            due_at=due, next_attempt_at=waiting_until
        )
    stale = {r.pk for r in due_rows(episodes) if now - r.due_at > STALE_AFTER}
    assert len(stale) == 4  # two episodes, two audiences each

    rig.beat("beat-after")
    wait_until_done([r.pk for r in rows], timeout=90)

    figures = check_and_record(
        "beat_down_three_days",
        rows,
        rig.provider,
        rig.mail_dir,
        stale=stale,
        notes={"lateness_hours": [late / timedelta(hours=1) for late in LATENESS]},
    )
    assert (figures.delivered_once, figures.skipped_stale) == (10, 4)
    skipped = Reminder.objects.filter(pk__in=stale)
    assert set(skipped.values_list("status_reason", flat=True)) == {
        "more than 7 days late when it would go out"
    }
    # Visible to the care team: the two episodes head its delivery_failures queue.
    failing = set(queue_delivery_failures(user=coordinator).values_list("pk", flat=True))
    assert failing == {
        e.pk for e, late in zip(episodes, LATENESS, strict=True) if late > STALE_AFTER
    }
